// The poll step: the seed's `while not tasks: select(recv_wait, send_wait, [])`. It runs
// only when nothing is ready: it drains what other threads handed over, fires due timers,
// and waits on the poller, moving every woken task to the ready queue.
import Glibc

extension EventLoop {

    func pollStep(timeoutNanos: UInt64) -> StepEvent {
        let number = beginStep(task: nil)
        collectingWakes = true
        var signals = 0
        var waited: UInt64 = 0
        var failure: String?
        pollOnce: do {
            drainInbox()
            fireTimers(now: now())
            // Nothing can ever wake: say so rather than sleep.
            if stepWakes.isEmpty && table.liveCount == 0 && pendingFutures == 0 && inbox.withLock({ $0.isEmpty }) {
                break pollOnce
            }
            var timeout: UInt64? = stepWakes.isEmpty ? timeoutNanos : 0
            if let t = timeout, let next = queues.nextTimerDeadline() {
                let now = now()
                timeout = min(t, next > now ? next - now : 0)
            }
            // The virtual clock: look without waiting; the clock jumps only if nothing
            // outside the loop (a pool, another thread) has work in flight.
            // (A free run lets the jump reach the next timer or its own end: see `run`.)
            var jump: UInt64 = 0
            if clockIsVirtual, let t = timeout, t > 0 {
                let othersBusy = pendingFutures > 0 || !inbox.withLock { $0.isEmpty }
                if !othersBusy { jump = t; timeout = 0 }
            }
            do {
                try syncInterest()
                pollEvents.removeAll(keepingCapacity: true)
                if !observers.isEmpty { notify(.pollBegan(poller.kind, timeoutNanos: timeout)) }
                let before = now()
                // The GIL is free while the loop waits (CPython's select releases it).
                let gilHeld = loopHoldsGIL
                if gilHeld { gilLock?.release() }
                defer { if gilHeld { gilLock?.acquire(as: "loop") } }
                try poller.poll(timeoutNanos: timeout, into: &pollEvents)
                if jump > 0 && pollEvents.isEmpty {
                    virtualNow &+= jump  // nothing came: the loop would have waited this long
                }
                waited = now() &- before
            } catch {
                failure = "\(error)"
            }
            for event in pollEvents {
                if event.fd == wakeChannel.fd {
                    signals += 1
                    wakeChannel.drain()
                    drainInbox()
                    continue
                }
                if edgeTriggered { readiness.mark(event) }
                if event.readable, let r = queues.recv[event.fd] { wake(r, cause: .readable(fd: event.fd)) }
                if event.writable, let r = queues.send[event.fd] { wake(r, cause: .writable(fd: event.fd)) }
            }
            fireTimers(now: now())
        }
        collectingWakes = false
        let wakes = stepWakes
        stepWakes.removeAll(keepingCapacity: true)
        let event: StepEvent
        if wakes.isEmpty {
            let note = failure.map { "poll failed: \($0)" }
                ?? (table.liveCount == 0 && waited == 0 ? "no task left" : nil)
            event = StepEvent(number: number, kind: .idle(IdleReport(waitedNanos: waited, note: note)))
        } else {
            let report = PollReport(backend: poller.kind, waitedNanos: waited, wakes: wakes, wakeChannelSignals: signals)
            if !observers.isEmpty { notify(.pollEnded(report)) }
            event = StepEvent(number: number, kind: .polled(report))
        }
        endStep(event, report: false)
        return event
    }

    /// Tells the poller what changed since the last poll.
    func syncInterest() throws(SystemCallError) {
        guard !queues.dirtyFDs.isEmpty else { return }
        for fd in queues.dirtyFDs {
            // Registered edge-triggered, both directions, once: nothing to change.
            if edgeTriggered && readiness.isRegistered(fd) { continue }
            try poller.update(fd: fd, read: queues.recv[fd] != nil, write: queues.send[fd] != nil)
        }
        queues.dirtyFDs.removeAll(keepingCapacity: true)
    }

    /// Takes in what other threads handed over: jobs, future completions, pool events,
    /// calls.
    func drainInbox() {
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
                    let wake = Wake(task: record.id, from: record.wait?.reason ?? .external, cause: .foreignResume)
                    record.phase = .ready
                    if collectingWakes { stepWakes.append(wake) }
                    if !observers.isEmpty { notify(.woke(wake)) }
                }
                ready.append(.job(job, record))
            case .future(let future):
                deliver(future)
            case .pool(let event):
                notify(.pool(event))
            case .call(let body):
                body()
            }
        }
    }

    /// The poller in use.
    public var pollerKind: PollerKind { poller.kind }

    /// Switches the poller backend between steps. Every fd being waited on moves over.
    ///
    /// - Throws: `LoopError.fdTooLargeForSelect` if select cannot watch an fd in use;
    ///   `LoopError.pollerBusy` from inside a step; a `SystemCallError` from the backend.
    public func setPoller(_ kind: PollerKind) throws {
        assertOnLoopThread()
        guard current == nil else { throw LoopError.pollerBusy }
        if kind == poller.kind { return }
        let fresh = try makePoller(kind, wakeFD: wakeChannel.fd)
        let fds = Set(queues.recv.keys).union(queues.send.keys)
        do {
            for fd in fds { try fresh.validate(fd: fd) }
        } catch {
            fresh.close()
            throw error
        }
        poller.close()
        poller = fresh
        edgeTriggered = fresh.isEdgeTriggered
        readiness.reset()
        queues.dirtyFDs = Array(fds)
    }
}
