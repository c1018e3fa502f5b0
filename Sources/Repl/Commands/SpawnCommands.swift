// `spawn KIND …`, and the core's own toy task kinds (sleeper, counter, race); packs add
// theirs (Sources/FibPack, a host's). Spawning only puts a task in the ready
// queue; nothing runs until `step` or `run`.
import ArgumentParser
import Runtime

struct Spawn: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Spawn a task: spawn KIND ARGS... ('help spawn' lists the kinds).",
        discussion: "ADDR is [HOST:]PORT (HOST defaults to 127.0.0.1) or @TASK, where task TASK listens.")

    @Argument(parsing: .captureForPassthrough, help: "KIND and its arguments.")
    var words: [String] = []

    mutating func run(in session: Session) throws {
        let kinds = session.registry.taskKinds.map(\.name).joined(separator: ", ")
        guard let kind = words.first else { throw ReplError("spawn what? \(kinds) (see 'help spawn')") }
        throw ReplError("no task kind '\(kind)'; use \(kinds) (see 'help spawn')")
    }
}

extension Session {
    /// Prints `task N NAME → ready` (what `spawn` says about a new task).
    public func announce(_ handle: TaskHandle, _ extra: String = "") {
        let name = loop.taskName(handle.id) ?? ""
        output.line("task \(handle.id.rawValue) \(name)\(extra) → ready")
    }

    /// Refuses a task name that a script could not refer to unambiguously.
    public func checkNewName(_ name: String?) throws {
        guard let name else { return }
        guard !name.isEmpty, Int(name) == nil, !name.hasPrefix("@"), !name.hasPrefix("#") else {
            throw ReplError("a task name must not be empty, a number, or start with @ or #: '\(name)'")
        }
        if loop.snapshot().tasks.contains(where: { $0.name == name }) {
            throw ReplError("there is a task named '\(name)' already")
        }
    }
}

struct SpawnSleeper: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "sleeper",
        abstract: "A task that sleeps for DURATION (it waits in the timers), then ends.")

    @Argument(help: ArgumentHelp("How long: 3, 500ms, 2s.", valueName: "duration"), transform: Parse.duration)
    var duration: Duration

    @Option(help: "Name the task (scripts then refer to it by name).")
    var name: String?

    mutating func run(in session: Session) throws {
        try session.checkNewName(name)
        let d = duration
        let loop = session.loop
        let h = loop.spawn(name: name ?? "sleeper \(DurationText.format(d))", kind: "sleeper") {
            try await loop.sleep(for: d)
        }
        session.announce(h)
    }
}

struct SpawnCounter: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "counter",
        abstract: "A task that yields N times (back to the end of the ready queue each time), then ends.")

    @Argument(help: "How many yields.")
    var count: Int

    @Option(help: "Name the task (scripts then refer to it by name).")
    var name: String?

    mutating func run(in session: Session) throws {
        try session.checkNewName(name)
        guard count >= 0 && count <= 1_000_000_000 else { throw ReplError("counter takes N from 0 to 1000000000, got \(count)") }
        let loop = session.loop
        let n = count
        let h = loop.spawn(name: name ?? "counter \(n)", kind: "counter") {
            for i in 0..<n {
                loop.setFact("count", String(i + 1))
                try await loop.yield()
            }
        }
        session.announce(h)
    }
}

/// What the racers of one `spawn race` share (loop thread only).
final class RaceBoard: @unchecked Sendable {
    var racers: [TaskID] = []
    var claimed = false
    var winners: [TaskID] = []
}

struct SpawnRace: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "race",
        abstract: "An ordering bug to hunt: N racers go for one prize; a referee counts the winners.",
        discussion: """
            Racer i yields 2(i-1) times on its way, looks at the prize, and — the bug — \
            yields once more before it takes it (check, then act, with a yield between). \
            Under the seed's fifo order exactly one racer wins; other orders (policy lifo, \
            policy random --seed N) can let two see the prize free. A racer that sees it free \
            records saw_free 1 and claimed 0, then claimed 1 once it takes it (claimed.last: \
            0 while it holds a stale look); the referee joins them all, then \
            records winners (how many claimed) and the fact 'winners'. \
            Try: corepl --seeds 1-40 examples/10-race.repl
            """)

    @Option(help: "How many racers (2 to 100).")
    var racers: Int = 3

    @Option(help: "Name the referee (its racers are 'NAME racer I').")
    var name: String?

    mutating func run(in session: Session) throws {
        guard (2...100).contains(racers) else { throw ReplError("race takes --racers from 2 to 100, got \(racers)") }
        let base = name ?? "race"
        try session.checkNewName(base)
        for i in 1...racers { try session.checkNewName("\(base) racer \(i)") }
        let loop = session.loop
        let board = RaceBoard()
        let n = racers
        // The referee first, so that it is waiting on the racers before they run.
        let ref = loop.spawn(name: base, kind: "race") {
            for id in board.racers { _ = try await loop.join(id) }
            loop.record(Double(board.winners.count), as: "winners")
            loop.setFact("winners", board.winners.map { loop.taskName($0) ?? "task \($0.rawValue)" }.joined(separator: ", "))
        }
        session.announce(ref)
        for i in 1...n {
            let h = loop.spawn(name: "\(base) racer \(i)", kind: "racer") {
                for _ in 0..<(2 * (i - 1)) { try await loop.yield() }
                guard !board.claimed else { return }
                loop.record(1, as: "saw_free")
                loop.record(0, as: "claimed")
                try await loop.yield()  // the bug: another racer may look now
                board.claimed = true
                board.winners.append(loop.currentTask!)
                loop.record(1, as: "claimed")
            }
            board.racers.append(h.id)
            session.announce(h)
        }
    }
}
