// The GIL switch: a lock that behaves as CPython's global interpreter lock, so the seed's
// central experiment reproduces in Swift. It follows CPython's "new GIL" (Python 3.2+,
// Python/ceval_gil.c):
//
// - take: a thread that finds the lock held waits on a condition for one switch interval;
//   if the interval passes with no switch, it sets the drop request and waits again.
// - the holder checks the drop request cheaply (`checkpoint()`, CPython's eval breaker)
//   and, when set, drops the lock for the thread that asked (CPython's FORCE_SWITCHING
//   makes the dropper wait until another thread has it), then queues to take it back.
// - a thread releases it around blocking calls (CPython's Py_BEGIN_ALLOW_THREADS) and
//   takes it back after: if a CPU-bound thread has it by then, the I/O thread waits out a
//   whole interval before it may ask for it — the convoy effect (bpo-7946).
//
// One difference, on purpose: a release hands the lock straight to the longest waiter
// (CPython frees it and signals, and the waiter must still be scheduled to take it). On a
// quiet machine the outcome is the same — the waiter wakes long before the releasing
// thread's poll returns — but on a loaded one CPython's releaser often takes the lock
// back before the waiter has run, and the demo would depend on the scheduler. Short
// socket calls (`releasing`) keep CPython's behaviour: the caller may take it straight back.
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
    /// Set by a waiter whose interval passed with no switch; the holder drops on seeing it.
    private let dropRequested = Atomic<Bool>(false)
    private let intervalNanos: Atomic<UInt64>

    // Guarded by `mutex`.
    private var locked = false
    private var holder: (thread: pthread_t, name: String, since: UInt64)?
    private var holderKey: (name: String, work: String) = ("", "")
    private var switchNumber: UInt64 = 0
    private var waiters: [Waiter] = []

    struct Waiter {
        var thread: pthread_t
        var name: String
        var work: String
        var since: UInt64
        var shown: String { work.isEmpty ? name : "\(name) (\(work))" }
    }
    private var counters = Counters()

    struct Counters {
        var dropRequests: UInt64 = 0
        var forcedDrops: UInt64 = 0
        var waited: [String: (count: UInt64, nanos: UInt64, longest: UInt64)] = [:]
        var held: [String: UInt64] = [:]
    }

    /// A GIL with the given switch interval (CPython's `sys.setswitchinterval`).
    public init(switchInterval: Duration = GIL.defaultSwitchInterval) {
        intervalNanos = Atomic(max(1_000, switchInterval.clampedNanoseconds))
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
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
        pthread_mutex_lock(mutex)
        takeTurn(Waiter(thread: pthread_self(), name: name, work: work, since: monotonicNanos()))
        pthread_mutex_unlock(mutex)
    }

    /// Takes the lock for `me` (with `mutex` held), waiting behind its holder if need be.
    private func takeTurn(_ me: Waiter) {
        guard locked else {
            take(me)
            return
        }
        waiters.append(me)
        // Until the lock is free or handed to this thread. The interval runs from the last
        // switch: a wake-up that finds the same holder does not restart it.
        var saved = switchNumber
        var deadline = monotonicNanos() &+ intervalNanos.load(ordering: .relaxed)
        while locked && !holdsIt(me.thread) {
            let timedOut = wait(cond, until: deadline)
            guard locked && !holdsIt(me.thread) else { break }
            if switchNumber != saved {
                saved = switchNumber
                deadline = monotonicNanos() &+ intervalNanos.load(ordering: .relaxed)
            } else if timedOut {
                // The interval passed and nobody switched: ask the holder to drop it.
                if !dropRequested.load(ordering: .relaxed) { counters.dropRequests &+= 1 }
                dropRequested.store(true, ordering: .relaxed)
                deadline = monotonicNanos() &+ intervalNanos.load(ordering: .relaxed)
            }
        }
        if holdsIt(me.thread) { return }  // handed over by `release`, which did the bookkeeping
        let waiter = waiters.remove(at: waiters.firstIndex { pthread_equal($0.thread, me.thread) != 0 }!)
        countWait(waiter)
        take(waiter)
    }

    /// Releases the lock (CPython's `drop_gil`). A thread waiting for it gets it at once,
    /// the one that has waited longest first, whether or not the scheduler has run it yet:
    /// so a thread that releases the lock to block (poll, a future, the end of its work) and
    /// comes back finds it taken and waits out an interval — the convoy effect — however
    /// loaded the machine is. Socket calls release it with `releasing`, which lets the
    /// caller take it straight back if nobody has woken meanwhile, as in CPython.
    public func release() {
        release(handOver: true)
    }

    private func release(handOver: Bool) {
        pthread_mutex_lock(mutex)
        precondition(locked && holdsIt(pthread_self()), "GIL.release() by a thread that does not hold it")
        // Asked to drop, it goes to a waiter even around a short call (CPython's
        // FORCE_SWITCHING applies to every drop while the request is set).
        if (handOver || dropRequested.load(ordering: .relaxed)) && !waiters.isEmpty {
            self.handOver()
        } else {
            if let h = holder { counters.held[holderKey.name, default: 0] &+= monotonicNanos() &- h.since }
            locked = false
            holder = nil
            // Around a short system call nobody is woken: the caller takes the lock back in a
            // few microseconds, and a waiter woken for nothing would only start its interval
            // over. A waiter whose interval ends meanwhile takes it.
            if handOver { pthread_cond_signal(cond) }
        }
        pthread_mutex_unlock(mutex)
    }

    /// Gives the lock to the longest waiter (with `mutex` held, the caller holding it).
    private func handOver() {
        if dropRequested.load(ordering: .relaxed) { counters.forcedDrops &+= 1 }
        if let h = holder { counters.held[holderKey.name, default: 0] &+= monotonicNanos() &- h.since }
        let next = waiters.removeFirst()
        countWait(next)
        take(next)
        pthread_cond_broadcast(cond)
    }

    /// Makes `w` the holder (with `mutex` held).
    private func take(_ w: Waiter) {
        locked = true
        holder = (w.thread, w.shown, monotonicNanos())
        holderKey = (w.name, w.work)
        switchNumber &+= 1
        dropRequested.store(false, ordering: .relaxed)
    }

    private func holdsIt(_ thread: pthread_t) -> Bool {
        holder.map { pthread_equal($0.thread, thread) != 0 } ?? false
    }

    private func countWait(_ w: Waiter) {
        let waited = monotonicNanos() &- w.since
        var c = counters.waited[w.name, default: (0, 0, 0)]
        c.count &+= 1
        c.nanos &+= waited
        c.longest = max(c.longest, waited)
        counters.waited[w.name] = c
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
        defer { pthread_mutex_unlock(mutex) }
        let me = pthread_self()
        guard locked && holdsIt(me) && dropRequested.load(ordering: .relaxed) && !waiters.isEmpty else { return }
        // Hand over and queue again in one go: a holder preempted right after handing over
        // is still in line (otherwise the lock could go round without it).
        let key = holderKey
        handOver()
        takeTurn(Waiter(thread: me, name: key.name, work: key.work, since: monotonicNanos()))
    }

    /// Runs a short system call without the lock (CPython's Py_BEGIN/END_ALLOW_THREADS),
    /// then takes it back as `name`: straight away if no waiter has taken it meanwhile.
    /// The caller must hold it.
    public func releasing<T>(as name: String, _ body: () throws -> T) rethrows -> T {
        release(handOver: false)
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
            waiters: waiters.map { .init(name: $0.shown, nanos: now &- $0.since) },
            dropRequested: dropRequested.load(ordering: .relaxed),
            switches: switchNumber,
            dropRequests: counters.dropRequests,
            forcedDrops: counters.forcedDrops,
            waits: Set(counters.waited.keys).union(counters.held.keys).sorted().map { name in
                let w = counters.waited[name] ?? (0, 0, 0)
                return .init(name: name, count: w.count, nanos: w.nanos, longestNanos: w.longest,
                             heldNanos: counters.held[name] ?? 0)
            },
            takenAt: now)
    }

    /// Waits on `c` (with `mutex` held) until the monotonic `deadline` at most; true if
    /// the time ran out.
    private func wait(_ c: UnsafeMutablePointer<pthread_cond_t>, until deadline: UInt64) -> Bool {
        let start = monotonicNanos()
        guard start < deadline else { return true }
        // The condition's clock is CLOCK_MONOTONIC; monotonicNanos may count cycles.
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let total = UInt64(now.tv_nsec) + (deadline - start)
        var ts = timespec(tv_sec: now.tv_sec + Int(total / 1_000_000_000), tv_nsec: Int(total % 1_000_000_000))
        return pthread_cond_timedwait(c, mutex, &ts) == ETIMEDOUT || monotonicNanos() >= deadline
    }
}

/// The GIL at one moment: who holds it, who waits, and what it cost so far.
public struct GILSnapshot: Sendable, Encodable {
    /// A thread holding or waiting for the lock, and for how long (nanoseconds).
    public struct Party: Sendable, Encodable {
        public var name: String
        public var nanos: UInt64
    }
    /// How long a thread (by name) held the lock, and how often and how long it had to wait
    /// for it.
    public struct Waits: Sendable, Encodable {
        public var name: String
        public var count: UInt64
        public var nanos: UInt64
        public var longestNanos: UInt64
        /// How long it held the lock in all (up to its latest release).
        public var heldNanos: UInt64
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
    /// What happened between `earlier` and this snapshot: switches, drops and every thread's
    /// waits and holding counted from `earlier` on (the longest wait is the longest seen
    /// overall, as the lock does not keep one per window). Holder and waiters stay as now.
    /// Pass a snapshot of the same lock; a counter smaller than `earlier`'s counts from zero.
    public func since(_ earlier: GILSnapshot) -> GILSnapshot {
        func minus(_ a: UInt64, _ b: UInt64) -> UInt64 { a >= b ? a - b : a }
        var result = self
        result.switches = minus(switches, earlier.switches)
        result.dropRequests = minus(dropRequests, earlier.dropRequests)
        result.forcedDrops = minus(forcedDrops, earlier.forcedDrops)
        let before = Dictionary(earlier.waits.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        result.waits = waits.map { w in
            guard let b = before[w.name] else { return w }
            var d = w
            d.count = minus(w.count, b.count)
            d.nanos = minus(w.nanos, b.nanos)
            d.heldNanos = minus(w.heldNanos, b.heldNanos)
            return d
        }
        return result
    }
}

extension GILSnapshot {
    /// `held by pool-1: fib(40) for 120ms; waiting: loop for 3.1ms; switch interval 5ms, 1234 switches, 210 on request`
    public var summary: String {
        let held = holder.map { "held by \($0.name) for \(Self.text($0.nanos))" } ?? "free"
        let waiting = waiters.isEmpty ? "" : "; waiting: " + waiters.map { "\($0.name) for \(Self.text($0.nanos))" }.joined(separator: ", ")
        return "\(held)\(waiting); switch interval \(Self.text(switchIntervalNanos)), "
            + "\(switches) switches, \(forcedDrops) on request"
    }

    /// `loop held 360ms, waited 52 times (264ms in all, longest 5.2ms); pool-1 held …`, or nil
    /// if nobody has held it yet.
    public var waitsSummary: String? {
        guard !waits.isEmpty else { return nil }
        return waits.map {
            let waited = $0.count == 0 ? "never waited"
                : "waited \($0.count == 1 ? "once" : "\($0.count) times") (\(Self.text($0.nanos)) in all, longest \(Self.text($0.longestNanos)))"
            return "\($0.name) held \(Self.text($0.heldNanos)), \(waited)"
        }.joined(separator: "; ")
    }

    static func text(_ nanos: UInt64) -> String {
        DurationText.format(.nanoseconds(Int64(min(nanos, UInt64(Int64.max)))))
    }
}
