// The runtime keeps its own time: monotonic nanoseconds from clock_gettime, cheap on Linux
// (vDSO), so that every step can be timed and every timer compared without allocation.
import Glibc

/// Nanoseconds on the monotonic clock (`clock_gettime(CLOCK_MONOTONIC)`).
///
/// The runtime stamps steps, waits and timers with these values; they are only
/// meaningful relative to each other within one process.
@inline(__always)
public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
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
