// The loop's own clock (docs/TIME-TRAVEL.md): real — the process's monotonic clock, plus
// whatever a virtual period skipped ahead — or virtual, a number the loop advances itself:
// by a fixed cost per task step, and by jumping to the next deadline when the loop would
// otherwise wait with nothing outside it to wait for (trio's MockClock with autojump).
// Every time the loop uses or shows — timers, run limits, busy time, ages, waits — reads it.

/// Which clock the loop reads.
public enum LoopClockKind: String, Sendable, Hashable {
    /// The process's monotonic clock.
    case real
    /// The loop's own: a task step costs `virtualStepNanos`; an idle poll jumps ahead.
    case virtual
}

extension EventLoop {
    /// Now on the loop's clock, in nanoseconds (comparable with every time the loop shows).
    @inline(__always)
    public func now() -> UInt64 {
        if clockIsVirtual { return virtualNow }
        if clockPaused { return pausedNow }
        if clockJournaled { return journaledNow() }
        return monotonicNanos() &+ clockOffset
    }

    /// Which clock the loop reads (default `.real`). Switching keeps time continuous: the
    /// virtual clock starts at the real one's now, and the real one then goes on from
    /// where the virtual one got to (it runs ahead of `monotonicNanos()` by what was
    /// skipped).
    public var clock: LoopClockKind {
        get {
            assertOnLoopThread()
            return clockIsVirtual ? .virtual : .real
        }
        set {
            assertOnLoopThread()
            guard newValue != clock else { return }
            if newValue == .virtual {
                virtualNow = clockPaused ? pausedNow : monotonicNanos() &+ clockOffset
                clockIsVirtual = true
                publishClock()
            } else {
                // The real clock goes on from the virtual one's reading (paused, if it was).
                let real = clockPaused ? pausedNow : monotonicNanos() &+ clockOffset
                if virtualNow > real { virtualSkipped &+= virtualNow - real }
                if clockPaused { pausedNow = virtualNow } else { clockOffset = virtualNow &- monotonicNanos() }
                clockIsVirtual = false
                publishClock()
                // Work held for its virtual time is delivered now.
                deliveringHeld = true
                for f in virtualHeld { deliver(f) }
                deliveringHeld = false
                virtualHeld.removeAll()
                virtualUnarrived.removeAll()
            }
        }
    }

    /// What a task step costs on the virtual clock (default 10 µs): busy times and
    /// latencies are counted in steps.
    public var virtualStepCost: Duration {
        get { .nanoseconds(Int64(virtualStepNanos)) }
        set { virtualStepNanos = max(0, newValue.clampedNanoseconds) }
    }

    /// Sets the virtual clock, forward or back (re-running a recorded session on a fresh
    /// loop: each step gets the reading it had). Only on the virtual clock.
    public func setVirtualNow(_ nanos: UInt64) {
        assertOnLoopThread()
        guard clockIsVirtual else { return }
        virtualNow = nanos
    }

    /// The earliest thing the virtual clock waits for: a sleeper's deadline, pool work
    /// due (finished or not), or a segment of the simulated network arriving.
    func nextVirtualEvent() -> UInt64? {
        var next = queues.nextTimerDeadline()
        for f in virtualHeld { next = min(next ?? .max, f.virtualDue ?? 0) }
        for due in virtualUnarrived.values { next = min(next ?? .max, due) }
        if let due = sim?.nextArrival { next = min(next ?? .max, due) }
        return next
    }

    /// Delivers the finished work due by now — in order of due time (then id), and only
    /// what is due before any work still running: the same order every run.
    func deliverHeld() {
        guard !virtualHeld.isEmpty else { return }
        let firstRunning = virtualUnarrived.map { ($0.value, $0.key.rawValue) }.min { $0 < $1 }
        virtualHeld.sort { ($0.virtualDue ?? 0, $0.id.rawValue) < ($1.virtualDue ?? 0, $1.id.rawValue) }
        deliveringHeld = true
        defer { deliveringHeld = false }
        while let f = virtualHeld.first, let due = f.virtualDue, due <= virtualNow {
            if let r = firstRunning, (r.0, r.1) < (due, f.id.rawValue) { break }
            virtualHeld.removeFirst()
            deliver(f)
        }
    }

    /// How far virtual periods have skipped the real clock ahead of the time the loop ran.
    public var clockSkippedNanos: UInt64 {
        assertOnLoopThread()
        return virtualSkipped
    }

    // MARK: Pausing

    /// Whether the clock stops while the loop is stopped: `run` and `step` resume it on
    /// entry and pause it when they return (default false). An interactive front end sets
    /// it, so that the time a person spends at the prompt is not loop time: windows,
    /// rates, waits and latencies then count the time the loop ran, as if the session had
    /// been typed without a pause. Setting it outside a run pauses the clock at once.
    public var pausesClockBetweenRuns: Bool {
        get { clockPausesBetweenRuns }
        set {
            assertOnLoopThread()
            clockPausesBetweenRuns = newValue
            if newValue && current == nil { pauseClock() } else if !newValue { resumeClock() }
        }
    }

    /// Stops the real clock: `now()` keeps its reading until `resumeClock()`, which goes on
    /// from it (no time passes for timers, ages, waits or stamps on `sharedClock`), and
    /// closes `pauseGate`: the loop's pools stop at their next checkpoint. Idempotent. The
    /// virtual clock does not run between steps anyway.
    public func pauseClock() {
        assertOnLoopThread()
        guard !clockPaused else { return }
        // The real clock's reading (under a virtual clock it keeps running beneath it).
        pausedNow = clockIsVirtual ? monotonicNanos() &+ clockOffset : now()
        pausedSince = monotonicNanos()
        clockPaused = true
        publishClock()
        pauseGate.close()
    }

    /// Starts a paused clock again, from the reading it stopped at, and opens `pauseGate`.
    /// Idempotent.
    public func resumeClock() {
        assertOnLoopThread()
        guard clockPaused else { return }
        let wall = monotonicNanos()
        pausedTotal &+= wall &- pausedSince
        clockPaused = false
        clockOffset = pausedNow &- wall
        publishClock()
        pauseGate.open()
    }

    /// Whether the clock is paused now.
    public var isClockPaused: Bool { clockPaused }

    /// How long the clock has been paused in all: the time the loop stood still at a prompt.
    public var pausedNanos: UInt64 {
        clockPaused ? pausedTotal &+ (monotonicNanos() &- pausedSince) : pausedTotal
    }

    /// Tells `sharedClock` what the loop's clock reads now.
    func publishClock() {
        sharedClock.publish(paused: clockPaused || clockIsVirtual ? now() : nil, offset: clockOffset)
    }
}

/// The loop's real clock, for other threads: a client thread stamps its replies with it,
/// so that a figure it measures (a latency, replies in a window, a rate) counts loop time
/// as the loop's own tasks do, and stands still while the loop is paused.
public final class SharedLoopClock: Sendable {
    private struct State {
        var frozen: UInt64?
        var offset: UInt64 = 0
    }
    private let state = Locked(State())

    init() {}

    func publish(paused reading: UInt64?, offset: UInt64) {
        state.withLock { $0 = State(frozen: reading, offset: offset) }
    }

    /// The loop's clock now (any thread): its reading while paused, else the monotonic
    /// clock moved by what the loop's pauses and virtual periods took off or added.
    public func now() -> UInt64 {
        let (frozen, offset) = state.withLock { ($0.frozen, $0.offset) }
        return frozen ?? monotonicNanos() &+ offset
    }

    /// Whether the loop's clock stands still now (paused, or virtual).
    public var isPaused: Bool { state.withLock { $0.frozen != nil } }
}
