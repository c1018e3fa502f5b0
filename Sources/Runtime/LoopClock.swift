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
                virtualNow = monotonicNanos() &+ clockOffset
                clockIsVirtual = true
            } else {
                let real = monotonicNanos()
                clockOffset = virtualNow > real ? virtualNow - real : 0
                clockIsVirtual = false
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

    /// How far the virtual clock has skipped ahead of the real one.
    public var clockSkippedNanos: UInt64 {
        assertOnLoopThread()
        let real = monotonicNanos()
        let loopNow = now()
        return loopNow > real ? loopNow - real : 0
    }
}
