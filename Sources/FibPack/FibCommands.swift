// The fib pack's commands: the task kinds `server`, `perf1`, `perf2`, `request`, and the
// `pool` setting.
import ArgumentParser
import FibService
import Repl
import Runtime
import TimeTravel

struct SpawnServer: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "A fib server: spawn server [PORT] [--host H] [--pool P] [--wait W] [--gil]. Port 0 picks a free port.")

    @OptionGroup var server: FibServerArguments

    @Option(help: "Name the task (scripts then refer to it by name).")
    var name: String?

    mutating func run(in session: Session) throws {
        try session.checkNewName(name)
        let state = FibState.of(session)
        var options = try server.options(defaultPool: state.defaultPool, defaultWait: state.defaultWait,
                                         defaultGIL: state.defaultGIL, defaultSwitchInterval: state.defaultSwitchInterval,
                                         poolIsBuiltIn: !state.poolChosen, name: name)
        options.virtualFib30 = state.virtualFib30
        let handle = try FibServer.spawn(on: session.loop, options: options, output: .discard)
        state.add(handle)
        // A named server's name hides its address, which clients need: say it.
        let address = name == nil ? "" : " at \(handle.address)"
        session.announce(handle.task, "\(address) (pool \(FibState.poolText(handle.pool, handle.pool.gil)), wait \(options.wait))")
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

    @Flag(help: "Print nothing per reply or per second; the figures are still recorded (show, expect, during, stats).")
    var quiet = false
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
        try session.spawnClient(.perf1(n: n), to: address, flags.thread, flags.duration, flags.name, quiet: flags.quiet)
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
        try session.spawnClient(.perf2, to: address, flags.thread, flags.duration, flags.name, quiet: flags.quiet)
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

    @Flag(help: "Print no reply; the results and latencies are still recorded (show, expect, stats).")
    var quiet = false

    mutating func run(in session: Session) throws {
        guard !ns.isEmpty else { throw ReplError("usage: spawn request ADDR N...") }
        if let bad = ns.first(where: { $0 < 0 || $0 > fibLargestN }) {
            throw ReplError("n must be from 0 to \(fibLargestN), got \(bad)")
        }
        try session.spawnClient(.request(ns), to: address, thread, nil, name, quiet: quiet)
    }
}

struct PoolCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Show or set the default pool (wait mode, GIL switch) for new servers.",
        discussion: """
            'pool thread:4 --gil' makes new servers compute under a GIL shared with the loop, as
            CPython would: the loop holds it while it runs and releases it around poll and socket
            calls; a pool thread holds it while it computes fib and drops it every switch
            interval when another thread asks. 'pool --no-gil' turns it off.

            The built-in default (thread:4) computes fib(n) for n below 20 on the loop and the
            rest on the pool; a pool named here or with 'spawn server --pool' gets every
            request, as in the seed, unless 'spawn server --inline-below N' says otherwise.
            """)

    @Argument(help: "inline, thread[:N] or process[:N].", completion: .list(PoolSpec.allValueStrings), transform: ParseFib.pool)
    var spec: PoolSpec?

    @Option(help: "yield or block.", completion: .list(WaitMode.allCases.map(\.rawValue)), transform: ParseFib.wait)
    var wait: WaitMode?

    @Flag(inversion: .prefixedNo, help: "Compute under a GIL shared with the loop (thread pools only).")
    var gil: Bool?

    @Option(help: ArgumentHelp("The GIL's switch interval (default 5ms).", valueName: "duration"), transform: Parse.duration)
    var switchInterval: Duration?

    @Option(help: ArgumentHelp("On a virtual clock ('clock virtual'), what fib(30) costs on a pool (default 4ms); fib(n) costs that x 1.618^(n-30).", valueName: "duration"),
            transform: Parse.duration)
    var virtualFib30: Duration?

    mutating func run(in session: Session) throws {
        let state = FibState.of(session)
        let newSpec = spec ?? state.defaultPool
        let newGIL = gil ?? state.defaultGIL
        try ParseFib.checkGIL(newGIL, newSpec)
        let interval = try ParseFib.checked(switchInterval) ?? state.defaultSwitchInterval
        (state.defaultPool, state.defaultGIL, state.defaultSwitchInterval) = (newSpec, newGIL, interval)
        if let virtualFib30 {
            guard virtualFib30 > .zero && virtualFib30 <= .seconds(60) else {
                throw ReplError("--virtual-fib30 takes more than 0 and at most 60s, got \(DurationText.format(virtualFib30))")
            }
            state.virtualFib30 = virtualFib30
            for handle in state.servers.values { handle.pool.virtualFib30 = virtualFib30 }
        }
        // A pool named here is a choice: its servers send every request to it, as the seed's.
        if spec != nil { state.poolChosen = true }
        if let wait { state.defaultWait = wait }
        let gilText = newGIL ? " under the GIL (switch interval \(DurationText.format(interval ?? GIL.defaultSwitchInterval)))" : ""
        let inline = state.poolChosen ? "" : ", inline below \(defaultInlineBelow)"
        session.output.line("new servers: pool \(state.defaultPool)\(inline)\(gilText), wait \(state.defaultWait)")
    }
}

extension Session {
    /// Spawns a client — on the loop, or on a thread of its own — and announces it. Its
    /// lines print as `task N KIND: text` (none when `quiet`: its figures are recorded all
    /// the same).
    func spawnClient(
        _ kind: LoopClients.ThreadedKind, to address: AddressArgument, _ thread: Bool, _ duration: Duration?, _ name: String?,
        quiet: Bool = false
    ) throws {
        try checkNewName(name)
        let addr = try address.resolve(in: self)
        if thread && loop.isSimulatedListener(addr) {
            throw ReplError("\(addr) is on the simulated network ('net sim'), which a client on a thread of its own cannot reach: drop --thread to run the client on the loop")
        }
        if thread && loop.isNetworkSimulated {
            throw ReplError("the network is simulated ('net sim'): a client on a thread of its own would use real sockets; drop --thread, or 'net real' first")
        }
        let output = quiet ? LineSink.discard : sink(kind: kind.name)
        let handle: TaskHandle
        switch (kind, thread) {
        case (_, true):
            handle = LoopClients.threaded(kind, on: loop, to: addr, duration: duration, name: name, output: output)
        case (.perf1(let n), false):
            handle = LoopClients.perf1(on: loop, to: addr, n: n, duration: duration, name: name, output: output)
        case (.perf2, false):
            handle = LoopClients.perf2(on: loop, to: addr, duration: duration, name: name, output: output)
        case (.request(let ns), false):
            handle = LoopClients.request(on: loop, to: addr, ns: ns, name: name, output: output)
        }
        announce(handle, quiet ? " (quiet)" : "")
    }
}

extension LoopClients.ThreadedKind {
    /// The task kind: `perf1`, `perf2`, `request`.
    var name: String {
        switch self {
        case .perf1: return "perf1"
        case .perf2: return "perf2"
        case .request: return "request"
        }
    }
}
