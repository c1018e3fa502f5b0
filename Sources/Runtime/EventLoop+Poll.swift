// The poll step: the seed's `while not tasks: select(recv_wait, send_wait, [])`. It runs
// only when nothing is ready: it drains what other threads handed over, fires due timers,
// and waits on the poller, moving every woken task to the ready queue.
import Glibc

extension EventLoop {

    func pollStep(timeoutNanos: UInt64) -> StepEvent {
        stepNumber += 1
        if !observers.isEmpty { notify(.stepBegan(stepNumber, task: nil)) }
        var wakes: [Wake] = []
        var signals = 0
        var waited: UInt64 = 0
        var failure: String?
        withUnsafeMutablePointer(to: &wakes) { wakes in
            drainInbox(wakes)
            fireTimers(now: monotonicNanos(), wakes)
            // Nothing can ever wake: say so rather than sleep.
            if wakes.pointee.isEmpty && liveCount == 0 && pendingFutures == 0 && inbox.withLock({ $0.isEmpty }) {
                return
            }
            var timeout: UInt64? = wakes.pointee.isEmpty ? timeoutNanos : 0
            if let t = timeout, let next = nextTimerDeadline {
                let now = monotonicNanos()
                timeout = min(t, next > now ? next - now : 0)
            }
            do {
                try syncInterest()
                pollEvents.removeAll(keepingCapacity: true)
                if !observers.isEmpty { notify(.pollBegan(poller.kind, timeoutNanos: timeout)) }
                let before = monotonicNanos()
                try poller.poll(timeoutNanos: timeout, into: &pollEvents)
                waited = monotonicNanos() &- before
            } catch {
                failure = "\(error)"
            }
            for event in pollEvents {
                if event.fd == wakeChannel.fd {
                    signals += 1
                    wakeChannel.drain()
                    drainInbox(wakes)
                    continue
                }
                if event.readable, let r = recvWait.removeValue(forKey: event.fd) {
                    dirtyFDs.append(event.fd)
                    makeReady(r, cause: .readable(fd: event.fd), wakes: wakes)
                }
                if event.writable, let r = sendWait.removeValue(forKey: event.fd) {
                    dirtyFDs.append(event.fd)
                    makeReady(r, cause: .writable(fd: event.fd), wakes: wakes)
                }
            }
            fireTimers(now: monotonicNanos(), wakes)
        }
        let event: StepEvent
        if wakes.isEmpty {
            let note = failure.map { "poll failed: \($0)" }
                ?? (liveCount == 0 && waited == 0 ? "no task left" : nil)
            event = StepEvent(number: stepNumber, kind: .idle(IdleReport(waitedNanos: waited, note: note)))
        } else {
            event = StepEvent(number: stepNumber, kind: .polled(PollReport(
                backend: poller.kind, waitedNanos: waited, wakes: wakes, wakeChannelSignals: signals)))
        }
        if !observers.isEmpty {
            if case .polled(let report) = event.kind { notify(.pollEnded(report)) }
            notify(.stepEnded(event))
        }
        return event
    }

    /// Tells the poller what changed since the last poll.
    func syncInterest() throws(SystemCallError) {
        guard !dirtyFDs.isEmpty else { return }
        for fd in dirtyFDs {
            try poller.update(fd: fd, read: recvWait[fd] != nil, write: sendWait[fd] != nil)
        }
        dirtyFDs.removeAll(keepingCapacity: true)
    }

    func drainInbox(_ wakes: UnsafeMutablePointer<[Wake]>) {
        let items = inbox.withLock { items -> [InboxItem] in
            if items.isEmpty { return [] }
            let taken = items
            items.removeAll()
            return taken
        }
        for item in items {
            switch item {
            case .job(let job):
                let record = record(of: job)
                if let record, !record.isFinished {
                    let from = record.wait?.reason ?? .external
                    record.phase = .ready
                    let wake = Wake(task: record.id, from: from, cause: .foreignResume)
                    wakes.pointee.append(wake)
                    if !observers.isEmpty { notify(.woke(wake)) }
                }
                ready.append(.job(job, record))
            case .future(let future):
                deliver(future, wakes: wakes)
            case .pool(let event):
                notify(.pool(event))
            case .call(let body):
                body()
            }
        }
    }
}
