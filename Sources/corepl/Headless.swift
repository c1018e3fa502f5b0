// The seed's scripts as commands: `corepl serve` (the server until Ctrl-C) and
// `corepl perf1` / `corepl perf2` (clients from outside any loop).
import ArgumentParser
import FibPack
import FibService
import Glibc
import Repl
import Runtime
import Trace

func fail(_ message: String) -> ExitCode {
    writeLine("corepl: \(message)", to: 2)
    return ExitCode.failure
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the fib server until Ctrl-C or SIGTERM (then close everything and exit 0).",
        discussion: "Exit status: 0 after a signal; 1 if it cannot start (e.g. the port is in use).")

    @OptionGroup var server: FibServerArguments

    @Option(help: ArgumentHelp("Record the server's loop and write it as a Chrome trace when it stops (the last 100000 events; open it in ui.perfetto.dev).", valueName: "out.json"))
    var trace: String?

    func run() throws {
        let loop = try EventLoop()
        let recorder = trace.map { _ in TraceRecorder() }
        recorder?.start(on: loop)
        let server: FibServerHandle
        do {
            server = try FibServer.spawn(on: loop, options: self.server.options(), output: .standardOutput)
        } catch {
            throw fail("\(error)")
        }
        // The trap lives through the shutdown too: a second signal then changes nothing.
        let trap = SignalTrap { loop.requestStop() }
        // A signal's stop request wakes the poll: it needs no limit (and arms no timer).
        let outcome = loop.run(until: .noTasks, pollTimeout: EventLoop.noPollLimit)
        // Cancel every task and let the cancellations run: sockets close, the pool stops.
        for task in loop.snapshot().tasks where !task.state.isFinished { loop.cancel(task.id) }
        loop.run(until: .deadline(loop.now() &+ 3_000_000_000), pollTimeout: .milliseconds(10))
        server.pool.shutdown()
        withExtendedLifetime(trap) {}
        if let recorder, let trace {
            recorder.stop()
            do {
                try ChromeTrace.json(of: recorder).write(toFile: trace, atomically: true, encoding: .utf8)
                writeLine("trace: wrote \(recorder.events.count) events to \(trace) (\(recorder.dropped) dropped)", to: 2)
            } catch {
                throw fail("cannot write \(trace): \(error.localizedDescription)")
            }
        }
        if case .noTasksLeft = outcome, case .failed(let e)? = loop.taskInfo(server.task.id)?.state {
            throw fail(e)
        }
    }
}

struct ClientOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("[HOST:]PORT of the server; HOST defaults to 127.0.0.1.", valueName: "addr"),
              transform: Parse.socketAddress)
    var address: SocketAddress

    @Option(help: ArgumentHelp("Stop after this long (3, 500ms, 2s, 1m); default: until Ctrl-C.", valueName: "duration"),
            transform: Parse.duration)
    var duration: Duration?
}

func runClient(_ options: ClientOptions, _ body: (BlockingClient) throws -> Void) throws {
    let client = BlockingClient(address: options.address)
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
            try client.perf1(n: n, duration: options.duration,
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
            try client.perf2(duration: options.duration,
                             output: { writeLine($0, to: 1) }, record: { _, _ in })
        }
    }
}
