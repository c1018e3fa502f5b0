// The gate that stops a loop's outside work while the loop is paused at a prompt: an
// all-stop pause, as a debugger stops every thread at a breakpoint. Pool threads pass
// through it between pieces of work and at checkpoints inside long ones (fib checks it
// every ~10 µs of work, as it checks the GIL); a process pool stops its worker processes
// (SIGSTOP) while it is closed. Time the loop stood paused is then nobody's time: a fib(40)
// that sat at a breakpoint takes as much loop time, and serves perf2 as much, as one that
// did not.
import Glibc
import Synchronization

/// Closed while the loop's clock is paused; pool work waits at its checkpoints (any thread).
public final class PauseGate: @unchecked Sendable {
    private let closed = Atomic<Bool>(false)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>
    private let listeners = Locked<[ObjectIdentifier: @Sendable (Bool) -> Void]>([:])

    init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Whether the gate is closed now (the loop is paused).
    public var isClosed: Bool { closed.load(ordering: .relaxed) }

    /// Returns at once while the gate is open; while it is closed, waits until it opens.
    /// Long work calls it often (every few microseconds of work is cheap: one relaxed load).
    @inline(__always)
    public func checkpoint() {
        if closed.load(ordering: .relaxed) { waitOpen() }
    }

    @inline(never)
    private func waitOpen() {
        pthread_mutex_lock(mutex)
        while closed.load(ordering: .relaxed) { pthread_cond_wait(cond, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Tells `listener` when the gate closes (true) and opens (false), on the thread that
    /// does it (the loop's), until `removeListener(owner)`. A process pool stops and
    /// continues its workers so.
    public func addListener(_ owner: AnyObject, _ listener: @escaping @Sendable (Bool) -> Void) {
        listeners.withLock { $0[ObjectIdentifier(owner)] = listener }
        if isClosed { listener(true) }
    }

    /// Stops telling `owner`'s listener.
    public func removeListener(_ owner: AnyObject) {
        listeners.withLock { $0[ObjectIdentifier(owner)] = nil }
    }

    func close() {
        pthread_mutex_lock(mutex)
        let was = closed.exchange(true, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
        if !was { tell(true) }
    }

    func open() {
        pthread_mutex_lock(mutex)
        let was = closed.exchange(false, ordering: .relaxed)
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        if was { tell(false) }
    }

    private func tell(_ closing: Bool) {
        for l in listeners.withLock({ Array($0.values) }) { l(closing) }
    }
}
