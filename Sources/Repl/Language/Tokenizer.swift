// Turning a line of input into commands and words: `;` separates commands, `#` starts a
// comment (except `#` and a digit: `#12`, a step or a task id, is a word), quotes ('…' or "…") and backslashes keep spaces inside one word.
import Runtime

/// One command of a line: its words, and the raw text after the command's name (for
/// commands such as `echo` that take free text).
public struct CommandWords: Sendable, Equatable {
    public var words: [String]
    /// The text after the first word, exactly as typed (trimmed).
    public var rest: String

    /// The command as a script line that reads back the same.
    public var text: String {
        for prefix in Tokenizer.verbatimPrefixes where words.starts(with: prefix) {
            return ([words[0], rest].filter { !$0.isEmpty }).joined(separator: " ")
        }
        return words.map(Tokenizer.quote).joined(separator: " ")
    }
}

/// A line that could not be split into words.
public struct TokenizeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

public enum Tokenizer {
    /// The longest line accepted.
    public static let maxLineLength = 4096

    /// Commands whose text is taken verbatim to the end of the line (no quoting, no `;`,
    /// no comment), so that narration such as `echo the seed's loop` needs no quotes.
    static let verbatimPrefixes: [[String]] = [["echo"], ["expect", "output", "contains"]]

    /// Splits a line into commands (at unquoted `;`), dropping comments and empty ones.
    public static func commands(in line: String) throws(TokenizeError) -> [CommandWords] {
        if line.utf8.count > maxLineLength {
            throw TokenizeError(description: "line too long (\(line.utf8.count) bytes; at most \(maxLineLength))")
        }
        if line.utf8.contains(0) {
            throw TokenizeError(description: "line contains a NUL byte")
        }
        var result: [CommandWords] = []
        var rest = Substring(line)
        while !rest.isEmpty {
            if let verbatim = verbatimCommand(rest) {
                result.append(verbatim)
                break
            }
            let (command, remainder) = try splitCommand(rest)
            if let command { result.append(command) }
            guard let remainder else { break }
            rest = remainder
        }
        return result
    }

    /// A verbatim command at the start of `text`, if it is one.
    static func verbatimCommand(_ text: Substring) -> CommandWords? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        for prefix in verbatimPrefixes where words.starts(with: prefix) {
            return CommandWords(words: words, rest: restText(of: String(text)))
        }
        return nil
    }

    /// The first command of `text` (nil if empty) and what follows its `;` (nil at the end
    /// of the line or at a comment).
    static func splitCommand(_ text: Substring) throws(TokenizeError) -> (CommandWords?, Substring?) {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        var index = text.startIndex
        var remainder: Substring?
        scan: while index < text.endIndex {
            let ch = text[index]
            defer { index = text.index(after: index) }
            if escaped {
                word.append(ch)
                escaped = false
                continue
            }
            if let q = quote {
                if ch == q { quote = nil } else if ch == "\\" && q == "\"" { escaped = true } else { word.append(ch) }
                continue
            }
            switch ch {
            case "\\":
                escaped = true
                inWord = true
            case "'", "\"":
                quote = ch
                inWord = true
            case ";":
                remainder = text[text.index(after: index)...]
                break scan
            case "#" where !inWord && !Self.digitFollows(text, index):
                // A comment — but `#12` (a step, a task id) is a word.
                break scan
            case " ", "\t", "\r", "\n":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            default:
                word.append(ch)
                inWord = true
            }
        }
        if quote != nil { throw TokenizeError(description: "unterminated quote") }
        if inWord { words.append(word) }
        let segmentEnd = remainder.map { text.index(before: $0.startIndex) } ?? index
        let command = words.isEmpty ? nil : CommandWords(words: words, rest: restText(of: String(text[..<segmentEnd])))
        return (command, remainder)
    }

    /// Whether a digit follows the `#` at `index`.
    static func digitFollows(_ text: Substring, _ index: Substring.Index) -> Bool {
        let next = text.index(after: index)
        return next < text.endIndex && text[next].isASCII && text[next].isNumber
    }

    /// The text after the first word of a command, trimmed, with one level of
    /// surrounding quotes removed when the whole text is quoted.
    static func restText(of segment: String) -> String {
        let trimmed = segment.drop { $0 == " " || $0 == "\t" }
        guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return "" }
        var rest = String(trimmed[space...]).trimmingWhitespace()
        if rest.count >= 2, let f = rest.first, f == "\"" || f == "'", rest.last == f {
            rest = String(rest.dropFirst().dropLast())
        }
        return rest
    }

    /// Quotes a word for a script, if it needs it.
    public static func quote(_ word: String) -> String {
        if !word.isEmpty && word.allSatisfy({ !" \t\"'#;\\".contains($0) }) { return word }
        return "'" + word.replacingAll("'", with: "'\"'\"'") + "'"
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        split(separator: Substring(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
