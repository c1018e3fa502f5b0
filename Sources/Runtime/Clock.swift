// The runtime keeps its own time, in monotonic nanoseconds. Every step is timed, so the
// clock must be cheap: where the kernel itself trusts the CPU's cycle counter (the TSC
// clocksource on x86_64; always on arm64) it is read directly and scaled, calibrated once
// against CLOCK_MONOTONIC; otherwise clock_gettime is used.
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
        // Calibrate over 2 ms of wall time, once per process.
        let c0 = corepl_cycles(), n0 = Self.systemNanos()
        var c1 = c0, n1 = n0
        while n1 &- n0 < 2_000_000 {
            c1 = corepl_cycles()
            n1 = Self.systemNanos()
        }
        guard c1 > c0 else {
            (usesCycles, baseCycles, baseNanos, nanosPerCycleQ32) = (false, 0, 0, 1 << 32)
            return
        }
        (usesCycles, baseCycles, baseNanos) = (true, c1, n1)
        nanosPerCycleQ32 = UInt64((Double(n1 &- n0) / Double(c1 &- c0) * 4_294_967_296).rounded())
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
