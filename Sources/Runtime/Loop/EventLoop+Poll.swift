// The poll step: the seed's `while not tasks: select(recv_wait, send_wait, [])`. It runs
// only when nothing is ready: it drains what other threads handed over, fires due timers,
// and waits on the poller, moving every woken task to the ready queue.
import Glibc

extension EventLoop {

    /// One poll step. Its event is built only if `report` is set or observers are
    /// attached: a free run with nobody watching pays for no event (nor for a copy of the
    /// step's wakes).
    func pollStep(timeoutNanos: UInt64, report: Bool = true) -> StepEvent? {
        let number = beginStep(task: nil)
        collectingWakes = true
        var signals = 0
        var waited: UInt64 = 0
        var failure: String?
        pollOnce: do {
            drainInbox()
            fireTimers(now: now())
            if sim != nil { wakeSimulated() }
            // Nothing can ever wake: say so rather than sleep.
            if stepWakes.isEmpty && table.liveCount == 0 && pendingFutures == 0 && inbox.withLock({ $0.isEmpty }) {
                break pollOnce
            }
            // No limit: the poll blocks until something happens (no timer armed in the kernel).
            var timeout: UInt64? = stepWakes.isEmpty ? (timeoutNanos == .max ? nil : timeoutNanos) : 0
            if clockIsVirtual {
                (failure, waited) = pollVirtually(horizon: timeout ?? .max, signals: &signals)
                break pollOnce
            }
            if timeout != 0, let next = queues.nextTimerDeadline() {
                let now = now()
                timeout = min(timeout ?? .max, next > now ? next - now : 0)
            }
            if timeout != 0, let next = sim?.nextArrival {
                let now = now()
                timeout = min(timeout ?? .max, next > now ? next - now : 0)
            }
            (failure, waited) = pollAndWake(timeoutNanos: timeout, signals: &signals)
            fireTimers(now: now())
            if sim != nil { wakeSimulated() }
        }
        collectingWakes = false
        guard report || !observers.isEmpty else {
            stepWakes.removeAll(keepingCapacity: true)
            return nil
        }
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

    /// The poll on the virtual clock: look without waiting; if nothing came, wait (in real
    /// time, the clock standing still) for the pool work due before the next thing that can
    /// happen, then jump to it, at most `horizon` ahead. (A free run lets the jump reach the
    /// next timer or its own end: see `run`.)
    /// - Returns: why the poll failed, if it did, and how far the clock moved.
    private func pollVirtually(horizon: UInt64, signals: inout Int) -> (failure: String?, waited: UInt64) {
        let start = now()
        // Work due by now has happened, in virtual time: wait for it to be done.
        awaitDueWork(upTo: start, signals: &signals)
        // In one order every run: timers, then pool work by due time, then sockets.
        deliverHeld()
        let failure = pollAndWake(timeoutNanos: 0, signals: &signals).failure
        fireTimers(now: now())
        deliverHeld()
        if sim != nil { wakeSimulated() }
        if failure == nil && stepWakes.isEmpty && horizon > 0 {
            let limit = start > .max - horizon ? .max : start + horizon
            let target = min(nextVirtualEvent() ?? limit, limit)
            if awaitDueWork(upTo: target, signals: &signals) {
                virtualNow = max(virtualNow, target)
                fireTimers(now: now())
                deliverHeld()
                if sim != nil { wakeSimulated() }
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

    /// Polls once (releasing the GIL around it) and moves what it reports to ready: the
    /// wake-up channel drains the inbox, readable and writable fds wake their waiters.
    /// - Returns: why the poll failed, if it did, and how long it blocked.
    private func pollAndWake(timeoutNanos timeout: UInt64?, signals: inout Int) -> (failure: String?, waited: UInt64) {
        var failure: String?
        var waited: UInt64 = 0
        do {
            try syncInterest()
            pollEvents.removeAll(keepingCapacity: true)
            if !observers.isEmpty { notify(.pollBegan(poller.kind, timeoutNanos: timeout)) }
            // The GIL is free while the loop waits (CPython's select releases it).
            let gilHeld = loopHoldsGIL
            if gilHeld { gilLock?.release() }
            defer { if gilHeld { gilLock?.acquire(as: "loop") } }
            let before = now()
            defer { waited = now() &- before }
            if isReplaying {
                pollEvents = try replayPoll(timeoutNanos: timeout)
            } else {
                try poller.poll(timeoutNanos: timeout, into: &pollEvents)
            }
            if isRecordingInputs { recordPoll(pollEvents, failure: nil) }
        } catch {
            failure = "\(error)"
            if isRecordingInputs { recordPoll([], failure: failure) }
        }
        // A replay's events name the wake-up channel -1: its recorded fds are the journal's
        // numbers, one of which may be this process's wake-up channel.
        let wakeFD = isReplaying ? -1 : wakeChannel.fd
        for event in pollEvents {
            if event.fd == wakeFD {
                signals += 1
                wakeChannel.drain()
                drainInbox(afterWake: true)
                continue
            }
            if edgeTriggered { readiness.mark(event) }
            if event.readable, let r = queues.recv[event.fd] { wake(r, cause: .readable(fd: event.fd)) }
            if event.writable, let r = queues.send[event.fd] { wake(r, cause: .writable(fd: event.fd)) }
        }
        return (failure, waited)
    }

    /// Tells the poller what changed since the last poll.
    func syncInterest() throws(SystemCallError) {
        guard !queues.dirtyFDs.isEmpty else { return }
        // A replay's fds are the journal's, not the kernel's: the poller never sees them.
        if isReplaying {
            queues.dirtyFDs.removeAll(keepingCapacity: true)
            return
        }
        for fd in queues.dirtyFDs {
            // Registered edge-triggered, both directions, once: nothing to change.
            if edgeTriggered && readiness.isRegistered(fd) { continue }
            // The simulated network's sockets are not the poller's.
            if isSimulated(fd) { continue }
            try poller.update(fd: fd, read: queues.recv[fd] != nil, write: queues.send[fd] != nil)
        }
        queues.dirtyFDs.removeAll(keepingCapacity: true)
    }

    /// Takes in what other threads handed over: jobs, future completions, pool events,
    /// calls. `afterWake`: the drain of a poll that reported the wake-up channel (a
    /// journal records how many inputs it took, a replay takes as many).
    func drainInbox(afterWake: Bool = false) {
        if isReplaying { return replayDrainInbox(afterWake: afterWake) }
        // Nothing handed over since the last drain: no lock (see `inboxPending`).
        guard inboxPending.load(ordering: .acquiring) else {
            if afterWake && isRecordingInputs { recordInput(.drained(0)) }
            return
        }
        let items = inbox.withLock { items -> [InboxItem] in
            inboxPending.store(false, ordering: .relaxed)
            if items.isEmpty { return [] }
            let taken = items
            items.removeAll()
            return taken
        }
        if isRecordingInputs, inputJournal!.isRecording, afterWake || !items.isEmpty {
            if afterWake { recordInput(.drained(items.count { if case .pool = $0 { false } else { true } })) }
            for item in items {
                switch item {
                case .job: recordInput(.job)
                case .future(let f):
                    recordInput(f.outcomeIsInput ? .outcome(future: f.id.rawValue, failure: f.failureDescription)
                                                 : .future(f.id.rawValue))
                case .call: recordInput(.call)
                case .pool: break
                }
            }
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
        let fds = Set(queues.recv.entries.map(\.fd)).union(queues.send.entries.map(\.fd))
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
