// The runtime's clock: the cycle counter's calibration must not be skewed by a thread
// preempted between two clock reads (under CPU load the clock once ran ten times too fast,
// so timeouts of 120 s expired after 12 s and timers fired out of order).
@testable import Runtime
import Testing

/// Two simulated clocks over one "true" time: a 3 GHz cycle counter and a nanosecond
/// clock. Every read takes 20 ns; at the reads listed in `stalls` the reading thread is
/// preempted for 10 ms first.
final class SimulatedClocks {
    var trueNanos: UInt64 = 1_000_000_000
    var reads = 0
    let stalls: Set<Int>

    init(stalls: Set<Int>) { self.stalls = stalls }

    private func tick() {
        reads += 1
        if stalls.contains(reads) { trueNanos += 10_000_000 }
        trueNanos += 20
    }

    func cycles() -> UInt64 { tick(); return trueNanos * 3 }
    func nanos() -> UInt64 { tick(); return trueNanos }
}

@Suite(.timeLimit(.minutes(1))) struct ClockTests {
    @Test(arguments: [Set<Int>(), [2], [1, 2, 3], [5, 6, 28, 29], Set(stride(from: 2, through: 60, by: 3))])
    func calibrationIsNotSkewedByAPreemptionBetweenReads(stalls: Set<Int>) throws {
        let clocks = SimulatedClocks(stalls: stalls)
        let (_, q32) = try #require(CycleClock.calibrate(cycles: clocks.cycles, nanos: clocks.nanos))
        let nanosPerCycle = Double(q32) / 4_294_967_296
        #expect(abs(nanosPerCycle * 3 - 1) < 1e-4, "calibrated \(nanosPerCycle) ns per cycle, truly \(1.0 / 3)")
    }

    @Test func aClockThatNeverGivesATightPairIsNotUsed() {
        // Every read preempted: no pair is tight enough, so the system clock is used.
        let clocks = SimulatedClocks(stalls: Set(1...100_000))
        #expect(CycleClock.calibrate(cycles: clocks.cycles, nanos: clocks.nanos) == nil)
    }

    @Test func theRuntimeClockKeepsPaceWithTheSystemClock() {
        // Elapsed time on both clocks over ~20 ms, each end read as a tight pair.
        let p0 = CycleClock.pair(cycles: monotonicNanos, nanos: CycleClock.systemNanos)
        var now = CycleClock.systemNanos()
        while now - p0.nanos < 20_000_000 { now = CycleClock.systemNanos() }
        let p1 = CycleClock.pair(cycles: monotonicNanos, nanos: CycleClock.systemNanos)
        let ours = Double(p1.cycles - p0.cycles), system = Double(p1.nanos - p0.nanos)
        #expect(abs(ours / system - 1) < 0.01, "runtime clock ran \(ours / system)x the system clock")
    }
}
