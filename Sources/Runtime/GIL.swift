// The GIL switch: a lock that behaves as CPython's global interpreter lock, so the seed's
// central experiment reproduces in Swift. It follows CPython's "new GIL" (Python 3.2+,
// Python/ceval_gil.c) step by step:
//
// - take: a thread that finds the lock held waits on a condition for one switch interval;
//   if the interval passes with no switch, it sets the drop request and waits again.
// - the holder checks the drop request cheaply (`checkpoint()`, CPython's eval breaker)
//   and, when set, drops the lock and waits until another thread has taken it
//   (FORCE_SWITCHING), then queues to take it back.
// - a thread releases it around blocking calls (CPython's Py_BEGIN_ALLOW_THREADS) and
//   takes it back after: if a CPU-bound thread grabbed it meanwhile, the I/O thread waits
//   out a whole interval before it may ask for it — the convoy effect (bpo-7946).
import CLinux
import Glibc
import Synchronization

/// A lock that one thread at a time holds while it "runs Python", dropped on request every
/// switch interval, like CPython's GIL. Any thread may use it.
public final class GIL: @unchecked Sendable {
    /// CPython's default switch interval (`sys.getswitchinterval()`: 0.005).
    public static let defaultSwitchInterval: Duration = .milliseconds(5)

    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Waiters for the lock sleep here (CPython's `gil->cond`).
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// A holder that dropped on request waits here for the switch (`gil->switch_cond`).
    private let switchCond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Set by a waiter whose interval passed with no switch; the holder drops on seeing it.
    private let dropRequested = Atomic<Bool>(false)
    private let intervalNanos: Atomic<UInt64>

    // Guarded by `mutex`.
    private var locked = false
    private var holder: (thread: pthread_t, name: String, since: UInt64)?
    private var holderKey: (name: String, work: String) = ("", "")
    private var lastHolder: pthread_t?
    private var switchNumber: UInt64 = 0
    private var waiters: [(thread: pthread_t, name: String, since: UInt64)] = []
    private var counters = Counters()

    struct Counters {
        var dropRequests: UInt64 = 0
        var forcedDrops: UInt64 = 0
        var waited: [String: (count: UInt64, nanos: UInt64, longest: UInt64)] = [:]
    }

    /// A GIL with the given switch interval (CPython's `sys.setswitchinterval`).
    public init(switchInterval: Duration = GIL.defaultSwitchInterval) {
        intervalNanos = Atomic(max(1_000, switchInterval.clampedNanoseconds))
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_cond_init(switchCond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(switchCond)
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        switchCond.deallocate()
        cond.deallocate()
        mutex.deallocate()
    }

    /// How long a waiter lets the holder run before it asks for the lock (at least 1 µs).
    public var switchInterval: Duration {
        get { .nanoseconds(Int64(intervalNanos.load(ordering: .relaxed))) }
        set { intervalNanos.store(max(1_000, newValue.clampedNanoseconds), ordering: .relaxed) }
    }

    /// Takes the lock for the calling thread, waiting as CPython's `take_gil` does. `name`
    /// says who holds it in `snapshot()` (`"loop"`, `"pool-2"`; waits are counted by name),
    /// `work` what for (`"fib(40)"`).
    public func acquire(as name: String, for work: String = "") {
        let me = pthread_self()
        let shown = work.isEmpty ? name : "\(name) (\(work))"
        pthread_mutex_lock(mutex)
        if locked {
            let since = monotonicNanos()
            waiters.append((me, shown, since))
            while locked {
                let saved = switchNumber
                let timedOut = wait(cond, nanos: intervalNanos.load(ordering: .relaxed))
                // The interval passed and nobody switched: ask the holder to drop it.
                if timedOut && locked && switchNumber == saved {
                    if !dropRequested.load(ordering: .relaxed) { counters.dropRequests &+= 1 }
                    dropRequested.store(true, ordering: .relaxed)
                }
            }
            waiters.removeAll { pthread_equal($0.thread, me) != 0 }
            let waited = monotonicNanos() &- since
            var w = counters.waited[name, default: (0, 0, 0)]
            w.count &+= 1
            w.nanos &+= waited
            w.longest = max(w.longest, waited)
            counters.waited[name] = w
        }
        locked = true
        holder = (me, shown, monotonicNanos())
        holderKey = (name, work)
        lastHolder = me
        switchNumber &+= 1
        pthread_cond_broadcast(switchCond)
        dropRequested.store(false, ordering: .relaxed)
        pthread_mutex_unlock(mutex)
    }

    /// Releases the lock (CPython's `drop_gil`). If a drop was requested, waits until
    /// another thread has taken it, so the requester gets its turn.
    public func release() {
        pthread_mutex_lock(mutex)
        precondition(locked && holder.map { pthread_equal($0.thread, pthread_self()) != 0 } ?? false,
                     "GIL.release() by a thread that does not hold it")
        locked = false
        holder = nil
        pthread_cond_signal(cond)
        if dropRequested.load(ordering: .relaxed), let last = lastHolder, pthread_equal(last, pthread_self()) != 0 {
            dropRequested.store(false, ordering: .relaxed)
            counters.forcedDrops &+= 1
            let saved = switchNumber
            // Wait for the switch (bounded, in case the thread that asked went away).
            var rounds = 0
            while switchNumber == saved && !waiters.isEmpty && rounds < 100 {
                _ = wait(switchCond, nanos: 10_000_000)
                rounds += 1
            }
        }
        pthread_mutex_unlock(mutex)
    }

    /// The holder's cheap check (CPython's eval breaker): if another thread asked for the
    /// lock, drop it, let that thread run, and queue to take it back.
    @inline(__always)
    public func checkpoint() {
        if dropRequested.load(ordering: .relaxed) { yieldOnRequest() }
    }

    @inline(never)
    private func yieldOnRequest() {
        pthread_mutex_lock(mutex)
        let mine = locked && holder.map { pthread_equal($0.thread, pthread_self()) != 0 } ?? false
        let key = holderKey
        pthread_mutex_unlock(mutex)
        guard mine else { return }
        release()
        acquire(as: key.name, for: key.work)
    }

    /// Runs a blocking call without the lock (CPython's Py_BEGIN/END_ALLOW_THREADS), then
    /// takes it back as `name`. The caller must hold it.
    public func releasing<T>(as name: String, _ body: () throws -> T) rethrows -> T {
        release()
        defer { acquire(as: name) }
        return try body()
    }

    /// Who holds the lock and who waits for it, now (any thread).
    public func snapshot() -> GILSnapshot {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        let now = monotonicNanos()
        return GILSnapshot(
            switchIntervalNanos: intervalNanos.load(ordering: .relaxed),
            holder: holder.map { .init(name: $0.name, nanos: now &- $0.since) },
            waiters: waiters.map { .init(name: $0.name, nanos: now &- $0.since) },
            dropRequested: dropRequested.load(ordering: .relaxed),
            switches: switchNumber,
            dropRequests: counters.dropRequests,
            forcedDrops: counters.forcedDrops,
            waits: counters.waited.map { .init(name: $0.key, count: $0.value.count, nanos: $0.value.nanos, longestNanos: $0.value.longest) }
                .sorted { $0.name < $1.name },
            takenAt: now)
    }

    /// Waits on `c` (with `mutex` held) at most `nanos`; true if the time ran out.
    private func wait(_ c: UnsafeMutablePointer<pthread_cond_t>, nanos: UInt64) -> Bool {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let total = UInt64(now.tv_nsec) + nanos
        var deadline = timespec(tv_sec: now.tv_sec + Int(total / 1_000_000_000), tv_nsec: Int(total % 1_000_000_000))
        return pthread_cond_timedwait(c, mutex, &deadline) == ETIMEDOUT
    }
}

/// The GIL at one moment: who holds it, who waits, and what it cost so far.
public struct GILSnapshot: Sendable, Encodable {
    /// A thread holding or waiting for the lock, and for how long (nanoseconds).
    public struct Party: Sendable, Encodable {
        public var name: String
        public var nanos: UInt64
    }
    /// How often a thread (by name) had to wait for the lock, and for how long in total.
    public struct Waits: Sendable, Encodable {
        public var name: String
        public var count: UInt64
        public var nanos: UInt64
        public var longestNanos: UInt64
    }
    public var switchIntervalNanos: UInt64
    public var holder: Party?
    public var waiters: [Party]
    public var dropRequested: Bool
    /// How many times a thread took the lock.
    public var switches: UInt64
    /// How many times a waiter's interval ran out and it asked the holder to drop.
    public var dropRequests: UInt64
    /// How many times a holder dropped because it was asked.
    public var forcedDrops: UInt64
    public var waits: [Waits]
    /// Monotonic nanoseconds.
    public var takenAt: UInt64
}

extension GILSnapshot {
    /// `held by pool-1: fib(40) for 120ms; waiting: loop for 3.1ms; switch interval 5ms, 1234 switches, 210 on request`
    public var summary: String {
        let held = holder.map { "held by \($0.name) for \(Self.text($0.nanos))" } ?? "free"
        let waiting = waiters.isEmpty ? "" : "; waiting: " + waiters.map { "\($0.name) for \(Self.text($0.nanos))" }.joined(separator: ", ")
        return "\(held)\(waiting); switch interval \(Self.text(switchIntervalNanos)), "
            + "\(switches) switches, \(forcedDrops) on request"
    }

    /// `loop waited 812 times, 4.06s in all (longest 5.3ms); pool-2: fib(1) waited 3 times, …`, or
    /// nil if nobody has waited yet.
    public var waitsSummary: String? {
        guard !waits.isEmpty else { return nil }
        return waits.map {
            "\($0.name) waited \($0.count == 1 ? "once" : "\($0.count) times"), \(Self.text($0.nanos)) in all (longest \(Self.text($0.longestNanos)))"
        }.joined(separator: "; ")
    }

    static func text(_ nanos: UInt64) -> String {
        DurationText.format(.nanoseconds(Int64(min(nanos, UInt64(Int64.max)))))
    }
}
