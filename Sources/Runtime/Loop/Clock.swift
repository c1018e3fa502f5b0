// The runtime keeps its own time, in monotonic nanoseconds. Every step is timed, so the
// clock must be cheap: where the kernel itself trusts the CPU's cycle counter (the TSC
// clocksource on x86_64; always on arm64) it is read directly and scaled, calibrated once
// against CLOCK_MONOTONIC (each end read as a tight pair, so a preemption cannot skew it);
// otherwise clock_gettime is used.
import CLinux
import Glibc

/// Nanoseconds on the runtime's monotonic clock.
///
/// The runtime stamps steps, waits and timers with these values; they are only
/// meaningful relative to each other within one process.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    let c = CycleClock.shared
    guard c.usesCycles else { return CycleClock.systemNanos() }
    // Fixed point (32 fractional bits): no floating-point conversion on the hot path.
    let (high, low) = (corepl_cycles() &- c.baseCycles).multipliedFullWidth(by: c.nanosPerCycleQ32)
    return c.baseNanos &+ (high << 32 | low >> 32)
}

/// The calibration of the cycle counter against CLOCK_MONOTONIC.
struct CycleClock: Sendable {
    let usesCycles: Bool
    let baseCycles: UInt64
    let baseNanos: UInt64
    /// Nanoseconds per cycle, times 2^32.
    let nanosPerCycleQ32: UInt64

    static let shared = CycleClock()

    static func systemNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    private init() {
        #if arch(x86_64)
        let trusted = Self.kernelClocksource() == "tsc"
        #elseif arch(arm64)
        let trusted = true
        #else
        let trusted = false
        #endif
        guard trusted else {
            (usesCycles, baseCycles, baseNanos, nanosPerCycleQ32) = (false, 0, 0, 1 << 32)
            return
        }
        guard let (base, ratio) = Self.calibrate(cycles: { corepl_cycles() }, nanos: Self.systemNanos) else {
            (usesCycles, baseCycles, baseNanos, nanosPerCycleQ32) = (false, 0, 0, 1 << 32)
            return
        }
        (usesCycles, baseCycles, baseNanos, nanosPerCycleQ32) = (true, base.cycles, base.nanos, ratio)
    }

    /// A reading of both clocks at (nearly) one instant: the cycle counter read between two
    /// system clock reads, the tightest of a few tries. `width` is how far apart the two
    /// system reads were: the pair's uncertainty.
    struct Pair {
        var cycles: UInt64
        var nanos: UInt64
        var width: UInt64
    }

    static func pair(cycles: () -> UInt64, nanos: () -> UInt64) -> Pair {
        var best = Pair(cycles: 0, nanos: 0, width: .max)
        for _ in 0..<8 {
            let a = nanos(), c = cycles(), b = nanos()
            guard b >= a else { continue }
            if b - a < best.width { best = Pair(cycles: c, nanos: a + (b - a) / 2, width: b - a) }
        }
        return best
    }

    /// The widest a pair may be (a thread preempted between the reads gives a wide one).
    static let maxPairWidth: UInt64 = 20_000
    /// How long calibration measures.
    static let calibrationNanos: UInt64 = 5_000_000

    /// Calibrates the cycle counter against the system clock over `calibrationNanos`:
    /// returns the base pair and nanoseconds per cycle times 2^32, or nil when no tight
    /// pair could be had or the counter does not advance. (A bare read of each clock at
    /// each end, as before, let a preemption between two reads skew the ratio: under CPU
    /// load the runtime's clock then ran several times too fast.)
    static func calibrate(cycles: () -> UInt64, nanos: () -> UInt64) -> (base: Pair, nanosPerCycleQ32: UInt64)? {
        for _ in 0..<10 {
            let p0 = pair(cycles: cycles, nanos: nanos)
            guard p0.width <= maxPairWidth else { continue }
            var now = nanos()
            while now &- p0.nanos < calibrationNanos { now = nanos() }
            let p1 = pair(cycles: cycles, nanos: nanos)
            guard p1.width <= maxPairWidth else { continue }
            guard p1.cycles > p0.cycles, p1.nanos > p0.nanos else { return nil }
            let ratio = Double(p1.nanos - p0.nanos) / Double(p1.cycles - p0.cycles)
            return (p1, UInt64((ratio * 4_294_967_296).rounded()))
        }
        return nil
    }

    private static func kernelClocksource() -> String? {
        guard let f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r") else { return nil }
        defer { fclose(f) }
        var buf = [UInt8](repeating: 0, count: 64)
        guard fgets(&buf, 64, f) != nil else { return nil }
        let bytes = buf.prefix { $0 != 0 && $0 != 10 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `0...UInt64.max`.
    public var clampedNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds < 0) { return 0 }
        let (ns, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return .max }
        let (sum, overflow2) = ns.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return overflow2 ? .max : sum
    }
}
