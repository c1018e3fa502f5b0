// The fib pack installed into a session, as the corepl executable and a host install it:
// it brings the task kinds `spawn server/perf1/perf2/request` and the `pool` setting (a
// session without it knows none of them); `spawn server 0` serves fib on a free port of
// 127.0.0.1 and a request gets the right value; the pack's rows show in `queues` and
// `show`; its servers' pools are stopped when the session shuts down.
import FibPack
import FibService
import Repl
import Runtime
import Testing
import TestSupport

/// A session with the fib pack installed, and what it printed.
private func fibSession() throws -> (Session, CapturedOutput) {
    let (output, captured) = ReplOutput.capturing()
    let session = try Session(output: output)
    session.install(FibPack())
    return (session, captured)
}

extension Session {
    /// Executes `line`, recording an issue (with what the session printed to its error
    /// stream) if it fails.
    fileprivate func run(_ line: String, _ captured: CapturedOutput, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(execute(line), "'\(line)' failed: \(captured.err.suffix(3))", sourceLocation: sourceLocation)
    }
}

@Suite(.serialized, .timeLimit(.minutes(2))) struct FibPackInstallTests {
    @Test func withoutThePackASessionKnowsNoneOfItsCommands() throws {
        let (output, captured) = ReplOutput.capturing()
        let bare = try Session(output: output)
        defer { _ = bare.shutdown() }
        for line in ["spawn server 0", "spawn request 127.0.0.1:1 10", "spawn perf1 127.0.0.1:1", "spawn perf2 127.0.0.1:1", "pool inline"] {
            #expect(!bare.execute(line), "\(line) ran without the pack")
        }
        #expect(captured.err.count >= 5)
        #expect(bare.loop.snapshot().tasks.isEmpty)
        let (fib, out) = try fibSession()
        defer { _ = fib.shutdown() }
        fib.run("pool inline", out)
        #expect(out.out.last == "new servers: pool inline, wait yield")
        #expect(FibState.of(fib).defaultPool == .inline)
        #expect(FibState.of(fib).poolChosen)
    }

    @Test func aServerOnPortZeroAnswersARequestWithTheRightFib() throws {
        let (s, out) = try fibSession()
        defer { _ = s.shutdown() }
        s.run("spawn server 0", out)
        let announced = try #require(out.out.last)
        #expect(announced.hasPrefix("task 1 server 127.0.0.1:"), "\(announced)")
        #expect(announced.hasSuffix(" (pool thread:4, inline below 20, wait yield) → ready"), "\(announced)")
        let server = try #require(FibState.of(s).servers.values.first)
        #expect(server.task.id == TaskID(1))
        #expect(server.address.host == "127.0.0.1")
        #expect(server.address.port != 0, "port 0 picks a free port")
        #expect(announced.contains(":\(server.address.port) "))
        #expect(s.loop.stepCount == 0, "spawning only queues the task")

        // fib(25) goes to the pool, fib(10) runs on the loop (below 20).
        s.run("spawn request @1 25 10", out)
        let request = try #require(s.loop.snapshot().tasks.first { $0.kind == "request" })
        #expect(s.loop.stepUntil { s.loop.state(request.id)?.isFinished == true })
        #expect(s.loop.state(request.id) == .done)
        let replies = out.out.filter { $0.hasPrefix("task \(request.id.rawValue) request: ") }
        #expect(replies.count == 2, "\(out.out)")
        #expect(replies.first?.hasPrefix("task \(request.id.rawValue) request: fib(25) = 75025 in ") == true, "\(replies)")
        #expect(replies.last?.hasPrefix("task \(request.id.rawValue) request: fib(10) = 55 in ") == true, "\(replies)")

        // And it serves a client of our own on the same loop.
        let reply = Box("")
        let client = s.loop.spawn(name: "raw client") {
            let c = try await AsyncSocket.connect(on: s.loop, to: server.address)
            try await c.send(all: Array("30\n".utf8))
            while !reply.value.hasSuffix("\n") {
                let bytes = try await c.recv(max: 64)
                if bytes.isEmpty { break }
                reply.value += String(decoding: bytes, as: UTF8.self)
            }
            c.close()
        }
        #expect(s.loop.stepUntil { s.loop.state(client.id)?.isFinished == true })
        #expect(reply.value == "832040\n")
    }

    @Test func theServersPoolShowsInQueuesAndShowAndStopsAtShutdown() throws {
        let (s, out) = try fibSession()
        s.run("spawn server 0 --pool thread:2", out)
        #expect(out.out.last?.hasSuffix(" (pool thread:2, wait yield) → ready") == true, "\(out.out.last ?? "")")
        s.run("queues", out)
        #expect(out.out.contains { $0.hasPrefix("pools") && $0.hasSuffix("task 1: thread:2 (0 running, 0 queued)") }, "\(out.out)")
        s.run("show 1", out)
        #expect(out.out.contains("  pool work thread:2 (0 running, 0 queued)"), "\(out.out)")
        let (_, stopped) = s.shutdown()
        #expect(stopped.contains("stopped 1 pool"), "\(stopped)")
        #expect(FibState.of(s).servers.isEmpty)
    }
}
