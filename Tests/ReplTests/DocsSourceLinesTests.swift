// Every source line the docs quote (`FibServer.swift:128`, as corepl prints where a task
// waits) is still that line: README.md and docs/*.md cannot keep a `File.swift:N` that the
// code has moved away from.
//
// A quote is judged by what the document says of it. corepl prints a location only where a
// task suspended, so the line must hold an `await`; and where the document's line says what
// the task waits on — `waits recv fd 7 (accept)   FibServer.swift:128`, `waits future 1
// (pool)`, `waits channel_send jobs full` — the line must make that call (`accept(`,
// `pool.`, `send(`). A file is found by its name under Sources/ and examples/ (exactly one
// must have it); `(FibService/FibServer.swift)` after a quote must be that file's path.
import Foundation
import Testing

@Suite struct DocsSourceLinesTests {
    static let root = DocsCommandsTests.root

    /// One `File.swift:N` in a document.
    struct Quote: CustomStringConvertible {
        var document: String
        /// The document's line number (from 1) and text.
        var line: Int
        var text: String
        var file: String
        var number: Int
        /// Where in `text` the quote is.
        var range: Range<String.Index>

        var description: String { "\(document):\(line): \(file):\(number)" }

        /// What the document's line says the task waits on at this location, as the calls
        /// that wait so: the last `waits …` clause before the quote.
        var claimedCalls: (what: String, calls: [String])? {
            let before = text[..<range.lowerBound]
            guard let waits = before.ranges(of: "waits ").last else { return nil }
            let clause = before[waits.upperBound...]
            // `(accept)`, `(connect)`, `(recv)`, `(send)`, `(pool)`: the operation.
            if let open = clause.firstIndex(of: "("), let close = clause[open...].firstIndex(of: ")") {
                let operation = String(clause[clause.index(after: open)..<close])
                if let calls = Self.calls[operation] { return (operation, calls) }
            }
            // A host's queue (`channel_send jobs full`): its kind says which way.
            let kind = clause.prefix { !$0.isWhitespace }
            if kind.hasSuffix("send") { return (String(kind), Self.calls["send"]!) }
            if kind.hasSuffix("recv") { return (String(kind), Self.calls["recv"]!) }
            return nil
        }

        /// The calls that make each wait corepl names.
        static let calls: [String: [String]] = [
            "accept": ["accept("],
            "connect": ["connect("],
            "recv": ["recv(", "receive(", ".next("],
            "send": ["send(", "send(all:"],
            "pool": ["pool."],
        ]

        /// The path a `show` view gives after the quote (`(FibService/FibServer.swift)`).
        var claimedPath: String? {
            let after = text[range.upperBound...].drop { $0 == " " }
            guard after.first == "(", let close = after.firstIndex(of: ")") else { return nil }
            let path = after[after.index(after: after.startIndex)..<close]
            return path.hasSuffix("/" + file) ? String(path) : nil
        }
    }

    static func quotes(in markdown: String, document: String) -> [Quote] {
        var found: [Quote] = []
        for (i, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = String(line)
            for match in text.matches(of: /([A-Za-z0-9_+]+\.swift):([0-9]+)/) {
                found.append(Quote(document: document, line: i + 1, text: text, file: String(match.output.1),
                                   number: Int(match.output.2)!, range: match.range))
            }
        }
        return found
    }

    /// Every Swift file under Sources/ and examples/, as paths relative to the root.
    static let sourceFiles: [String] = {
        var files: [String] = []
        for top in ["Sources", "examples"] {
            guard let walk = FileManager.default.enumerator(atPath: root.appendingPathComponent(top).path) else { continue }
            while let path = walk.nextObject() as? String {
                if path.hasPrefix(".build") || path.contains("/.build") { walk.skipDescendants(); continue }
                if path.hasSuffix(".swift") { files.append(top + "/" + path) }
            }
        }
        return files
    }()

    /// What is wrong with `quote`, or nil when the line it names is what the document says.
    static func problem(with quote: Quote) -> String? {
        let candidates = sourceFiles.filter { ($0 as NSString).lastPathComponent == quote.file }
        guard candidates.count == 1 else {
            return candidates.isEmpty ? "no \(quote.file) under Sources/ or examples/"
                : "\(quote.file) names \(candidates.count) files: \(candidates.joined(separator: ", "))"
        }
        let path = candidates[0]
        if let claimed = quote.claimedPath, !path.hasSuffix("/" + claimed) {
            return "the document says \(claimed); the file is \(path)"
        }
        guard let source = try? String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) else {
            return "cannot read \(path)"
        }
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard quote.number >= 1, quote.number <= lines.count else {
            return "\(path) has \(lines.count) lines, not \(quote.number)"
        }
        let code = lines[quote.number - 1].trimmingCharacters(in: .whitespaces)
        guard code.contains("await ") else {
            return "\(path):\(quote.number) is `\(code)`: no await there, so no task waits at it"
        }
        if let claim = quote.claimedCalls, !claim.calls.contains(where: { code.contains($0) }) {
            return "\(path):\(quote.number) is `\(code)`, which is no wait on \(claim.what) (\(claim.calls.joined(separator: " or ")))"
        }
        return nil
    }

    @Test func everyQuotedSourceLineIsTheLineTheDocsDescribe() throws {
        var all: [Quote] = []
        for document in DocsCommandsTests.documents {
            let text = try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)
            all += Self.quotes(in: text, document: document)
        }
        // The docs do quote lines (README's taste, the tutorial's steps): a reader that
        // found none would pass on nothing.
        #expect(all.count >= 10, "found \(all.count) quotes: \(all)")
        #expect(all.contains { $0.document == "README.md" } && all.contains { $0.document == "docs/TUTORIAL.md" })
        #expect(all.filter { $0.claimedCalls != nil }.count >= all.count / 2, "most quotes say what waits there")
        for quote in all {
            if let problem = Self.problem(with: quote) {
                Issue.record("\(quote): \(problem)")
            }
        }
    }

    /// The judge itself: a quote is refused when its line is not the wait it claims.
    @Test func aQuoteThatNamesTheWrongLineIsRefused() throws {
        let server = "Sources/FibService/FibServer.swift"
        let lines = try String(contentsOf: Self.root.appendingPathComponent(server), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        let accept = try #require(lines.firstIndex { $0.contains("await") && $0.contains("accept(") }) + 1
        let send = try #require(lines.firstIndex { $0.contains("await") && $0.contains("send(") }) + 1
        func judge(_ line: String) -> String? {
            guard let quote = Self.quotes(in: line, document: "test.md").first else { return "no quote found" }
            return Self.problem(with: quote)
        }
        #expect(judge("#1 task 1 (server) started → waits recv fd 7 (accept)   FibServer.swift:\(accept)") == nil)
        #expect(judge("#1 task 1 (server) started → waits recv fd 7 (accept)   FibServer.swift:\(send)")?.contains("no wait on accept") == true)
        #expect(judge("#1 task 1 (server) started → waits recv fd 7 (accept)   FibServer.swift:1")?.contains("no await") == true)
        #expect(judge("the server, FibServer.swift:\(lines.count + 5)")?.contains("has \(lines.count) lines") == true)
        #expect(judge("where     FibServer.swift:\(accept) (FibPack/FibServer.swift)")?.contains("the file is \(server)") == true)
        #expect(judge("see Nowhere.swift:3") == "no Nowhere.swift under Sources/ or examples/")
    }
}
