// Timers fire in deadline order; a failing task leaves the others running; idle steps;
// free runs stop where asked.
import Glibc
import Pools
import Runtime
import Synchronization
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct TimerAndFailureTests {
    @Test func timersFireInDeadlineOrderNotSpawnOrder() throws {
        let loop = try EventLoop()
        let order = Box<[String]>([])
        for (name, ms) in [("30ms", 30), ("10ms", 10), ("20ms", 20)] {
            loop.spawn(name: name, kind: "sleeper") {
                try await loop.sleep(for: .milliseconds(ms))
                order.value.append(name)
            }
        }
        loop.step(); loop.step(); loop.step()
        let timers = loop.snapshot().timers
        #expect(timers.map(\.task.rawValue) == [2, 3, 1], "timers listed earliest deadline first")
        #expect(timers.allSatisfy { $0.remainingNanos > 0 })
        let outcome = loop.run()
        guard case .noTasksLeft = outcome else { Issue.record("\(outcome)"); return }
        #expect(order.value == ["10ms", "20ms", "30ms"])
    }

    @Test func aTimerWakeIsReportedByThePollStep() throws {
        let loop = try EventLoop()
        let t = loop.spawn(name: "sleeper") { try await loop.sleep(for: .milliseconds(5)) }
        loop.step()
        #expect(loop.state(t.id)?.waitReason.map { if case .sleep = $0 { true } else { false } } == true)
        let poll = try #require(loop.step(timeout: .seconds(2)).pollReport, "the poll wakes at the deadline, not at the timeout")
        #expect(poll.wakes.map(\.cause) == [.timer])
    }

    @Test func aFailingTaskIsRecordedAndTheOthersGoOn() throws {
        struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }
        let loop = try EventLoop()
        let count = Box(0)
        let bad = loop.spawn(name: "bad") {
            try await loop.yield()
            throw Boom()
        }
        let good = loop.spawn(name: "good") {
            for _ in 0..<5 {
                count.value += 1
                try await loop.yield()
            }
        }
        loop.run()
        #expect(loop.state(bad.id) == .failed("boom"))
        #expect(loop.state(good.id) == .done)
        #expect(count.value == 5)
    }

    @Test func anIdleStepWithATimeoutReportsIdle() throws {
        let loop = try EventLoop()
        let (a, _b) = try AsyncSocket.pair(on: loop)
        _ = _b
        loop.spawn(name: "reader") { _ = try await a.recv(max: 1) }
        loop.step()
        let idle = loop.step(timeout: .milliseconds(20))
        guard case .idle(let report) = idle.kind else { Issue.record("expected idle, got \(idle.kind)"); return }
        #expect(report.waitedNanos > 0)
        #expect(report.note == nil)
        let emptyLoop = try EventLoop()
        guard case .idle(let r2) = emptyLoop.step(timeout: .seconds(5)).kind else { Issue.record("expected idle"); return }
        #expect(r2.note == "no task left")
        #expect(r2.waitedNanos == 0, "with nothing to wait for it does not sleep")
    }

    @Test func runStopsAtIdleAtAStepLimitAndOnAStopRequest() throws {
        let loop = try EventLoop()
        let (a, _b) = try AsyncSocket.pair(on: loop)
        _ = _b
        loop.spawn(name: "reader") { _ = try await a.recv(max: 1) }
        loop.spawn(name: "counter") { for _ in 0..<3 { try await loop.yield() } }
        guard case .idle = loop.run(until: .idle) else { Issue.record("expected idle"); return }
        #expect(loop.snapshot().recvWait.count == 1, "idle: tasks may still wait on sockets")
        guard case .stepLimit = loop.run(until: .steps(2)) else { Issue.record("expected step limit"); return }

        // A stop request from another thread ends a run that would otherwise go on.
        let stopper = Thread { loop.requestStop() }
        let started = monotonicNanos()
        stopper.start()
        let outcome = loop.run(until: .noTasks, pollTimeout: .seconds(30))
        guard case .stopRequested = outcome else { Issue.record("expected stop, got \(outcome)"); return }
        #expect(monotonicNanos() - started < 30_000_000_000)
        stopper.join()
    }

    @Test func runUntilADeadlineReturnsAtTheDeadline() throws {
        let loop = try EventLoop()
        let (a, _b) = try AsyncSocket.pair(on: loop)
        _ = _b
        loop.spawn(name: "reader") { _ = try await a.recv(max: 1) }
        guard case .deadline = loop.run(until: .deadline(monotonicNanos() + 20_000_000)) else {
            Issue.record("expected deadline"); return
        }
    }

    @Test func breakpointPredicateStopsTheRunAtTheMatchingStep() throws {
        let loop = try EventLoop()
        loop.spawn(name: "a") { for _ in 0..<10 { try await loop.yield() } }
        let b = loop.spawn(name: "b") { try await loop.sleep(for: .milliseconds(1)) }
        let outcome = loop.run(stopWhen: { event in
            if case .waits(let w)? = event.taskStep?.outcome, case .sleep = w.reason { return true }
            return false
        })
        guard case .matched(let event) = outcome else { Issue.record("\(outcome)"); return }
        #expect(event.taskStep?.task == b.id)
        #expect(event.number == 2)
    }
}

/// A plain OS thread (for the few tests that need a second thread): an OSThread, which
/// is detached when dropped unjoined.
final class Thread: @unchecked Sendable {
    private let thread: OSThread
    init(_ body: @escaping @Sendable () -> Void) { thread = OSThread(name: "test", body) }
    func start() { thread.start() }
    func join() { thread.join() }
}
