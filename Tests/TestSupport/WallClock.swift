// Wall-clock time for the tests whose subject is wall-clock time itself (a paused loop's
// clock standing still while it passes, pool threads held at a gate). Every other test
// advances the loop by stepping it.
import Glibc
import Runtime

/// Sleeps the calling thread for `nanos` nanoseconds of wall-clock time.
public func sleepWall(_ nanos: Int) {
    var ts = timespec(tv_sec: nanos / 1_000_000_000, tv_nsec: nanos % 1_000_000_000)
    nanosleep(&ts, nil)
}

/// Waits (at most `seconds`) for `condition`, looking every millisecond; whether it held.
public func eventually(seconds: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = monotonicNanos() + UInt64(seconds * 1e9)
    while monotonicNanos() < deadline {
        if try condition() { return true }
        sleepWall(1_000_000)
    }
    return try condition()
}
