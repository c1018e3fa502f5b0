// Commands for scripts and demos: expect, mark, source, save, echo, sleep, help, quit.
import ArgumentParser
import Foundation
import Runtime

struct Echo: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print TEXT (for narrating demos).",
        discussion: "Narration, not a result: 'expect output contains' never finds it.")

    @Argument(parsing: .captureForPassthrough, help: "The text, printed as typed.")
    var text: [String] = []

    mutating func run(in session: Session) throws {
        session.output.narration(session.current.rest)
    }
}

struct Mark: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a fresh window of a task's recorded figures (expect then checks only newer ones).",
        discussion: """
            mark TASK    expect task TASK FIGURE.STAT … checks only figures recorded from now on
            mark --gil   expect gil … counts the GIL's waits and holding from now on
            """)

    @Argument(help: ArgumentHelp("The task.", valueName: "task"))
    var task: TaskArgument?

    @Flag(name: .customLong("gil"), help: "Start a fresh window of the GIL's counters instead.")
    var gil = false

    mutating func run(in session: Session) throws {
        if gil {
            guard task == nil else { throw ReplError("usage: mark TASK | mark --gil") }
            guard let lock = session.loop.gil else {
                throw ReplError("no GIL: no pool computes under one (start one with 'pool thread:4 --gil' or 'spawn server --gil')")
            }
            GILMark.of(session).mark = (ObjectIdentifier(lock), lock.snapshot())
            session.output.line("gil: a fresh window of waits and holding")
            return
        }
        guard let task else { throw ReplError("usage: mark TASK | mark --gil") }
        let info = try task.resolve(in: session)
        session.loop.clearFigures(of: info.id)
        session.output.line("task \(info.id.rawValue): a fresh window of figures")
    }
}

/// How deep `source` is nested now: the feature's state in a session.
final class SourceNesting {
    var depth = 0
}

/// The GIL's counters at `mark --gil` (and which lock they were of), for `expect gil` and
/// `queues`: the mark feature's state in a session.
final class GILMark: SessionExtension {
    var mark: (lock: ObjectIdentifier, snapshot: GILSnapshot)?

    static func of(_ session: Session) -> GILMark {
        session.state(GILMark.self) { GILMark() }
    }

    /// A fresh loop starts without a mark (a fork keeps it: the same GIL's counters).
    func loopReplaced(in session: Session, reset: Bool) {
        if reset { mark = nil }
    }
}

extension Session {
    /// The loop's GIL now, counted from `mark --gil` when that was of the same lock; nil
    /// when no pool computes under a GIL.
    func gilSinceMark() -> (snapshot: GILSnapshot, marked: Bool)? {
        guard let lock = loop.gil else { return nil }
        let now = lock.snapshot()
        if let mark = GILMark.of(self).mark, mark.lock == ObjectIdentifier(lock) {
            return (now.since(mark.snapshot), true)
        }
        return (now, false)
    }
}

struct Sleep: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pause for DURATION of wall-clock time (the loop keeps its mode: paused stays paused).",
        discussion: """
            A paused loop's clock stands still meanwhile (no loop time passes: timers,
            windows and rates do not count it, and pool work waits); a background run
            ('run &') keeps running through it.
            """)

    @Argument(help: ArgumentHelp("How long: 3, 500ms, 2s.", valueName: "duration"), transform: Parse.duration)
    var duration: Duration

    mutating func run(in session: Session) throws {
        let deadline = monotonicNanos() &+ duration.clampedNanoseconds
        // A loop running in the background keeps running through the pause.
        if session.isRunningInBackground {
            _ = session.continueBackground { monotonicNanos() >= deadline || session.isInterrupted }
        }
        while monotonicNanos() < deadline && !session.isInterrupted {
            let left = min(deadline - monotonicNanos(), 20_000_000)
            var ts = timespec(tv_sec: 0, tv_nsec: Int(left))
            nanosleep(&ts, nil)
        }
    }
}

struct Source: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the commands of FILE, line by line (nesting at most 64 deep).")

    @Argument(help: "The script.", completion: .file())
    var file: String

    mutating func run(in session: Session) throws {
        let nesting = session.state(SourceNesting.self) { SourceNesting() }
        guard nesting.depth < Session.maxSourceDepth else {
            throw ReplError("source nested more than \(Session.maxSourceDepth) deep (does a script source itself?)")
        }
        let text = try session.readScript(file)
        nesting.depth += 1
        defer { nesting.depth -= 1 }
        if !session.runScript(text, file: file) { throw AlreadyReported() }
    }
}

struct Save: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write this session's commands to FILE, as a script that replays it.")

    @Argument(help: "Where to write.", completion: .file())
    var file: String

    mutating func run(in session: Session) throws {
        let text = (["# corepl session: replay with 'corepl \(file)' or 'source \(file)'"] + session.recorded)
            .joined(separator: "\n") + "\n"
        do {
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        } catch {
            throw ReplError("cannot write \(file): \(error.localizedDescription)")
        }
        session.output.line("saved \(plural(session.recorded.count, "command")) to \(file)")
    }
}

struct Help: ReplCommand {
    static let configuration = CommandConfiguration(abstract: "List the commands, or explain one: help [COMMAND].")

    @Argument(help: "A command (and subcommand, e.g. 'spawn server').")
    var words: [String] = []

    mutating func run(in session: Session) throws {
        guard let name = words.first else {
            let rows = session.registry.entries.map { e in
                [e.name + (e.aliases.isEmpty ? "" : " (\(e.aliases.joined(separator: ", ")))"), e.abstract]
            }
            session.output.line("commands (help COMMAND for more; ';' separates commands, '#' starts a comment):")
            session.output.line(Views.table(rows, rightAligned: []).split(separator: "\n").map { "  " + $0 }.joined(separator: "\n"))
            return
        }
        guard let entry = session.registry.find(name) else {
            throw ReplError("no command '\(name)'; 'help' lists them")
        }
        session.output.line(session.helpText(entry, subcommand: words.count > 1 ? words[1] : nil))
    }
}

struct Quit: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Leave corepl: every task is cancelled, every socket closed, every worker stopped.")

    mutating func run(in session: Session) throws {
        let counts = session.shutdown()
        session.quitRequested = true
        session.output.line("bye: \(Session.summary(counts))")
    }
}

extension Session {
    /// A command's help (or its subcommand's, if it has one by that name).
    func helpText(_ entry: CommandRegistry.Entry, subcommand: String?) -> String {
        if let subcommand, let sub = entry.type.configuration.subcommands.first(where: { $0._commandName == subcommand }) {
            return Self.tidyHelp(entry.type.helpMessage(for: sub, columns: 100))
        }
        if entry.traits.takesTaskKind, let subcommand, let kind = registry.taskKind(subcommand) {
            return Self.tidyHelp(kind.type.helpMessage(columns: 100))
                .replacingOccurrences(of: "usage: \(kind.name) ", with: "usage: \(entry.name) \(kind.name) ")
        }
        if entry.traits.takesTaskKind {
            // The kinds come from the registry (the core's, packs', a host's); what ADDR means
            // is said only where a kind takes one (a host without a server has none).
            let address = registry.taskKinds.contains { $0.completion.takesAddress }
            return (["overview: \(entry.abstract)", "", "usage: \(entry.name) <kind> [<arguments> ...]", "", "kinds:"]
                + registry.taskKinds.map { "  \($0.name.padding(22)) \($0.abstract)" }
                + ["", "  See 'help \(entry.name) <kind>' for a kind's arguments."
                    + (address ? " \(entry.type.configuration.discussion)" : "")])
                .joined(separator: "\n")
        }
        return Self.tidyHelp(entry.type.helpMessage(columns: 100))
    }

    /// ArgumentParser's help, with its headings in lower case to sit among REPL output.
    static func tidyHelp(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            for heading in ["OVERVIEW:", "USAGE:", "ARGUMENTS:", "OPTIONS:", "SUBCOMMANDS:"] where line.hasPrefix(heading) {
                return heading.lowercased() + line.dropFirst(heading.count)
            }
            return String(line)
        }.filter { !$0.contains("Show help information.") && !$0.hasPrefix("  See '") }
            .joined(separator: "\n").trimmingWhitespace()
    }

    /// The text of a script, looked up in the current directory, then next to the
    /// script being run.
    public func readScript(_ file: String) throws -> String {
        var candidates = [file]
        if case .script(let current, _) = origin, !file.hasPrefix("/") {
            let dir = (current as NSString).deletingLastPathComponent
            if !dir.isEmpty { candidates.append((dir as NSString).appendingPathComponent(file)) }
        }
        for path in candidates {
            if let data = FileManager.default.contents(atPath: path) {
                return String(decoding: data, as: UTF8.self)
            }
        }
        throw ReplError("cannot read \(file): no such file")
    }

    /// Runs a script's lines (origin `FILE:LINE`). The first failing line stops it unless
    /// `keepGoing`; `quit` stops it too.
    ///
    /// - Returns: true if every line succeeded.
    @discardableResult
    public func runScript(_ text: String, file: String) -> Bool {
        var ok = true
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if quitRequested { break }
            if !execute(String(line), origin: .script(file: file, line: i + 1)) {
                ok = false
                if !keepGoing { break }
            }
        }
        return ok
    }
}
