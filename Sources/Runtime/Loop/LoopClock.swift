// The loop's own clock: the process's monotonic clock, moved by what pauses took off (and
// by what a driver's clock skipped ahead), standing still while the loop is paused. A
// driver may keep the clock instead (Seams.swift: time travel's modelled and recorded
// clocks, in the TimeTravel module). Every time the loop uses or shows — timers, run
// limits, busy time, ages, waits — reads it.

extension EventLoop {
    /// Now on the loop's clock, in nanoseconds (comparable with every time the loop shows).
    @inline(__always)
    public func now() -> UInt64 {
        if driverClock { return driver.unsafelyUnwrapped.now(self) }
        if clockPaused { return pausedNow }
        return monotonicNanos() &+ clockOffset
    }

    /// Whether the loop's clock is the real one — the process's monotonic clock, paused or
    /// not, recorded or not — rather than a model a driver keeps (time travel's), on which real durations (a thread's, the kernel's) are not comparable.
    public var isClockReal: Bool {
        !(driverClock && driver.unsafelyUnwrapped.clockIsModelled)
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
    /// closes `pauseGate`: the loop's pools stop at their next checkpoint. Idempotent. (A
    /// driver's modelled clock does not run between steps anyway.)
    public func pauseClock() {
        assertOnLoopThread()
        guard !clockPaused else { return }
        // The real clock's reading (under a driver's clock, what the driver says: beneath
        // a modelled clock the real one keeps running).
        pausedNow = driverClock ? driver.unsafelyUnwrapped.pauseReading(self) : now()
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
    package func publishClock() {
        let still = clockPaused || (driverClock && driver.unsafelyUnwrapped.clockIsModelled)
        sharedClock.publish(paused: still ? now() : nil, offset: clockOffset)
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
    /// clock moved by what the loop's pauses took off and a modelled clock's periods added.
    public func now() -> UInt64 {
        let (frozen, offset) = state.withLock { ($0.frozen, $0.offset) }
        return frozen ?? monotonicNanos() &+ offset
    }

    /// Whether the loop's clock stands still now (paused, or a driver's modelled clock).
    public var isPaused: Bool { state.withLock { $0.frozen != nil } }
}
