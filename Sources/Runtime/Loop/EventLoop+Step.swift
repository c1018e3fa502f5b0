// The step: one scheduler iteration — the seed's `task = tasks.popleft(); next(task)` —
// or, when nothing is ready, one poll (EventLoop+Poll.swift). Every step, whatever it
// does, begins with `beginStep` and ends with `endStep`.

extension EventLoop {
    /// Performs exactly one scheduler iteration: runs the head of the ready queue until
    /// its next suspension or, when nothing is ready, polls once (waiting at most
    /// `timeout`, default `defaultPollTimeout`) and moves woken tasks to ready.
    @discardableResult
    public func step(timeout: Duration? = nil) -> StepEvent {
        assertOnLoopThread()
        precondition(current == nil, "EventLoop.step() called from inside a step")
        if clockPausesBetweenRuns { resumeClock() }
        defer {
            releaseGIL()
            if clockPausesBetweenRuns { pauseClock() }
        }
        if driverHistory { driver.unsafelyUnwrapped.beforeStep(self) }
        if let entry = popReady() {
            let end = runTask(entry, startedAt: now(), report: true)
            if driverHistory { driver.unsafelyUnwrapped.afterStep(self, popped: entry, at: end) }
            return takeLastEvent()
        }
        let event = pollStep(timeoutNanos: (timeout ?? defaultPollTimeout).clampedNanoseconds)!
        if driverHistory { driver.unsafelyUnwrapped.afterStep(self, popped: nil, at: now()) }
        return event
    }

    /// Takes the entry the step runs out of the ready queue: its head (the seed's
    /// `tasks.popleft()`), or the driver's pick.
    @inline(__always)
    func popReady() -> ReadyEntry? {
        if driverPicks { return driver.unsafelyUnwrapped.pick(self) }
        return ready.popFirst()
    }

    /// The step counter: how many steps this loop has performed.
    public var stepCount: UInt64 { stepNumber }

    /// The task the current step is running, if called from inside a step.
    public var currentTask: TaskID? { current?.id }

    // MARK: Beginning and ending a step

    /// Numbers a new step and tells those who watch that it begins (`task` nil: a poll
    /// step; `start`: the clock at its start, read only for them).
    @inline(__always)
    func beginStep(task: TaskID?, at start: @autoclosure () -> UInt64) -> UInt64 {
        if gilLock != nil { holdGILForStep() }
        stepNumber &+= 1
        if watched { stepBegins(task: task, at: start()) }
        return stepNumber
    }

    @inline(never)
    private func stepBegins(task: TaskID?, at start: UInt64) {
        if !observers.isEmpty { notify(.stepBegan(stepNumber, task: task)) }
        if writesRecords {
            if !records.isEmpty { deliverRecords() }
            stepOpen = true
            records.append(.began(step: stepNumber, task: task, at: start))
        }
    }

    /// Ends the records of a step: writes its last one and hands them all to the readers.
    @inline(never)
    func endRecords(_ last: LoopRecord) {
        records.append(last)
        deliverRecords()
    }

    /// Hands a finished step's event to observers and, if `report`, to the caller
    /// (`takeLastEvent`).
    func endStep(_ event: StepEvent, report: Bool) {
        if !observers.isEmpty { notify(.stepEnded(event)) }
        if report { lastEvent = event }
    }

    func takeLastEvent() -> StepEvent {
        guard let event = lastEvent else { preconditionFailure("a reported step left no event") }
        lastEvent = nil
        return event
    }

    // MARK: Task steps

    /// Runs one ready entry's task until its next suspension. The step's event is built
    /// only if `report` is set or observers are attached: a free run with nobody watching
    /// pays for no event at all.
    ///
    /// - Parameter start: now, as the caller last read the clock.
    /// - Returns: the time the step ended (the start of the next one in a free run).
    func runTask(_ entry: ReadyEntry, startedAt start: UInt64, report: Bool) -> UInt64 {
        // With many tasks every step meets memory that is not in cache yet; while this
        // step runs, the CPU brings in the record two entries ahead and the Swift task of
        // the next one (whose record the previous step brought in).
        if ready.count > 1 { prefetchRecord(ready[1]) }
        if let next = ready.first { prefetchTask(next) }
        // The record is borrowed, not retained: the table keeps it alive for the whole step.
        switch entry {
        case .job(let job, let r):
            guard let r else { return runOrphan(job, startedAt: start, report: report) }
            return r._withUnsafeGuaranteedRef {
                runStep($0, job, resumeError: nil, startedAt: start, report: report)
            }
        case .resume(let r):
            return r._withUnsafeGuaranteedRef { record in
                guard let continuation = record.continuation else {
                    preconditionFailure("task \(record.id.rawValue) is in the ready queue without a continuation")
                }
                record.continuation = nil
                let resumeError = record.resumeError
                if resumeError != nil { record.resumeError = nil }
                capturing = true
                if let resumeError { continuation.resume(throwing: resumeError) } else { continuation.resume() }
                capturing = false
                guard let job = captured else {
                    resumedElsewhere(record, startedAt: start, report: report)
                    return start
                }
                captured = nil
                return runStep(record, job, resumeError: resumeError, startedAt: start, report: report)
            }
        }
    }

    @inline(__always)
    private func prefetchRecord(_ entry: ReadyEntry) {
        switch entry {
        case .resume(let r), .job(_, let r?): prefetch(UnsafeRawPointer(r.toOpaque()))
        case .job(_, nil): break
        }
    }

    @inline(__always)
    private func prefetchTask(_ entry: ReadyEntry) {
        switch entry {
        case .resume(let r):
            r._withUnsafeGuaranteedRef {
                if let c = $0.continuation { prefetch(taskAddress(of: c)) }
            }
        case .job(let job, _):
            prefetch(address(of: job))
        }
    }

    /// Runs `job`, the task's next piece, until the task suspends again or ends.
    @inline(__always)
    private func runStep(
        _ record: TaskRecord, _ job: UnownedJob, resumeError: (any Error)?, startedAt start: UInt64, report: Bool
    ) -> UInt64 {
        let number = beginStep(task: record.id, at: start)
        let describe = report || !observers.isEmpty
        let from = describe && record.steps > 0 ? record.wait : nil
        let fromStored = writesRecords && record.steps > 0 ? record.stored : nil
        record.phase = .running
        currentRecord = .passUnretained(record)
        stepStartedAt = start
        probeSince.store(start, ordering: .relaxed)
        probeTask.store(record.id.rawValue, ordering: .relaxed)
        job.runSynchronously(on: unownedSelf.unsafelyUnwrapped)
        probeTask.store(0, ordering: .relaxed)
        let end = stepEnd(start)
        var busy = end &- start
        if gilActive {
            // Under a GIL, waiting for the lock is not the task's running time.
            busy &-= min(gilWaitInStep, busy)
            gilWaitInStep = 0
        }
        currentRecord = nil
        record.steps &+= 1
        record.busyNanos &+= busy
        if record.phase == .running {
            // Suspended outside the runtime's primitives; something else will resume it.
            waitsExternally(record, label: "", since: start)
        }
        if writesRecords {
            endRecords(.ran(record.id, from: fromStored, busy: busy, end: end, readyAgain: readyAgainInStep,
                            resumeError: resumeError == nil ? .none : recordText("\(resumeError!)")))
        }
        if describe {
            describeStep(number, record, from: from, resumeError: resumeError, busy: busy, report: report)
        } else {
            readyAgainInStep = nil
            // (Nobody reads this step's spawns: the next described step must not show them.)
            if !spawnedThisStep.isEmpty { spawnedThisStep.removeAll(keepingCapacity: true) }
        }
        return end
    }

    /// The time a task step that began at `start` ends: now, or when a driver keeps the
    /// clock, what it says.
    @inline(__always)
    private func stepEnd(_ start: UInt64) -> UInt64 {
        if driverClock { return driver.unsafelyUnwrapped.stepEnd(self, start: start) }
        return monotonicNanos() &+ clockOffset
    }

    /// Records that a task waits outside the runtime: whatever resumes it enqueues its
    /// job, which `record(of:)` recognises by its address.
    private func waitsExternally(_ record: TaskRecord, label: StaticString, since: UInt64) {
        record.phase = .waiting
        record.stored = StoredWait(.external, label: label, location: .unknown, since: since)
        if writesRecords { records.append(.waits(record.id, record.stored.unsafelyUnwrapped)) }
        if let p = record.jobPointer { table.byAddress[p] = record }
    }

    /// Builds the event of the task step that just ended (kept out of `runTask`, whose
    /// free-running path builds nothing).
    @inline(never)
    private func describeStep(
        _ number: UInt64, _ record: TaskRecord, from: Wait?, resumeError: (any Error)?, busy: UInt64, report: Bool
    ) {
        let outcome: TaskStep.Outcome
        if record.phase == .finished {
            outcome = .exited(record.exit ?? .done)
        } else {
            outcome = .waits(record.wait!)
        }
        var spawned: [TaskID] = []
        if !spawnedThisStep.isEmpty {
            spawned = spawnedThisStep
            spawnedThisStep.removeAll()
        }
        var step = TaskStep(
            task: record.id, resumedFrom: from, resumedWithError: resumeError.map { "\($0)" },
            outcome: outcome, busyNanos: busy, spawned: spawned)
        if let again = readyAgainInStep {
            readyAgainInStep = nil
            if record.phase == .ready { step.readyAgain = again }
        }
        endStep(StepEvent(number: number, kind: .ran(step)), report: report)
    }

    /// The resumed task's job went to another executor (e.g. an actor's): it runs there.
    @inline(never)
    private func resumedElsewhere(_ record: TaskRecord, startedAt start: UInt64, report: Bool) {
        let number = beginStep(task: record.id, at: start)
        let from = record.wait
        let fromStored = record.stored
        waitsExternally(record, label: "resumed elsewhere", since: start)
        if writesRecords {
            endRecords(.ran(record.id, from: fromStored, busy: 0, end: start, readyAgain: nil, resumeError: .none))
        }
        if report || !observers.isEmpty {
            endStep(StepEvent(number: number, kind: .ran(TaskStep(
                task: record.id, resumedFrom: from, resumedWithError: nil,
                outcome: .waits(record.wait!), busyNanos: 0, spawned: []))), report: report)
        }
    }

    /// A job that belongs to no task of this loop (it was enqueued here by other means).
    private func runOrphan(_ job: UnownedJob, startedAt start: UInt64, report: Bool) -> UInt64 {
        let number = beginStep(task: nil, at: start)
        job.runSynchronously(on: unownedSelf.unsafelyUnwrapped)
        let end = stepEnd(start)
        let note = "ran a job of no task for \(end &- start) ns"
        if writesRecords { endRecords(.polled(end: end, woke: false, waitedNanos: 0, note: recordText(note))) }
        if report || !observers.isEmpty {
            endStep(StepEvent(number: number, kind: .idle(IdleReport(waitedNanos: 0, note: note))), report: report)
        }
        return end
    }
}
