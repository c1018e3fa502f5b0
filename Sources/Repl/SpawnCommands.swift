// `spawn …`: servers, clients and toy tasks. Spawning only puts a task in the ready queue;
// nothing runs until `step` or `run`.
import ArgumentParser
import FibService
import Runtime

struct Spawn: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Spawn a task: server, perf1, perf2, request, sleeper, counter.",
        discussion: "ADDR is [HOST:]PORT (HOST defaults to 127.0.0.1) or @TASK, where task TASK listens.",
        subcommands: [SpawnServer.self, SpawnPerf1.self, SpawnPerf2.self, SpawnRequest.self, SpawnSleeper.self, SpawnCounter.self])

    mutating func run(in session: Session) throws {
        let kinds = ["server", "perf1", "perf2", "request", "sleeper", "counter"] + session.registry.taskKinds.map(\.name)
        throw ReplError("spawn what? \(kinds.joined(separator: ", ")) (see 'help spawn')")
    }
}

extension Session {
    /// Prints `task N NAME → ready` (what `spawn` says about a new task).
    public func announce(_ handle: TaskHandle, _ extra: String = "") {
        let name = loop.taskName(handle.id) ?? ""
        output.line("task \(handle.id.rawValue) \(name)\(extra) → ready")
    }

    func duration(_ text: String?) throws -> Duration? {
        try text.map { try DurationText.parse($0) }
    }

    /// Refuses a task name that a script could not refer to unambiguously.
    func checkNewName(_ name: String?) throws {
        guard let name else { return }
        guard !name.isEmpty, Int(name) == nil, !name.hasPrefix("@"), !name.hasPrefix("#") else {
            throw ReplError("a task name must not be empty, a number, or start with @ or #: '\(name)'")
        }
        if loop.snapshot().tasks.contains(where: { $0.name == name }) {
            throw ReplError("there is a task named '\(name)' already")
        }
    }
}

struct SpawnServer: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "A fib server: spawn server [PORT] [--host H] [--pool P] [--wait W]. Port 0 picks a free port.")

    @Argument(help: "The port; 0 picks a free one.")
    var port: UInt16 = 25000

    @Option(help: "The address to listen on.")
    var host: String = SocketAddress.loopback

    @Option(help: "Where fib runs: inline, thread[:N], process[:N] (default: see 'pool').")
    var pool: String?

    @Option(help: "How handlers wait for the pool: yield or block (default: see 'pool').")
    var wait: String?

    @Option(help: "The largest n served.")
    var ceiling: Int = 45

    @Option(help: "Name the task (scripts then refer to it by name).")
    var name: String?

    mutating func run(in session: Session) throws {
        try session.checkNewName(name)
        let options = FibServerOptions(
            host: host, port: port, pool: try pool.map { try PoolSpec(parsing: $0) } ?? session.defaultPool,
            wait: try wait.map { try WaitMode(parsing: $0) } ?? session.defaultWait, ceiling: ceiling, name: name)
        let server = try FibServer.spawn(on: session.loop, options: options, output: .discard)
        session.servers[server.task.id] = server
        session.announce(server.task, " (pool \(options.pool), wait \(options.wait))")
    }
}

struct ClientFlags: ParsableArguments {
    @Flag(help: "Run on its own OS thread with blocking sockets, outside the loop.")
    var thread = false

    @Option(help: "Stop after this long (3, 500ms, 2s); default: until cancelled.")
    var duration: String?

    @Option(help: "Name the task (scripts then refer to it by name).")
    var name: String?
}

struct SpawnPerf1: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf1",
        abstract: "Repeated fib(n) requests, printing each latency (the seed's perf1).")

    @Argument(help: "ADDR: [HOST:]PORT or @TASK.")
    var address: String

    @Option(help: "The n of each request.")
    var n: Int = 30

    @OptionGroup var flags: ClientFlags

    mutating func run(in session: Session) throws {
        let addr = try session.address(address)
        let d = try session.duration(flags.duration)
        try session.checkNewName(flags.name)
        let sink = session.sink(kind: "perf1")
        let h = flags.thread
            ? LoopClients.threaded(.perf1(n: n), on: session.loop, to: addr, duration: d, name: flags.name, output: sink)
            : LoopClients.perf1(on: session.loop, to: addr, n: n, duration: d, name: flags.name, output: sink)
        session.announce(h)
    }
}

struct SpawnPerf2: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf2",
        abstract: "fib(1) ping-pong, printing requests per second (the seed's perf2).")

    @Argument(help: "ADDR: [HOST:]PORT or @TASK.")
    var address: String

    @OptionGroup var flags: ClientFlags

    mutating func run(in session: Session) throws {
        let addr = try session.address(address)
        let d = try session.duration(flags.duration)
        try session.checkNewName(flags.name)
        let sink = session.sink(kind: "perf2")
        let h = flags.thread
            ? LoopClients.threaded(.perf2, on: session.loop, to: addr, duration: d, name: flags.name, output: sink)
            : LoopClients.perf2(on: session.loop, to: addr, duration: d, name: flags.name, output: sink)
        session.announce(h)
    }
}

struct SpawnRequest: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "One-shot requests: spawn request ADDR N..., printing each reply.")

    @Argument(help: "ADDR: [HOST:]PORT or @TASK.")
    var address: String

    @Argument(help: "The n of each request.")
    var ns: [Int]

    @Flag(help: "Run on its own OS thread with blocking sockets, outside the loop.")
    var thread = false

    @Option(help: "Name the task (scripts then refer to it by name).")
    var name: String?

    mutating func run(in session: Session) throws {
        guard !ns.isEmpty else { throw ReplError("usage: spawn request ADDR N...") }
        try session.checkNewName(name)
        if let bad = ns.first(where: { $0 < 0 || $0 > fibLargestN }) {
            throw ReplError("n must be from 0 to \(fibLargestN), got \(bad)")
        }
        let addr = try session.address(address)
        let sink = session.sink(kind: "request")
        let h = thread
            ? LoopClients.threaded(.request(ns), on: session.loop, to: addr, name: name, output: sink)
            : LoopClients.request(on: session.loop, to: addr, ns: ns, name: name, output: sink)
        session.announce(h)
    }
}

struct SpawnSleeper: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "sleeper",
        abstract: "A task that sleeps for DURATION (it waits in the timers), then ends.")

    @Argument(help: "How long: 3, 500ms, 2s.")
    var duration: String

    mutating func run(in session: Session) throws {
        let d = try DurationText.parse(duration)
        let loop = session.loop
        let h = loop.spawn(name: "sleeper \(DurationText.format(d))", kind: "sleeper") {
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

    mutating func run(in session: Session) throws {
        guard count >= 0 && count <= 1_000_000_000 else { throw ReplError("counter takes N from 0 to 1000000000, got \(count)") }
        let loop = session.loop
        let n = count
        let h = loop.spawn(name: "counter \(n)", kind: "counter") {
            for i in 0..<n {
                loop.setFact("count", String(i + 1))
                try await loop.yield()
            }
        }
        session.announce(h)
    }
}
