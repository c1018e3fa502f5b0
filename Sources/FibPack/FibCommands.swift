// The fib pack's commands: the task kinds `server`, `perf1`, `perf2`, `request`, and the
// `pool` setting.
import ArgumentParser
import FibService
import Repl
import Runtime

struct SpawnServer: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "A fib server: spawn server [PORT] [--host H] [--pool P] [--wait W]. Port 0 picks a free port.")

    @OptionGroup var server: FibServerArguments

    @Option(help: "Name the task (scripts then refer to it by name).")
    var name: String?

    mutating func run(in session: Session) throws {
        try session.checkNewName(name)
        let state = FibState.of(session)
        let options = server.options(defaultPool: state.defaultPool, defaultWait: state.defaultWait, name: name)
        let handle = try FibServer.spawn(on: session.loop, options: options, output: .discard)
        state.add(handle)
        session.announce(handle.task, " (pool \(options.pool), wait \(options.wait))")
    }
}

/// What every client kind takes.
struct ClientFlags: ParsableArguments {
    @Flag(help: "Run on its own OS thread with blocking sockets, outside the loop.")
    var thread = false

    @Option(help: ArgumentHelp("Stop after this long (3, 500ms, 2s); default: until cancelled.", valueName: "duration"),
            transform: Parse.duration)
    var duration: Duration?

    @Option(help: "Name the task (scripts then refer to it by name).")
    var name: String?
}

struct SpawnPerf1: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf1",
        abstract: "Repeated fib(n) requests, printing each latency (the seed's perf1).")

    @Argument(help: ArgumentHelp("[HOST:]PORT or @TASK.", valueName: "addr"), transform: Parse.address)
    var address: AddressArgument

    @Option(help: "The n of each request.")
    var n: Int = 30

    @OptionGroup var flags: ClientFlags

    mutating func run(in session: Session) throws {
        let addr = try address.resolve(in: session)
        try session.checkNewName(flags.name)
        let sink = session.sink(kind: "perf1")
        let h = flags.thread
            ? LoopClients.threaded(.perf1(n: n), on: session.loop, to: addr, duration: flags.duration, name: flags.name, output: sink)
            : LoopClients.perf1(on: session.loop, to: addr, n: n, duration: flags.duration, name: flags.name, output: sink)
        session.announce(h)
    }
}

struct SpawnPerf2: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf2",
        abstract: "fib(1) ping-pong, printing requests per second (the seed's perf2).")

    @Argument(help: ArgumentHelp("[HOST:]PORT or @TASK.", valueName: "addr"), transform: Parse.address)
    var address: AddressArgument

    @OptionGroup var flags: ClientFlags

    mutating func run(in session: Session) throws {
        let addr = try address.resolve(in: session)
        try session.checkNewName(flags.name)
        let sink = session.sink(kind: "perf2")
        let h = flags.thread
            ? LoopClients.threaded(.perf2, on: session.loop, to: addr, duration: flags.duration, name: flags.name, output: sink)
            : LoopClients.perf2(on: session.loop, to: addr, duration: flags.duration, name: flags.name, output: sink)
        session.announce(h)
    }
}

struct SpawnRequest: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "request",
        abstract: "One-shot requests: spawn request ADDR N..., printing each reply.")

    @Argument(help: ArgumentHelp("[HOST:]PORT or @TASK.", valueName: "addr"), transform: Parse.address)
    var address: AddressArgument

    @Argument(help: "The n of each request.")
    var ns: [Int] = []

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
        let addr = try address.resolve(in: session)
        let sink = session.sink(kind: "request")
        let h = thread
            ? LoopClients.threaded(.request(ns), on: session.loop, to: addr, name: name, output: sink)
            : LoopClients.request(on: session.loop, to: addr, ns: ns, name: name, output: sink)
        session.announce(h)
    }
}

struct PoolCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Show or set the default pool (and wait mode) for new servers.")

    @Argument(help: "inline, thread[:N] or process[:N].", completion: .list(PoolSpec.allValueStrings), transform: ParseFib.pool)
    var spec: PoolSpec?

    @Option(help: "yield or block.", completion: .list(WaitMode.allCases.map(\.rawValue)), transform: ParseFib.wait)
    var wait: WaitMode?

    mutating func run(in session: Session) throws {
        let state = FibState.of(session)
        if let spec { state.defaultPool = spec }
        if let wait { state.defaultWait = wait }
        session.output.line("new servers: pool \(state.defaultPool), wait \(state.defaultWait)")
    }
}
