// A counting semaphore (POSIX sem_t), for threads that must sleep until another thread
// hands them something: pool workers waiting for work, a thread blocked on a future.
import CLinux
import Glibc

/// A counting semaphore any thread may signal or wait on.
public final class Semaphore: @unchecked Sendable {
    private let sem: UnsafeMutablePointer<sem_t>

    /// A semaphore whose count starts at `value`.
    public init(_ value: UInt32 = 0) {
        sem = .allocate(capacity: 1)
        sem_init(sem, 0, value)
    }

    deinit {
        sem_destroy(sem)
        sem.deallocate()
    }

    /// Adds `count` to the count, waking as many waiters.
    public func signal(_ count: Int = 1) {
        for _ in 0..<count { sem_post(sem) }
    }

    /// Waits until the count is above zero, then takes one.
    public func wait() {
        while sem_wait(sem) == -1 && errno == EINTR {}
    }

    /// Like `wait()`, but gives up after `nanos` nanoseconds; true if it took one.
    public func wait(nanos: UInt64) -> Bool {
        corepl_sem_wait_nanos(sem, nanos) == 0
    }
}
