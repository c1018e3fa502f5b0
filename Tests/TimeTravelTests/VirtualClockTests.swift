// The loop's virtual clock (Sources/TimeTravel/VirtualClock.swift): steps cost a fixed amount,
// an idle poll jumps to the next deadline, nothing jumps while another thread has work in
// flight, and going back to the real clock keeps time moving forward.
import Foundation
import Glibc
import Pools
import Runtime
@testable import TimeTravel
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(1))) struct VirtualClockTests {
    @Test func sleepersWakeAtTheirDeadlinesExactlyAndStepsCostTheirPrice() throws {
        let loop = try EventLoop()
        loop.clock = .virtual
        loop.virtualStepCost = .microseconds(10)
        let t0 = loop.now()
        let long = loop.spawn(name: "long") { try await loop.sleep(for: .seconds(5)) }
        let short = loop.spawn(name: "short") { try await loop.sleep(for: .seconds(2)) }
        let order = Box<[TaskID]>([])
        loop.spawn(name: "watcher") {
            _ = try await loop.join(short.id); order.value.append(short.id)
            _ = try await loop.join(long.id); order.value.append(long.id)
        }
        guard case .noTasksLeft = loop.run() else { Issue.record("the run did not end with its tasks"); return }
        #expect(order.value == [short.id, long.id])
        let s = try #require(loop.taskInfo(short.id)), l = try #require(loop.taskInfo(long.id))
        // `short` began after `long`'s first step (10 µs), slept 2 s from then, and ended
        // in the step it woke in.
        #expect(s.endedAt! - s.createdAt == 2_000_000_000 + 10_000)
        #expect(l.busyNanos == 20_000, "two steps of 10 µs")
        #expect(loop.now() - t0 >= 5_000_000_000)
        #expect(loop.now() - t0 < 5_001_000_000)
    }

    @Test func aRunForADurationEndsAtItsDeadlineWithoutWaiting() throws {
        let loop = try EventLoop()
        loop.clock = .virtual
        let (a, b) = try AsyncSocket.pair(on: loop)
        defer { b.close() }  // kept open: the reader waits for ever
        loop.spawn(name: "reader") { _ = try await a.recv(max: 1) }  // waits for ever
        let start = loop.now()
        let deadline = start + 3_600_000_000_000  // an hour
        let outcome = loop.run(until: .deadline(deadline))
        guard case .deadline = outcome else { Issue.record("not ended by its deadline: \(outcome)"); return }
        #expect(loop.now() == deadline)
        #expect(loop.stepCount < 10, "one jump, not an hour of polls")
    }

    @Test func theClockStandsStillWhileAnotherThreadHasWorkInFlight() throws {
        let loop = try EventLoop()
        loop.clock = .virtual
        loop.virtualStepCost = .microseconds(1)
        let future = loop.makeFuture(of: Int.self, label: "work")
        let t = loop.spawn(name: "awaiter") { _ = try await future.get() }
        loop.step()
        let before = loop.now()
        let worker = OSThread(name: "worker") { usleep(30_000); _ = future.succeed(1) }
        worker.start()
        #expect(loop.stepUntil(limit: 1_000, timeout: .seconds(5)) { loop.state(t.id) == .done })
        #expect(loop.now() - before < 1_000_000, "no jump while the future was pending: \(loop.now() - before) ns")
    }

    @Test func backToTheRealClockTimeGoesOnFromWhereTheVirtualOneGot() throws {
        let loop = try EventLoop()
        loop.clock = .virtual
        loop.spawn(name: "s") { try await loop.sleep(for: .seconds(100)) }
        loop.run()
        let virtualEnd = loop.now()
        loop.clock = .real
        #expect(loop.clock == .real)
        #expect(loop.now() >= virtualEnd)
        #expect(loop.clockSkippedNanos >= 99_000_000_000)
        // A sleeper on the real clock still wakes after its own duration.
        let s = loop.spawn(name: "t") { try await loop.sleep(for: .milliseconds(20)) }
        #expect(loop.stepUntil(limit: 100, timeout: .seconds(1)) { loop.state(s.id) == .done })
    }
}

extension VirtualClockTests {
    /// Pool work with a virtual cost completes in virtual time on the first free worker,
    /// in order of due time, however long the real work takes: two runs whose real
    /// durations differ take the same steps with the same clock readings.
    @Test func poolWorkIsDeliveredInVirtualTimeWhateverItsRealDuration() throws {
        func run(realMicros: [UInt32]) throws -> [String] {
            let loop = try EventLoop()
            loop.clock = .virtual
            let pool = ThreadPool(size: 2)
            defer { pool.shutdown() }
            let t0 = loop.now()
            let costs: [Duration] = [.milliseconds(30), .milliseconds(10), .milliseconds(20), .milliseconds(5), .milliseconds(1)]
            let log = Box<[String]>([])
            for (i, cost) in costs.enumerated() {
                let real = realMicros[i]
                loop.spawn(name: "w\(i)") {
                    let v = try await pool.submit(on: loop, label: "job \(i)", virtualCost: cost) { usleep(real); return i }.get()
                    log.value.append("job \(v) at \((loop.now() - t0) / 1_000_000) ms")
                }
            }
            var steps: [String] = []
            while loop.liveTaskCount > 0 {
                let e = loop.step(timeout: .seconds(5))
                steps.append("\(e.number) \(e.taskStep?.task.rawValue ?? 0) \(e.pollReport?.wakes.map(\.task.rawValue) ?? [])")
            }
            return log.value + steps
        }
        let a = try run(realMicros: [1_000, 30_000, 5_000, 20_000, 100])
        let b = try run(realMicros: [25_000, 100, 15_000, 1_000, 8_000])
        #expect(a == b)
        // Two workers: 30 ms and 10 ms start at once; 20 ms at 10; 5 ms at 30; 1 ms at 30.
        #expect(Array(a.prefix(5)) == ["job 1 at 10 ms", "job 0 at 30 ms", "job 2 at 30 ms", "job 4 at 31 ms", "job 3 at 35 ms"], "\(a.prefix(5))")
    }
}
