// The seed's `future_notify, future_event = socketpair()`, as an eventfd: any thread can
// interrupt the loop's blocking poll. Signals coalesce: one pending write is enough.
import CLinux
import Glibc
import Synchronization

/// An eventfd that other threads write to wake the loop from its poll.
final class WakeChannel: Sendable {
    /// The fd the poller watches for reading.
    let fd: Int32
    /// True from a signal until the loop drains it: further signals skip the write.
    private let pending = Atomic<Bool>(false)

    init() throws(SystemCallError) {
        fd = try Sys.call("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    /// Wakes the loop (any thread).
    func signal() {
        if pending.exchange(true, ordering: .acquiringAndReleasing) { return }
        var one: UInt64 = 1
        withUnsafeBytes(of: &one) { buf in
            while write(fd, buf.baseAddress, 8) == -1 && errno == EINTR {}
        }
    }

    /// Consumes pending signals (loop thread). Call before draining what they announce.
    func drain() {
        pending.store(false, ordering: .sequentiallyConsistent)
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { buf in read(fd, buf.baseAddress, 8) }
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
