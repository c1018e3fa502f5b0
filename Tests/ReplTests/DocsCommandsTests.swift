// Every command the docs show at a corepl prompt parses, so README.md and docs/*.md cannot
// drift from the command table unnoticed. The judge is the table of a session as `corepl`
// makes it (the core commands and the fib pack): an unknown command, an unknown task kind,
// an unknown option or a bad argument fails, naming the document and its line.
//
// What counts as shown: in a fenced block, a line after a prompt — `> CMD`, or a bracketed
// one such as `[paused #0] > CMD` or `[past #6 of #16, random --seed 1] > CMD` — and every
// line of a block tagged `repl` (script lines). Only parsing happens: nothing runs, the
// loop takes no step and no socket is opened. Checks a command makes only when it runs
// (a task that must exist, `run`'s and `expect`'s grammar) are not judged here.
import ArgumentParser
import FibPack
import Foundation
@testable import Repl
import Testing

@Suite struct DocsCommandsTests {
    /// The repository's root (this file is Tests/ReplTests/DocsCommandsTests.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized

    /// README.md and every docs/*.md, as paths relative to the root.
    static let documents: [String] = {
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)) ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
    }()

    /// One command line a document shows.
    struct Shown: Equatable {
        var line: Int
        var command: String
    }

    /// The command lines `markdown` shows at a prompt or in a `repl` block, with their
    /// line numbers (from 1).
    static func shownCommands(in markdown: String) -> [Shown] {
        var shown: [Shown] = []
        var fence: (marker: String, info: String)?
        for (i, raw) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.drop { $0 == " " || $0 == "\t" }
            if let open = fence {
                if line.hasPrefix(open.marker) && line.dropFirst(open.marker.count).allSatisfy({ $0 == " " }) {
                    fence = nil
                } else if open.info == "repl" {
                    if !line.isEmpty && !line.hasPrefix("#") { shown.append(Shown(line: i + 1, command: String(line))) }
                } else if let command = afterPrompt(line) {
                    shown.append(Shown(line: i + 1, command: command))
                }
            } else if line.hasPrefix("```") || line.hasPrefix("~~~") {
                let marker = String(line.prefix(while: { $0 == line.first }))
                fence = (marker, line.dropFirst(marker.count).trimmingCharacters(in: .whitespaces))
            }
        }
        return shown
    }

    /// The command after a prompt at the start of `line` (`> CMD`, `[…] > CMD`), or nil.
    static func afterPrompt(_ line: Substring) -> String? {
        var rest = line
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            rest = rest[rest.index(after: close)...].drop { $0 == " " }
        }
        guard rest.hasPrefix("> ") else { return nil }
        let command = rest.dropFirst(2).trimmingCharacters(in: .whitespaces)
        return command.isEmpty ? nil : command
    }

    /// Why `line` does not parse with `registry`, or nil when every command of it does.
    /// The resolution `Session.run` makes (`CommandRegistry.parse`: name or alias, `spawn
    /// KIND` through the task kinds, `--help` shown rather than parsed), stopping before
    /// anything runs.
    static func problem(parsing line: String, with registry: CommandRegistry) -> String? {
        let commands: [CommandWords]
        do {
            commands = try Tokenizer.commands(in: line)
        } catch {
            return "\(error)"
        }
        if commands.isEmpty { return "no command" }
        for command in commands {
            if let problem = problem(parsing: command.words, with: registry) { return problem }
        }
        return nil
    }

    static func problem(parsing words: [String], with registry: CommandRegistry) -> String? {
        if words.first == "spawn" {
            // `spawn` itself takes any words and fails only when it runs: a kind must resolve.
            let kinds = registry.taskKinds.map(\.name).joined(separator: ", ")
            guard let word = words.dropFirst().first else { return "spawn needs a kind (\(kinds))" }
            guard registry.taskKind(word) != nil else { return "no task kind '\(word)' (\(kinds))" }
        }
        do {
            _ = try registry.parse(words)
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The command table of a session as `corepl` makes it. The session's loop takes no step.
    static func corepl() throws -> CommandRegistry {
        let session = try Session(output: ReplOutput.capturing().0)
        session.install(FibPack())
        return session.registry
    }

    @Test(arguments: documents)
    func everyCommandShownAtAPromptParses(document: String) throws {
        let registry = try Self.corepl()
        let text = try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)
        let failures = Self.shownCommands(in: text).compactMap { shown -> String? in
            guard let problem = Self.problem(parsing: shown.command, with: registry) else { return nil }
            return "\(document):\(shown.line): `\(shown.command)`: " + problem.replacingOccurrences(of: "\n", with: "\n    ")
        }
        #expect(failures.isEmpty, "commands shown in \(document) that corepl does not parse:\n\(failures.joined(separator: "\n"))")
    }

    /// The scan finds the prompts the docs are known to show (a scan that found none would
    /// let every document pass).
    @Test func theScanFindsTheDocsPrompts() throws {
        #expect(Self.documents.contains("docs/TUTORIAL.md"), "\(Self.documents)")
        for document in ["README.md", "docs/TUTORIAL.md", "docs/TIME-TRAVEL.md"] {
            let text = try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)
            #expect(!Self.shownCommands(in: text).isEmpty, "no command found at a prompt in \(document)")
        }
        let sample = """
            > not a fence
            ```
            [paused #0] > spawn server 0
            task 1 server 127.0.0.1:46359 → ready
            > step 3
            [past #4 of #14, random --seed 1] > queues
            ```
            ```sh
            corepl --echo FILE
            ```
            ```repl
            # a comment
            expect gil all waited < 0.05 * pool held     # one client
            ```
            """
        #expect(Self.shownCommands(in: sample) == [
            Shown(line: 3, command: "spawn server 0"), Shown(line: 5, command: "step 3"),
            Shown(line: 6, command: "queues"),
            Shown(line: 13, command: "expect gil all waited < 0.05 * pool held     # one client"),
        ])
    }

    /// The judge refuses what corepl refuses, without running anything.
    @Test func theJudgeRefusesWhatCoreplRefuses() throws {
        let registry = try Self.corepl()
        for good in ["spawn server 0 --pool inline --name server", "spawn request @fib 20 20 --name r2", "step back 10",
                     "history on --limit 5", "net fault drop 25% --seed 3", "echo it's free text; really",
                     "expect output contains 'x' y", "mark --gil   # a comment", "ps", "spawn server --help", "run until long done"] {
            #expect(Self.problem(parsing: good, with: registry) == nil, "\(good): \(Self.problem(parsing: good, with: registry) ?? "")")
        }
        for bad in ["stpe 3", "spawn servre 0", "spawn", "spawn server 0 --pol inline", "spawn counter many", "goto",
                    "step --timeout soon", "history on --limit many", "step 3; bogus", "queues 'unterminated"] {
            #expect(Self.problem(parsing: bad, with: registry) != nil, "\(bad) was accepted")
        }
    }
}
