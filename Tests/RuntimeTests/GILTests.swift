// The GIL switch: one holder at a time under many threads, the drop request after a
// switch interval, and the loop's part (it holds the GIL for steps, never while it polls
// or after a run returns). Counts and states are asserted, never durations.
import Glibc
import Pools
import Runtime
import Synchronization
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct GILTests {
    @Test func manyThreadsNeverHoldItAtOnce() {
        let gil = GIL(switchInterval: .microseconds(50))
        let inside = Atomic<Int>(0)
        let overlaps = Atomic<Int>(0)
        let total = Box(0)  // only touched under the GIL
        let threads = (0..<8).map { i in
            OSThread(name: "gil-\(i)") {
                for round in 0..<2_000 {
                    gil.acquire(as: "t\(i)")
                    if inside.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue != 1 {
                        overlaps.wrappingAdd(1, ordering: .relaxed)
                    }
                    total.value += 1
                    inside.wrappingSubtract(1, ordering: .sequentiallyConsistent)
                    // Some holders stay long enough to be asked to drop (a checkpoint may
                    // hand the GIL over, as a Python thread's bytecode boundary does).
                    if round % 100 == 0 {
                        let until = monotonicNanos() + 200_000
                        while monotonicNanos() < until { gil.checkpoint() }
                    }
                    gil.release()
                }
            }
        }
        for t in threads { t.start() }
        for t in threads { t.join() }
        #expect(overlaps.load(ordering: .relaxed) == 0)
        #expect(total.value == 16_000)
        let snap = gil.snapshot()
        #expect(snap.holder == nil && snap.waiters.isEmpty)
        #expect(snap.switches >= 16_000)
    }

    @Test func aWaiterAsksAHolderThatNeverLetsGoAndGetsItsTurn() {
        let gil = GIL(switchInterval: .milliseconds(1))
        let holding = Semaphore()
        let stop = Atomic<Bool>(false)
        let cpu = OSThread(name: "cpu") {
            gil.acquire(as: "cpu", for: "fib(40)")
            holding.signal()
            // CPU-bound: it only ever lets go when asked (checkpoint).
            while !stop.load(ordering: .relaxed) { gil.checkpoint() }
            gil.release()
        }
        cpu.start()
        holding.wait()
        #expect(gil.snapshot().holder?.name == "cpu (fib(40))")
        gil.acquire(as: "io")
        let snap = gil.snapshot()
        #expect(snap.holder?.name == "io")
        #expect(snap.dropRequests >= 1, "the waiter's interval ran out: it asked")
        #expect(snap.forcedDrops >= 1, "the holder dropped because it was asked")
        #expect(snap.waits.first { $0.name == "io" }?.count == 1)
        stop.store(true, ordering: .relaxed)
        gil.release()
        cpu.join()
    }

    @Test func theLoopHoldsItForStepsAndReleasesItAfterwards() throws {
        let loop = try EventLoop()
        let gil = loop.joinGIL(switchInterval: .milliseconds(1))
        let seen = Box<String?>(nil)
        let t = loop.spawn(name: "t") { seen.value = gil.snapshot().holder?.name }
        loop.step()
        #expect(seen.value == "loop", "a step runs holding the GIL")
        #expect(gil.snapshot().holder == nil, "a step returning releases it")
        loop.run(until: .taskDone(t.id))
        #expect(gil.snapshot().holder == nil, "a run returning releases it")
        loop.leaveGIL()
        #expect(loop.gil == nil)
    }

    @Test func thePoolComputesUnderTheLoopsGILAndThePollLetsItGo() throws {
        // If the loop kept the GIL while it polls, the worker could never take it and the
        // future would never complete (the time limit would catch the hang).
        let loop = try EventLoop()
        let gil = loop.joinGIL(switchInterval: .milliseconds(1))
        let pool = ThreadPool(size: 2, gil: gil)
        defer { pool.shutdown(wait: true) }
        let holders = Box<[String]>([])
        let got = Box(0)
        let t = loop.spawn(name: "waiter") {
            let futures = (0..<20).map { i in
                pool.submit(on: loop, label: "work \(i)") { () -> Int in
                    // The worker holds the GIL while it runs.
                    gil.snapshot().holder?.name.hasPrefix("pool-") == true ? 1 : 0
                }
            }
            for f in futures { got.value += try await f.get() }
            holders.value.append(gil.snapshot().holder?.name ?? "nobody")
        }
        loop.run(until: .taskDone(t.id))
        #expect(loop.taskInfo(t.id)?.state.name == "done")
        #expect(got.value == 20, "every piece of work ran holding the GIL")
        #expect(holders.value == ["loop"])
        loop.leaveGIL()
    }

    @Test func withoutAGILNothingIsHeld() throws {
        let loop = try EventLoop()
        #expect(loop.gil == nil)
        #expect(loop.snapshot().gil == nil)
        loop.leaveGIL()  // unmatched: nothing happens
        #expect(loop.gil == nil)
    }
}
