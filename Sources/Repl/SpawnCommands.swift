// `spawn KIND …`, and the core's own toy task kinds (sleeper, counter); packs add theirs
// (the fib pack: server, perf1, perf2, request). Spawning only puts a task in the ready
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
