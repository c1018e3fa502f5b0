// Pools stand still with a paused loop (PauseGate.swift): a thread pool's work waits at its
// checkpoints, a process pool's workers are stopped (SIGSTOP) and continued. Without it, a
// fib(40) at a breakpoint is computed while nobody looks, and its request afterwards seems
// to take no time and to starve nobody. (fib's own checkpoints: FibServiceTests'
// PausedFibTests.)
import Pools
import Runtime
import Synchronization
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(2))) struct PausedPoolTests {
    @Test func threadPoolWorkWaitsAtItsCheckpointsWhileThePauseGateIsClosed() throws {
        let loop = try EventLoop()
        let pool = ThreadPool(size: 1)
        defer { pool.shutdown(wait: true) }
        let progress = Atomic<Int>(0), stop = Atomic<Bool>(false)
        let gate = loop.pauseGate
        let done = pool.submit(on: loop, label: "spin") {
            while !stop.load(ordering: .relaxed) {
                gate.checkpoint()
                progress.add(1, ordering: .relaxed)
            }
            return 0
        }
        #expect(eventually { progress.load(ordering: .relaxed) > 1000 })
        loop.pauseClock()
        #expect(gate.isClosed)
        sleepWall(50_000_000)  // time to reach a checkpoint
        let held = progress.load(ordering: .relaxed)
        sleepWall(100_000_000)
        // At most the one increment between a checkpoint and the next.
        #expect(progress.load(ordering: .relaxed) - held <= 1, "work went on while the loop was paused")
        loop.resumeClock()
        #expect(!gate.isClosed)
        #expect(eventually { progress.load(ordering: .relaxed) > held + 1000 }, "work did not go on after the pause")
        stop.store(true, ordering: .relaxed)
        loop.spawn(name: "waiter") { _ = try await done.get() }
        loop.run(until: .noTasks)
    }

    @Test func processPoolWorkersAreStoppedAndContinuedWithTheLoop() throws {
        guard let pool = try workerPool(size: 2) else { return }
        let loop = try EventLoop()
        defer { pool.shutdown() }
        // A first request ties the pool to the loop's pause gate.
        let reply = Box("")
        let t = loop.spawn(name: "request") { reply.value = try await pool.submit(on: loop, label: "fib(20)", request: "20").get() }
        loop.run(until: .taskDone(t.id))
        #expect(reply.value == "6765")
        let pids = Set(pool.workerPIDs)
        #expect(pids.count == 2)
        func states() throws -> [Character] { try allProcesses().filter { pids.contains($0.pid) }.map(\.state) }
        loop.pauseClock()
        let stopped = try eventually { try states() == ["T", "T"] }
        let whenPaused = try states()
        #expect(stopped, "workers not stopped: \(whenPaused)")
        loop.resumeClock()
        let continued = try eventually { let s = try states(); return s.count == 2 && s.allSatisfy { $0 != "T" } }
        let whenResumed = try states()
        #expect(continued, "workers not continued: \(whenResumed)")
        // And they still answer.
        let again = loop.spawn(name: "again") { reply.value = try await pool.submit(on: loop, label: "fib(21)", request: "21").get() }
        loop.run(until: .taskDone(again.id))
        #expect(reply.value == "10946")
    }
}
