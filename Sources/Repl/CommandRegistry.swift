// The commands a session knows. Each is a swift-argument-parser command (so usage, help
// and error messages come for free), parsed from a tokenized line with `parseAsRoot`, and
// run against the session.
import ArgumentParser

/// A REPL command: a `ParsableCommand` that runs against a session.
public protocol ReplCommand: ParsableCommand {
    /// Runs the command on the session's loop thread. Print with `session.output`;
    /// throw `ReplError` (or any error) to fail with a message.
    mutating func run(in session: Session) throws
}

extension ReplCommand {
    /// Commands only run inside a session.
    public mutating func run() throws {
        throw ReplError("\(Self._commandName) runs inside a corepl session")
    }
}

/// The table of commands: names, aliases, and whether `save` replays them.
public struct CommandRegistry: Sendable {
    /// One command.
    public struct Entry: Sendable {
        public let name: String
        public let aliases: [String]
        public let type: any ReplCommand.Type
        /// Whether `save` writes it into the replay script (commands that change the
        /// session do; views, `help` and `save` itself do not).
        public let recordable: Bool
        /// What to complete after the command's name (subcommand and option names).
        public let words: [String]

        public init(_ type: any ReplCommand.Type, aliases: [String] = [], recordable: Bool, words: [String] = []) {
            self.name = type._commandName
            self.aliases = aliases
            self.type = type
            self.recordable = recordable
            self.words = words
        }

        /// The one-line summary from the command's configuration.
        public var abstract: String { type.configuration.abstract }
    }

    public private(set) var entries: [Entry]
    /// Task kinds a host added to `spawn` (`spawn KIND ARGS…`), by name.
    public private(set) var taskKinds: [Entry] = []

    public init(_ entries: [Entry]) {
        self.entries = entries
    }

    /// Adds a task kind: `spawn NAME ARGS…` parses ARGS with `entry.type` and runs it.
    /// Its run should spawn the task(s) and announce them (`Session.announce`).
    public mutating func register(taskKind entry: Entry) {
        taskKinds.removeAll { $0.name == entry.name }
        taskKinds.append(entry)
    }

    /// The host task kind called `name`.
    public func taskKind(_ name: String) -> Entry? {
        taskKinds.first { $0.name == name || $0.aliases.contains(name) }
    }

    /// Adds (or replaces, by name) a command.
    public mutating func register(_ entry: Entry) {
        entries.removeAll { $0.name == entry.name }
        entries.append(entry)
    }

    /// The command called `word` (by name or alias).
    public func find(_ word: String) -> Entry? {
        entries.first { $0.name == word || $0.aliases.contains(word) }
    }

    /// Names close to `word`: a command it begins, or one at most two edits away.
    public func suggestions(for word: String) -> [String] {
        let names = entries.flatMap { [$0.name] + $0.aliases }.filter { $0.count >= 2 }
        let limit = min(2, max(1, word.count / 2))
        return names
            .map { ($0, $0.hasPrefix(word) ? 0 : editDistance($0, word)) }
            .filter { $0.1 <= limit }
            .sorted { $0.1 < $1.1 }
            .prefix(3).map(\.0)
    }
}

/// Levenshtein distance, for "did you mean".
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var row = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = row
    }
    return previous[b.count]
}
