// Where fib runs and how the handler waits: every combination answers correctly; process
// workers are real processes that hold no fd of ours and are replaced when they die; a
// foreign (Python) client is served; our clients talk to the seed's own Python server.
@testable import FibService
import Foundation
import Glibc
import Runtime
import Testing
import TestSupport

/// Collects pool events.
final class PoolEvents: LoopObserver {
    var started: [FutureID] = []
    func loop(_ loop: EventLoop, observed event: LoopEvent) {
        if case .pool(let p) = event, case .started = p.kind { started.append(p.future) }
    }
}

@Suite(.serialized, .timeLimit(.minutes(5))) struct PoolTests {
    static let combinations: [(PoolSpec, WaitMode)] = [
        (.inline, .yield), (.inline, .block), (.thread(2), .yield), (.thread(2), .block),
        (.process(2), .yield), (.process(2), .block),
    ]

    @Test(arguments: combinations)
    func everyPoolAndWaitCombinationAnswersCorrectly(pool: PoolSpec, wait: WaitMode) throws {
        let loop = try EventLoop()
        let server = try loop.fibServer(pool: pool, wait: wait)
        let t = loop.script(server.address, [.send("30\n20\n1\n"), .readLine, .readLine, .readLine])
        #expect(t.lines == ["832040", "6765", "1"])
        loop.shutDownEverything()
    }

    /// `inlineBelow` (the default configuration's 20): fib(n) below it runs on the loop,
    /// the rest on the pool, and every answer is right; with 0 everything goes to the pool.
    @Test(arguments: [(.thread(2), 20), (.thread(2), 0), (.process(1), 20)] as [(PoolSpec, Int)])
    func smallRequestsRunOnTheLoopBelowTheThreshold(pool: PoolSpec, below: Int) throws {
        let loop = try EventLoop()
        let events = PoolEvents()
        loop.addObserver(events)
        let server = try FibServer.spawn(
            on: loop, options: FibServerOptions(port: 0, pool: pool, inlineBelow: below), output: .discard)
        #expect(server.pool.description == (below > 0 ? "\(pool), inline below \(below)" : "\(pool)"))
        let t = loop.script(server.address, [.send("1\n19\n20\n25\n"), .readLine, .readLine, .readLine, .readLine])
        #expect(t.lines == ["1", "4181", "6765", "75025"])
        #expect(events.started.count == (below > 0 ? 2 : 4), "fib(20) and fib(25) on the pool; fib(1) and fib(19) too with 0")
        loop.shutDownEverything()
    }

    @Test func yieldWaitsInFutureWaitAndTheCompletionWakesTheLoop() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer(pool: .thread(1), wait: .yield)
        let client = loop.spawn(name: "client") {
            let s = try await AsyncSocket.connect(on: loop, to: server.address)
            try await s.send(all: Array("25\n".utf8))
            _ = try await s.recv(max: 100)
        }
        #expect(loop.stepUntil { !loop.snapshot().futureWait.isEmpty })
        let handler = try #require(loop.snapshot().tasks.first { $0.kind == "handler" })
        #expect(loop.snapshot().futureWait.map(\.task) == [handler.id])
        var wokeByFuture = false
        loop.run(until: .taskDone(client.id), stopWhen: { event in
            if let p = event.pollReport, p.wakes.contains(where: { if case .future = $0.cause { true } else { false } }) {
                wokeByFuture = p.wakeChannelSignals > 0
            }
            return false
        })
        #expect(wokeByFuture, "the pool's completion arrived through the wake-up channel")
        loop.shutDownEverything()
    }

    @Test func processWorkersAreRealProcessesHoldingNoListeningSocket() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer(pool: .process(2))
        let pids = server.pool.workerPIDs
        #expect(pids.count == 2)
        for pid in pids {
            #expect(pid != getpid())
            // While the worker starts, the dynamic loader briefly holds a library open on
            // fd 3; what matters is that no socket of ours ever reaches it.
            var fds: [Int] = []
            for _ in 0..<250 {
                fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap(Int.init).sorted()
                for fd in fds where fd > 1 {
                    let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")) ?? ""
                    #expect(!target.hasPrefix("socket:"), "worker \(pid) holds a socket on fd \(fd)")
                }
                if fds == [0, 1, 2] { break }
                usleep(20_000)
            }
            #expect(fds == [0, 1, 2], "worker \(pid) holds only stdin/stdout/stderr, found \(fds)")
        }
        loop.shutDownEverything()
        server.pool.shutdown()
        for pid in pids { #expect(kill(pid, 0) == -1, "worker \(pid) is gone after shutdown") }
    }

    @Test func aKilledWorkerFailsItsRequestAndIsReplaced() throws {
        let loop = try EventLoop()
        let events = PoolEvents()
        loop.addObserver(events)
        let server = try loop.fibServer(pool: .process(1))
        let victim = try #require(server.pool.workerPIDs.first)
        let transcript = Transcript()
        let client = loop.spawn(name: "client") {
            let s = try await AsyncSocket.connect(on: loop, to: server.address)
            var reader = LineReader(s)
            try await s.send(all: Array("44\n".utf8))
            transcript.lines.append(try await reader.next() ?? "EOF")
            try await s.send(all: Array("12\n".utf8))
            transcript.lines.append(try await reader.next() ?? "EOF")
        }
        // Step until the worker has picked the request up, then kill it.
        #expect(loop.stepUntil { !events.started.isEmpty })
        kill(victim, SIGKILL)
        loop.run(until: .taskDone(client.id), pollTimeout: .milliseconds(50))
        #expect(transcript.lines.count == 2)
        #expect(transcript.lines.first == "error: worker process \(victim) of pool process:1 died (killed by SIGKILL) while computing fib(44)")
        #expect(transcript.lines.last == "144", "the next request succeeds on a fresh worker")
        let replacement = server.pool.workerPIDs
        #expect(replacement.count == 1 && replacement != [victim])
        loop.shutDownEverything()
    }

    @Test func aPythonClientSendingANumberWithoutNewlineIsServed() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer()
        let python = try ChildProcess("/usr/bin/env", ["python3", "-c", """
            import socket
            s = socket.create_connection(('127.0.0.1', \(server.address.port)))
            s.send(b'30')
            print(s.recv(100).decode().strip(), flush=True)
            """])
        let got = Box(try loop.runUntilFirstLine(of: python))
        #expect(got.value == "832040")
        loop.shutDownEverything()
    }

    @Test func ourClientsWorkAgainstTheSeedsOwnPythonServer() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../benchmarks/python/seed_server.py").standardized.path
        let loop = try EventLoop()
        let python = try ChildProcess("/usr/bin/env", ["python3", script, "0"])
        // It prints "listening on 127.0.0.1:PORT" first.
        let banner = Box(try loop.runUntilFirstLine(of: python))
        let port = try #require(banner.value.split(separator: ":").last.flatMap { UInt16($0) }, "banner: \(banner.value)")
        let lines = Lines()
        let t = LoopClients.request(on: loop, to: try SocketAddress(port: port), ns: [20, 30], output: lines.sink)
        loop.run(until: .taskDone(t.id), pollTimeout: .milliseconds(50))
        #expect(loop.taskInfo(t.id)?.state == .done)
        #expect(loop.taskInfo(t.id)?.figures[Figure.result] == [6765, 832040])
        #expect(lines.all.map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == ["fib(20) = 6765", "fib(30) = 832040"])
    }
}

extension EventLoop {
    /// Runs the loop (its server may be what the child talks to) until the child has
    /// written a whole line; returns it. Fails after `timeout`, with what the child said.
    func runUntilFirstLine(of child: ChildProcess, timeout: Duration = .seconds(60)) throws -> String {
        let deadline = monotonicNanos() &+ timeout.clampedNanoseconds
        while monotonicNanos() < deadline {
            if let newline = child.output.firstIndex(of: "\n") { return String(child.output[..<newline]) }
            run(until: .deadline(monotonicNanos() &+ 20_000_000), pollTimeout: .milliseconds(10))
        }
        throw ChildProcess.Timeout(description: "no line from the child within \(timeout); stderr: \(child.errors)")
    }
}
