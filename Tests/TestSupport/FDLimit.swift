// The test process's limit on open fds (RLIMIT_NOFILE). A stock Debian machine starts a
// process with a soft limit of 1,024 and a hard limit far above it; a test that needs more
// fds raises the soft limit to the hard limit first, as SwiftNIO's tests do, and is skipped
// (not failed, not passed) where even the hard limit is too low. (`swift test` itself starts
// the test process with its soft limit raised; the test binary run by anything else is not.)
//
//     @Test(.enabled(if: FDLimit.raise(toFit: 10_100), FDLimit.tooLow(for: 10_100)))
import Glibc
import Testing

public enum FDLimit {
    /// The soft and hard limits as the process started (before any raise).
    public static let atStart: (soft: UInt64, hard: UInt64) = current

    /// The soft and hard limits now.
    public static var current: (soft: UInt64, hard: UInt64) {
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return (0, 0) }
        return (UInt64(r.rlim_cur), UInt64(r.rlim_max))
    }

    /// The soft limit after raising it to the hard limit (done once, on first use).
    private static let raised: UInt64 = {
        _ = atStart  // read before the raise
        var r = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return 0 }
        if r.rlim_cur < r.rlim_max {
            var wanted = r
            wanted.rlim_cur = r.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &wanted)
        }
        return current.soft
    }()

    /// Raises the soft limit to the hard limit (the first call does; later calls find it
    /// done) and says whether `fds` fds fit under it: fds 0 to `fds - 1` can be open.
    public static func raise(toFit fds: UInt64) -> Bool {
        raised >= fds
    }

    /// Why a test that needs `fds` fds is skipped, naming the limits the process started with.
    public static func tooLow(for fds: UInt64) -> Comment {
        Comment(rawValue: "needs \(fds) open fds; the process started with a soft limit of \(atStart.soft), "
            + "which it may raise only to the hard limit, \(atStart.hard)")
    }
}
