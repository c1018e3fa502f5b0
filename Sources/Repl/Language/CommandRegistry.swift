// The commands a session knows. Each is a swift-argument-parser command (so usage, help
// and error messages come for free), parsed from a tokenized line with `parseAsRoot`, and
// run against the session. What Tab completes after a command is read from the same
// definition (its options, subcommands, value lists, task and file arguments).
import ArgumentParser
import Foundation

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

/// The table of commands: names, aliases, and what each is to the session (its traits).
public struct CommandRegistry: Sendable {
    /// One command.
    public struct Entry: Sendable {
        /// The command's name (its `commandName`).
        public let name: String
        /// Other names it answers to (`ps` for `tasks`).
        public let aliases: [String]
        /// The command's type, which parses its arguments.
        public let type: any ReplCommand.Type
        /// What the command is to the session: recorded by `save`, allowed in the past,
        /// re-run, how it forks a timeline (see `CommandTraits`).
        public let traits: CommandTraits
        /// What Tab completes after the command's name, derived from its definition.
        public let completion: Completion

        /// - Parameter words: words to complete besides those the definition gives.
        public init(_ type: any ReplCommand.Type, aliases: [String] = [], traits: CommandTraits, words: [String] = []) {
            self.name = type._commandName
            self.aliases = aliases
            self.type = type
            self.traits = traits
            var completion = Completion(type)
            completion.words += words
            self.completion = completion
        }

        /// Whether `save` writes it into the replay script (`traits.recordable`).
        public var recordable: Bool { traits.recordable }

        /// The one-line summary from the command's configuration.
        public var abstract: String { type.configuration.abstract }
    }

    /// The commands, in the order `help` lists them.
    public private(set) var entries: [Entry]
    /// Task kinds a host added to `spawn` (`spawn KIND ARGS…`), by name.
    public private(set) var taskKinds: [Entry] = []

    /// A table of `entries` and no task kinds.
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

    /// What a command line's words mean, parsed but not run.
    enum Parsed {
        /// `--help` or `-h` among the words: show `entry`'s help (of `subcommand`, if any).
        case help(Entry, subcommand: String?)
        /// The parser's own clean exit (its help or version text).
        case message(String)
        /// A command to run: `entry` (under `spawn`, the task kind, named `kind`).
        case command(any ReplCommand, entry: Entry, kind: String?)
    }

    /// Resolves and parses one command's words the way a session runs them: the name or an
    /// alias, `spawn KIND …` through the task kinds, `--help` shown rather than parsed.
    /// Nothing runs, so a caller can judge a line without a loop (the docs' test does).
    func parse(_ words: [String]) throws -> Parsed {
        guard let name = words.first else { throw ReplError("no command") }
        guard let found = find(name) else {
            let hints = suggestions(for: name)
            let hint = hints.isEmpty ? "; 'help' lists the commands" : "; did you mean \(hints.map { "'\($0)'" }.joined(separator: " or "))?"
            throw ReplError("unknown command '\(name)'\(hint)")
        }
        var args = Array(words.dropFirst())
        var entry = found
        // `spawn KIND …`: the task kind's own command parses the rest (its entry's traits apply).
        if entry.traits.takesTaskKind, let kind = args.first.flatMap({ taskKind($0) }) {
            entry = kind
            args.removeFirst()
        }
        if args.contains("--help") || args.contains("-h") {
            return .help(entry, subcommand: args.first { !$0.hasPrefix("-") })
        }
        let parsed: any ParsableCommand
        do {
            parsed = try entry.type.parseAsRoot(args)
        } catch let clean as CleanExit {
            return .message(Session.tidyHelp(entry.type.fullMessage(for: clean)))
        } catch {
            let helpName = entry.name == found.name ? entry.name : "\(found.name) \(entry.name)"
            let message = entry.type.fullMessage(for: error)
            var text = Session.tidy(message, command: helpName, under: entry.name == found.name ? nil : found.name)
            // argument-parser reads `-5` as an option: "Unknown option '-5'", or a value
            // missing before it. Say what is wrong with the number instead. (A value the
            // command's own parser refused keeps that parser's sentence.)
            if let negative = args.first(where: Parse.isNegativeNumber),
               message.contains("Unknown option '\(negative)'") || message.contains("Missing ") {
                let usage = text.split(separator: "\n", maxSplits: 1).dropFirst().first.map { "\n" + $0 } ?? ""
                text = "\(helpName) takes no negative number, got \(negative)" + usage
            }
            throw ReplError(text)
        }
        guard let command = parsed as? any ReplCommand else {
            throw ReplError("'\(name)' needs a subcommand; see 'help \(entry.name)'")
        }
        return .command(command, entry: entry, kind: entry.name == found.name ? nil : entry.name)
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

/// What to complete after a command, read from its argument-parser definition.
public struct Completion: Sendable {
    /// Option names (`--pool`), subcommand names, and the values its positional
    /// arguments list (`on`, `off`; `epoll`, `poll`, `select`).
    public var words: [String] = []
    /// The values an option takes, by option name (`--wait`: `yield`, `block`).
    public var optionValues: [String: [String]] = [:]
    /// Whether an argument names a task (its value name is `task`).
    public var takesTask = false
    /// Whether an argument is a file.
    public var takesFile = false
    /// Whether an argument is a server's address (its value name is `addr`: `[HOST:]PORT`
    /// or `@TASK`).
    public var takesAddress = false

    init(_ type: any ParsableCommand.Type) {
        guard let info = try? JSONDecoder().decode(Dump.self, from: Data(type._dumpHelp().utf8)) else { return }
        for sub in info.command.subcommands ?? [] where (sub.shouldDisplay ?? true) && sub.commandName != "help" {
            words.append(sub.commandName)
        }
        for arg in info.command.arguments ?? [] where arg.shouldDisplay ?? true {
            var values = arg.allValues ?? []
            if let listed = arg.completionKind?.list?.values { values += listed }
            if arg.completionKind?.file != nil { takesFile = true }
            if arg.valueName == "task" { takesTask = true }
            if arg.valueName == "addr" { takesAddress = true }
            if arg.kind == "positional" {
                words += values
            } else {
                let long = (arg.names ?? []).filter { $0.kind == "long" && $0.name != "help" }.map { "--" + $0.name }
                words += long
                if arg.kind == "option" { for name in long where !values.isEmpty { optionValues[name] = values } }
            }
        }
        words = Array(Set(words)).sorted()
    }

    /// The part of argument-parser's `--experimental-dump-help` JSON (ToolInfoV0) read here.
    private struct Dump: Decodable {
        struct Command: Decodable {
            var commandName: String
            var shouldDisplay: Bool?
            var subcommands: [Command]?
            var arguments: [Argument]?
        }
        struct Argument: Decodable {
            struct Name: Decodable { var kind: String; var name: String }
            struct Kind: Decodable {
                struct List: Decodable { var values: [String] }
                struct File: Decodable {}
                var list: List?
                var file: File?
            }
            var kind: String
            var shouldDisplay: Bool?
            var names: [Name]?
            var valueName: String?
            var allValues: [String]?
            var completionKind: Kind?
        }
        var command: Command
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
