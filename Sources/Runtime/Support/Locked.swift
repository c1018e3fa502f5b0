// A value behind a POSIX mutex, for state that several threads share.
//
// Why not Synchronization.Mutex: on Linux it locks with futex calls the thread sanitizer
// does not see, so every access it protects is reported as a race (a ten-line program
// with two threads appending under Mutex.withLock shows it), and `scripts/sanitize` could
// not tell real races from those. pthread mutexes are intercepted by the sanitizer, cost
// the same uncontended, and none of these locks is on the per-step path.
import Glibc

/// A value that any thread may read or change, one at a time.
public final class Locked<Value>: @unchecked Sendable {
    /// Only touched under the mutex: no dynamic exclusivity check needed.
    @exclusivity(unchecked) private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value, holding the lock.
    @inline(__always)
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
