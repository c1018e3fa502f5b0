// The virtual clock (docs/TIME-TRAVEL.md): a number the loop advances itself — by a fixed
// cost per task step, and by jumping to the next deadline when the loop would otherwise
// wait with nothing outside it to wait for (trio's MockClock with autojump) — and pool
// work modelled on it, delivered at its due time in the same order every run. The loop
// reads it through its driver (TimeMachine.swift).
import Runtime
import Glibc

/// Which clock the loop reads.
public enum LoopClockKind: String, Sendable, Hashable {
    /// The process's monotonic clock.
    case real
    /// The loop's own: a task step costs `machine.virtualStepNanos`; an idle poll jumps ahead.
    case virtual
}

extension EventLoop {
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
                if virtualNow > real { machine.virtualSkipped &+= virtualNow - real }
                if clockPaused { pausedNow = virtualNow } else { clockOffset = virtualNow &- monotonicNanos() }
                clockIsVirtual = false
                publishClock()
                // Work held for its virtual time is delivered now.
                machine.deliveringHeld = true
                for f in virtualHeld { deliver(f) }
                machine.deliveringHeld = false
                virtualHeld.removeAll()
                virtualUnarrived.removeAll()
            }
        }
    }

    /// What a task step costs on the virtual clock (default 10 µs): busy times and
    /// latencies are counted in steps.
    public var virtualStepCost: Duration {
        get { .nanoseconds(Int64(timeMachine?.virtualStepNanos ?? 10_000)) }
        set { machine.virtualStepNanos = max(0, newValue.clampedNanoseconds) }
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
        let m = machine
        var next = queues.nextTimerDeadline()
        for f in virtualHeld { next = min(next ?? .max, m.dues[f.id] ?? 0) }
        for due in virtualUnarrived.values { next = min(next ?? .max, due) }
        if let due = sim?.nextArrival { next = min(next ?? .max, due) }
        return next
    }

    /// Delivers the finished work due by now — in order of due time (then id), and only
    /// what is due before any work still running: the same order every run.
    func deliverHeld() {
        guard !virtualHeld.isEmpty else { return }
        let m = machine
        let firstRunning = virtualUnarrived.map { ($0.value, $0.key.rawValue) }.min { $0 < $1 }
        virtualHeld.sort { (m.dues[$0.id] ?? 0, $0.id.rawValue) < (m.dues[$1.id] ?? 0, $1.id.rawValue) }
        machine.deliveringHeld = true
        defer { machine.deliveringHeld = false }
        while let f = virtualHeld.first, let due = m.dues[f.id], due <= virtualNow {
            if let r = firstRunning, (r.0, r.1) < (due, f.id.rawValue) { break }
            virtualHeld.removeFirst()
            deliver(f)
        }
    }

    /// How far virtual periods have skipped the real clock ahead of the time the loop ran.
    public var clockSkippedNanos: UInt64 {
        assertOnLoopThread()
        return timeMachine?.virtualSkipped ?? 0
    }

    /// The poll on the virtual clock: look without waiting; if nothing came, wait (in real
    /// time, the clock standing still) for the pool work due before the next thing that can
    /// happen, then jump to it, at most `horizon` ahead. (A free run lets the jump reach the
    /// next timer or its own end: see `run`.)
    /// - Returns: why the poll failed, if it did, and how far the clock moved.
    func pollVirtually(horizon: UInt64, signals: inout Int) -> (failure: String?, waited: UInt64) {
        let start = now()
        // Work due by now has happened, in virtual time: wait for it to be done.
        awaitDueWork(upTo: start, signals: &signals)
        // In one order every run: timers, then pool work by due time, then sockets.
        deliverHeld()
        let failure = pollAndWake(timeoutNanos: 0, signals: &signals).failure
        fireTimers(now: now())
        deliverHeld()
        if let source = wakeSource { source.wakeReady(self) }
        if failure == nil && stepWakes.isEmpty && horizon > 0 {
            let limit = start > .max - horizon ? .max : start + horizon
            let target = min(nextVirtualEvent() ?? limit, limit)
            if awaitDueWork(upTo: target, signals: &signals) {
                virtualNow = max(virtualNow, target)
                fireTimers(now: now())
                deliverHeld()
                if let source = wakeSource { source.wakeReady(self) }
            }
        }
        // How completions crossed from other threads is real-time detail: on the virtual
        // clock they are delivered at their time, whichever poll saw them.
        signals = 0
        return (failure, now() &- start)
    }

    /// On the virtual clock: waits, in real time, until every piece of pool work due by
    /// `target` (virtual) has finished (it is then held for its time). Only the wake-up
    /// channel is watched, so that sockets are seen by the step's own poll alone.
    /// - Returns: false if a stop request cut the wait short.
    @discardableResult
    private func awaitDueWork(upTo target: UInt64, signals: inout Int) -> Bool {
        drainInbox()
        while virtualUnarrived.values.contains(where: { $0 <= target }) {
            if stopFlag.load(ordering: .relaxed) { return false }
            var p = pollfd(fd: wakeChannel.fd, events: Int16(POLLIN), revents: 0)
            let gilHeld = loopHoldsGIL
            if gilHeld { gilLock?.release() }
            _ = Glibc.poll(&p, 1, 100)
            if gilHeld { gilLock?.acquire(as: "loop") }
            if p.revents != 0 {
                signals += 1
                wakeChannel.drain()
            }
            drainInbox()
        }
        return true
    }
}

extension EventLoop {
    /// Makes a future of this loop (see `makeFuture(of:label:countsAsPending:)`) whose
    /// completion, on the virtual clock, is delivered `virtualCost` after now, in order of
    /// those times, whenever the real work finishes: the loop waits for work due before
    /// the next thing it could jump to. On the real clock the cost means nothing.
    public func makeFuture<Value: Sendable>(
        of type: Value.Type = Value.self, label: String = "", countsAsPending: Bool = true,
        virtualCost: Duration?
    ) -> LoopFuture<Value> {
        makeFuture(of: type, label: label, countsAsPending: countsAsPending,
                   due: now() &+ (virtualCost?.clampedNanoseconds ?? 0))
    }

    /// Pool work submitted on the virtual clock: the worker and start its model gave it.
    /// Its pool events are then the model's, told when the completion is delivered, not
    /// the threads' (whose timing differs every run).
    package func setModelledWork(of future: AnyLoopFuture, pool: String, worker: Int, start: UInt64) {
        machine.modelledWork[future.id] = (pool, worker, start)
    }
}
