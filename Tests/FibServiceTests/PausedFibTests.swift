// fib stands still with a paused loop: `fib(_:pausingAt:)` passes the loop's pause gate as
// it computes, so a fib(40) at a breakpoint is not computed while nobody looks. (The pools
// themselves standing still: PoolsTests' PausedPoolTests.)
import FibService
import Pools
import Runtime
import Synchronization
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(2))) struct PausedFibTests {
    @Test func fibOnAPoolThreadStandsStillWhileTheLoopIsPaused() throws {
        let loop = try EventLoop()
        let gate = loop.pauseGate
        loop.pauseClock()
        let finished = Atomic<Bool>(false)
        let thread = OSThread(name: "fib") {
            _ = fib(32, pausingAt: gate)
            finished.store(true, ordering: .relaxed)
        }
        thread.start()
        // fib(32) takes some 10 ms optimised (30 ms unoptimised): paused, it never ends.
        sleepWall(300_000_000)
        let early = finished.load(ordering: .relaxed)
        #expect(!early, "fib(32) finished while the loop was paused")
        loop.resumeClock()
        #expect(eventually { finished.load(ordering: .relaxed) })
        thread.join()
    }
}
