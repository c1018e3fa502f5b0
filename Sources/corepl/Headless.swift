// The seed's scripts as commands: `corepl serve` (the server until Ctrl-C) and
// `corepl perf1` / `corepl perf2` (clients from outside any loop).
import ArgumentParser
import CLinux
import FibService
import Glibc
import Runtime

/// Runs `onSignal` (on a thread of its own) at SIGINT or SIGTERM instead of dying. The
/// signals are forwarded by a C handler through a pipe, so it does not matter which of
/// the process's threads the kernel delivers them to.
final class SignalTrap {
    init(_ onSignal: @escaping @Sendable () -> Void) {
        var fds: [Int32] = [-1, -1]
        guard corepl_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else { fatalError("pipe: \(errnoName(errno))") }
        let readFD = fds[0]
        _ = fcntl(readFD, F_SETFL, 0)  // the watcher blocks; the handler's end does not
        for sig in [SIGINT, SIGTERM] { _ = corepl_forward_signal(sig, fds[1], 1) }
        let watcher = OSThread(name: "signals") {
            var byte: UInt8 = 0
            while true {
                let n = read(readFD, &byte, 1)
                if n == 1 { onSignal() } else if n < 0 && errno == EINTR { continue } else { return }
            }
        }
        watcher.start()
        watcher.detach()
    }
}

func fail(_ message: String) -> ExitCode {
    writeLine("corepl: \(message)", to: 2)
    return ExitCode.failure
}

struct ParsedAddress: ExpressibleByArgument {
    let address: SocketAddress
    init?(argument: String) {
        guard let a = try? SocketAddress(parsing: argument) else { return nil }
        address = a
    }
    static var defaultCompletionKind: CompletionKind { .default }
}

struct ParsedDuration: ExpressibleByArgument {
    let duration: Duration
    init?(argument: String) {
        guard let d = try? DurationText.parse(argument) else { return nil }
        duration = d
    }
}

extension PoolSpec: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

extension WaitMode: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the fib server until Ctrl-C or SIGTERM (then close everything and exit 0).",
        discussion: "Exit status: 0 after a signal; 1 if it cannot start (e.g. the port is in use).")

    @Argument(help: "The port to listen on; 0 picks a free one.")
    var port: UInt16 = 25000

    @Option(help: "The address to listen on.")
    var host: String = SocketAddress.loopback

    @Option(help: "Where fib runs: inline, thread[:N] or process[:N].")
    var pool: PoolSpec = .default

    @Option(help: "How a handler waits for the pool: yield (suspend on the future) or block (future.result()).")
    var wait: WaitMode = .yield

    @Option(help: "The largest n served.")
    var ceiling: Int = 45

    func run() throws {
        let loop = try EventLoop()
        let server: FibServerHandle
        do {
            server = try FibServer.spawn(
                on: loop, options: FibServerOptions(host: host, port: port, pool: pool, wait: wait, ceiling: ceiling),
                output: .standardOutput)
        } catch {
            throw fail("\(error)")
        }
        let trap = SignalTrap { loop.requestStop() }
        let outcome = loop.run(until: .noTasks, pollTimeout: .seconds(1))
        _ = trap
        // Cancel every task and let the cancellations run: sockets close, the pool stops.
        for task in loop.snapshot().tasks where !task.state.isFinished { loop.cancel(task.id) }
        loop.run(until: .deadline(monotonicNanos() &+ 3_000_000_000), pollTimeout: .milliseconds(10))
        server.pool.shutdown()
        if case .noTasksLeft = outcome, case .failed(let e)? = loop.taskInfo(server.task.id)?.state {
            throw fail(e)
        }
    }
}

struct ClientOptions: ParsableArguments {
    @Argument(help: "[HOST:]PORT of the server; HOST defaults to 127.0.0.1.")
    var address: ParsedAddress

    @Option(help: "Stop after this long (3, 500ms, 2s, 1m); default: until Ctrl-C.")
    var duration: ParsedDuration?
}

func runClient(_ options: ClientOptions, _ body: (BlockingClient) throws -> Void) throws {
    let client = BlockingClient(address: options.address.address)
    let trap = SignalTrap { client.requestStop() }
    defer { _ = trap }
    do {
        try body(client)
    } catch {
        throw fail("\(error)")
    }
}

struct Perf1: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Request fib(n) over and over, printing each latency in seconds (the seed's perf1.py).",
        discussion: "Exit status: 0 when stopped or done; 1 if the server cannot be reached or the connection is lost.")

    @OptionGroup var options: ClientOptions

    @Option(help: "The n of each request.")
    var n: Int = 30

    func run() throws {
        try runClient(options) { client in
            try client.perf1(n: n, duration: options.duration?.duration,
                             output: { writeLine($0, to: 1) }, record: { _, _ in })
        }
    }
}

struct Perf2: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ping-pong fib(1) on one connection, printing requests per second (the seed's perf2.py).",
        discussion: "Exit status: 0 when stopped or done; 1 if the server cannot be reached or the connection is lost.")

    @OptionGroup var options: ClientOptions

    func run() throws {
        try runClient(options) { client in
            try client.perf2(duration: options.duration?.duration,
                             output: { writeLine($0, to: 1) }, record: { _, _ in })
        }
    }
}
