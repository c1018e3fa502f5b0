// The poll step: the seed's `while not tasks: select(recv_wait, send_wait, [])`. It runs
// only when nothing is ready: it drains what other threads handed over, fires due timers,
// and waits on the poller, moving every woken task to the ready queue.
import Glibc

extension EventLoop {

    /// One poll step. Its event is built only if `report` is set or observers are
    /// attached: a free run with nobody watching pays for no event (nor for a copy of the
    /// step's wakes).
    func pollStep(timeoutNanos: UInt64, report: Bool = true) -> StepEvent? {
        let number = beginStep(task: nil, at: now())
        collectingWakes = true
        var signals = 0
        var waited: UInt64 = 0
        var failure: String?
        pollOnce: do {
            drainInbox()
            fireTimers(now: now())
            if let source = wakeSource { source.wakeReady(self) }
            // Nothing can ever wake: say so rather than sleep.
            if stepWakes.isEmpty && table.liveCount == 0 && pendingFutures == 0 && inbox.withLock({ $0.isEmpty }) {
                break pollOnce
            }
            // No limit: the poll blocks until something happens (no timer armed in the kernel).
            var timeout: UInt64? = stepWakes.isEmpty ? (timeoutNanos == .max ? nil : timeoutNanos) : 0
            if driverClock, let polled = driver.unsafelyUnwrapped.idlePoll(self, horizon: timeout ?? .max, signals: &signals) {
                (failure, waited) = polled
                break pollOnce
            }
            if timeout != 0, let next = queues.nextTimerDeadline() {
                let now = now()
                timeout = min(timeout ?? .max, next > now ? next - now : 0)
            }
            if timeout != 0, let next = wakeSource?.nextArrival {
                let now = now()
                timeout = min(timeout ?? .max, next > now ? next - now : 0)
            }
            (failure, waited) = pollAndWake(timeoutNanos: timeout, signals: &signals)
            fireTimers(now: now())
            if let source = wakeSource { source.wakeReady(self) }
        }
        collectingWakes = false
        // Why an idle step did not poll, or how its poll failed (for records and events alike).
        func idleNote() -> String? {
            failure.map { "poll failed: \($0)" } ?? (table.liveCount == 0 && waited == 0 ? "no task left" : nil)
        }
        if writesRecords {
            if !stepWakes.isEmpty { records.append(.pollEnded(waitedNanos: waited, signals: signals)) }
            endRecords(.polled(end: now(), woke: !stepWakes.isEmpty, waitedNanos: waited,
                               note: recordText(stepWakes.isEmpty ? idleNote() : nil)))
        }
        guard report || !observers.isEmpty else {
            stepWakes.removeAll(keepingCapacity: true)
            return nil
        }
        let wakes = stepWakes
        stepWakes.removeAll(keepingCapacity: true)
        let event: StepEvent
        if wakes.isEmpty {
            event = StepEvent(number: number, kind: .idle(IdleReport(waitedNanos: waited, note: idleNote())))
        } else {
            let report = PollReport(backend: poller.kind, waitedNanos: waited, wakes: wakes, wakeChannelSignals: signals)
            if !observers.isEmpty { notify(.pollEnded(report)) }
            event = StepEvent(number: number, kind: .polled(report))
        }
        endStep(event, report: false)
        return event
    }

    /// Polls once (releasing the GIL around it) and moves what it reports to ready: the
    /// wake-up channel drains the inbox, readable and writable fds wake their waiters.
    /// - Returns: why the poll failed, if it did, and how long it blocked.
    package func pollAndWake(timeoutNanos timeout: UInt64?, signals: inout Int) -> (failure: String?, waited: UInt64) {
        var failure: String?
        var waited: UInt64 = 0
        do {
            try syncInterest()
            pollEvents.removeAll(keepingCapacity: true)
            let before = now()
            if watched {
                if !observers.isEmpty { notify(.pollBegan(poller.kind, timeoutNanos: timeout)) }
                if writesRecords { writeRecord(.pollBegan(timeoutNanos: timeout, at: before)) }
            }
            // The GIL is free while the loop waits (CPython's select releases it).
            let gilHeld = loopHoldsGIL
            if gilHeld { gilLock?.release() }
            defer { if gilHeld { gilLock?.acquire(as: "loop") } }
            defer { waited = now() &- before }
            if driverInputs {
                try driver.unsafelyUnwrapped.poll(self, timeoutNanos: timeout, into: &pollEvents)
            } else {
                try poller.poll(timeoutNanos: timeout, into: &pollEvents)
            }
        } catch {
            failure = "\(error)"
            if driverInputs { driver.unsafelyUnwrapped.pollFailed(self, failure!) }
        }
        // (A replay's events name the wake-up channel -1: its recorded fds are the
        // recording's numbers, one of which may be this process's wake-up channel.)
        let wakeFD = driverInputs ? driver.unsafelyUnwrapped.polledWakeFD(self) : wakeChannel.fd
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
        // A replay's fds are the recording's, not the kernel's: the poller never sees them.
        if !kernelFDs {
            queues.dirtyFDs.removeAll(keepingCapacity: true)
            return
        }
        for fd in queues.dirtyFDs {
            // Registered edge-triggered, both directions, once: nothing to change.
            if edgeTriggered && readiness.isRegistered(fd) { continue }
            // A wake source's sockets (the simulated network's) are not the poller's.
            if isSourceFD(fd) { continue }
            try poller.update(fd: fd, read: queues.recv[fd] != nil, write: queues.send[fd] != nil)
        }
        queues.dirtyFDs.removeAll(keepingCapacity: true)
    }

    /// Takes in what other threads handed over: jobs, future completions, pool events,
    /// calls. `afterWake`: the drain of a poll that reported the wake-up channel (a
    /// recording records how many inputs it took, a replay takes as many).
    package func drainInbox(afterWake: Bool = false) {
        if driverInputs, driver.unsafelyUnwrapped.drainsInbox(self, afterWake: afterWake) { return }
        // Nothing handed over since the last drain: no lock (see `inboxPending`).
        guard inboxPending.load(ordering: .acquiring) else {
            if afterWake && driverInputs { driver.unsafelyUnwrapped.took(self, [], afterWake: true) }
            return
        }
        let items = inbox.withLock { items -> [InboxItem] in
            inboxPending.store(false, ordering: .relaxed)
            if items.isEmpty { return [] }
            let taken = items
            items.removeAll()
            return taken
        }
        if driverInputs { driver.unsafelyUnwrapped.took(self, items, afterWake: afterWake) }
        for item in items {
            switch item {
            case .job(let job):
                let record = record(of: job)
                if let record, !record.isFinished {
                    let wake = Wake(task: record.id, from: record.wait?.reason ?? .external, cause: .foreignResume)
                    record.phase = .ready
                    if collectingWakes { stepWakes.append(wake) }
                    if watched { noteWoke(record, wake) }
                }
                ready.append(.job(job, record))
            case .future(let future):
                deliver(future)
            case .pool(let event):
                emit(.pool(event))
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
