// The seed's `future_notify, future_event = socketpair()`, as an eventfd: any thread can
// interrupt the loop's blocking poll. Signals coalesce: one pending write is enough.
import CLinux
import Glibc
import Synchronization

/// An eventfd that other threads write to wake the loop from its poll.
package final class WakeChannel: Sendable {
    /// The fd the poller watches for reading.
    package let fd: Int32
    /// True from a signal until the loop drains it: further signals skip the write.
    private let pending = Atomic<Bool>(false)
    /// Fault injection: while set, signals are lost (see `EventLoop.dropsWakeUps`).
    let drops = Atomic<Bool>(false)

    init() throws(SystemCallError) {
        fd = try Sys.call("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    /// Wakes the loop (any thread).
    func signal() {
        if drops.load(ordering: .relaxed) { return }
        if pending.exchange(true, ordering: .sequentiallyConsistent) { return }
        var one: UInt64 = 1
        withUnsafeBytes(of: &one) { buf in
            while write(fd, buf.baseAddress, 8) == -1 && errno == EINTR {}
        }
    }

    /// Consumes pending signals (loop thread). Call before draining what they announce.
    ///
    /// The eventfd is read *before* the flag is cleared. The other order loses wake-ups
    /// for good: a `signal()` between clearing and reading sees `false`, sets `true` and
    /// writes; the read consumes that write too, leaving the flag set over an empty
    /// eventfd, so every later `signal()` skips its write and the poll is never
    /// interrupted again. In this order a `signal()` that lands after the read either
    /// sees `true` (its item was queued before the flag is cleared, so the drain that
    /// follows this call finds it) or sees `false` after the clear and writes again.
    package func drain() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { buf in read(fd, buf.baseAddress, 8) }
        pending.store(false, ordering: .sequentiallyConsistent)
    }

    func close() {
        _ = Glibc.close(fd)
    }
}
