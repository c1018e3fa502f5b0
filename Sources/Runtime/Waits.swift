// The suspension primitives — curio's "traps". Each one records why and where the running
// task waits, puts it in the seed's queue for that reason, and suspends it. A step ends
// there; a later poll (or a timer, a future, a cancel) moves it back to ready.
import DequeModule
import Glibc
import HeapModule

/// A pending `sleep`, ordered by deadline, then by arrival.
struct TimerEntry: Comparable {
    let deadline: UInt64
    let sequence: UInt64
    let record: TaskRecord

    static func < (a: TimerEntry, b: TimerEntry) -> Bool {
        (a.deadline, a.sequence) < (b.deadline, b.sequence)
    }
    static func == (a: TimerEntry, b: TimerEntry) -> Bool { a.sequence == b.sequence }

    /// False once the task left this sleep early (cancelled): the entry is then skipped.
    var isLive: Bool {
        if record.phase == .waiting, case .sleep? = record.rawWait?.reason {
            return record.timerSequence == sequence
        }
        return false
    }
}

extension EventLoop {
    /// The task the current step runs, unretained; a primitive awaited anywhere else is a bug.
    @inlinable @inline(__always)
    func runningRecord(_ primitive: StaticString) -> Unmanaged<TaskRecord> {
        // `currentRecord` is only set while a step runs a task on the loop thread; the
        // thread check itself is for debug builds (it costs a call per suspension).
        guard let record = currentRecord else {
            preconditionFailure("\(primitive) must be awaited by a task spawned on this loop, while a step runs it")
        }
        assert(isOnLoopThread, "\(primitive) awaited off the loop thread")
        return record
    }

    /// The task the current step runs.
    @inlinable @inline(__always)
    func runningTask(_ primitive: StaticString) -> TaskRecord {
        runningRecord(primitive).takeUnretainedValue()
    }

    /// Tells observers that the running task now waits (kept out of the inlined primitives).
    @usableFromInline @inline(never)
    func notifyWaits(_ record: TaskRecord) {
        notify(.waits(record.id, record.wait!))
    }

    /// Suspends the running task with `wait` recorded; the caller has queued it already.
    @inlinable @inline(__always)
    func suspend(_ record: TaskRecord, _ wait: RawWait) async throws {
        record.rawWait = wait
        if !observers.isEmpty { notifyWaits(record) }
        try await suspendRunningTask()
    }

    /// Suspends the task the current step runs; whoever moves it back to ready resumes
    /// its stored continuation. The record is looked up again inside, not captured, so
    /// that no reference to it is held across the suspension.
    @inlinable @inline(__always)
    func suspendRunningTask() async throws {
        try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<Void, any Error>) in
            self.currentRecord.unsafelyUnwrapped._withUnsafeGuaranteedRef { $0.continuation = c }
        }
    }

    /// Records the yield of the running task and queues it at the end of ready.
    @inlinable @inline(__always)
    func prepareYield(_ location: CodeLocation) throws {
        // Borrowed, not retained: the task table keeps the record alive.
        try runningRecord("yield")._withUnsafeGuaranteedRef { record in
            if record.cancelRequested { throw CancellationError() }
            record.phase = .ready
            ready.append(.resume(record))
            record.rawWait = RawWait(.yield, location: location, since: stepStartedAt)
            if !observers.isEmpty { notifyWaits(record) }
        }
    }

    // MARK: I/O readiness

    /// Suspends the running task in `recv_wait` until `fd` is readable (the seed's
    /// `yield 'recv', sock`).
    ///
    /// - Throws: `LoopError.fdAlreadyAwaited` if another task waits to receive on `fd`;
    ///   `LoopError.fdTooLargeForSelect` under the select backend; `CancellationError`;
    ///   `LoopError.closedWhileWaiting` if the fd is closed through `close(_:)`.
    public func readable(
        _ fd: Int32, label: StaticString = "", fileID: StaticString = #fileID, line: UInt = #line
    ) async throws {
        try await waitIO(fd, .recv, label, CodeLocation(fileID: fileID, line: line))
    }

    /// Suspends the running task in `send_wait` until `fd` is writable (the seed's
    /// `yield 'send', sock`). Throws as `readable`.
    public func writable(
        _ fd: Int32, label: StaticString = "", fileID: StaticString = #fileID, line: UInt = #line
    ) async throws {
        try await waitIO(fd, .send, label, CodeLocation(fileID: fileID, line: line))
    }

    private func waitIO(_ fd: Int32, _ direction: IODirection, _ label: StaticString, _ location: CodeLocation) async throws {
        let record = runningTask("readable/writable")
        if record.cancelRequested { throw CancellationError() }
        guard fd >= 0 else { throw LoopError.badDescriptor(fd) }
        try poller.validate(fd: fd)
        let reason: RawWait.Reason
        switch direction {
        case .recv:
            if let other = recvWait[fd] { throw LoopError.fdAlreadyAwaited(fd: fd, direction: .recv, by: other.id) }
            recvWait[fd] = record
            reason = .recv(fd)
        case .send:
            if let other = sendWait[fd] { throw LoopError.fdAlreadyAwaited(fd: fd, direction: .send, by: other.id) }
            sendWait[fd] = record
            reason = .send(fd)
        }
        dirtyFDs.append(fd)
        record.phase = .waiting
        try await suspend(record, RawWait(reason, label: label, location: location, since: stepStartedAt))
    }

    /// Closes `fd`, first waking any task waiting on it with `LoopError.closedWhileWaiting`
    /// (so no task is left waiting on an fd that no longer exists).
    public func close(_ fd: Int32) {
        assertOnLoopThread()
        wakeWaiters(on: fd, error: LoopError.closedWhileWaiting(fd: fd))
        poller.forget(fd: fd)
        _ = Glibc.close(fd)
    }

    func wakeWaiters(on fd: Int32, error: any Error) {
        if let r = recvWait.removeValue(forKey: fd) {
            r.resumeError = error
            makeReady(r, cause: .closed(fd: fd), wakes: nil)
        }
        if let r = sendWait.removeValue(forKey: fd) {
            r.resumeError = error
            makeReady(r, cause: .closed(fd: fd), wakes: nil)
        }
    }

    // MARK: Yield, sleep, join

    /// Moves the running task to the end of the ready queue (the seed's bare `yield`).
    @inlinable @inline(__always)
    public func yield(fileID: StaticString = #fileID, line: UInt = #line) async throws {
        try prepareYield(CodeLocation(fileID: fileID, line: line))
        try await suspendRunningTask()
    }

    /// Suspends the running task in the timers until `duration` has passed. The runtime
    /// keeps its own deadline heap, so sleeping tasks are visible and steppable.
    public func sleep(for duration: Duration, fileID: StaticString = #fileID, line: UInt = #line) async throws {
        let record = runningTask("sleep")
        if record.cancelRequested { throw CancellationError() }
        let (deadline, overflow) = monotonicNanos().addingReportingOverflow(duration.clampedNanoseconds)
        timerSequence += 1
        record.timerSequence = timerSequence
        let entry = TimerEntry(deadline: overflow ? .max : deadline, sequence: timerSequence, record: record)
        timers.insert(entry)
        record.phase = .waiting
        try await suspend(record, RawWait(
            .sleep(entry.deadline), location: CodeLocation(fileID: fileID, line: line), since: stepStartedAt))
    }

    /// Waits until task `id` has ended and returns how it ended.
    public func join(_ id: TaskID, fileID: StaticString = #fileID, line: UInt = #line) async throws -> TaskExit {
        let record = runningTask("join")
        if record.cancelRequested { throw CancellationError() }
        guard let target = tasks[id] else { return .done }
        if target.phase == .finished { return target.exit ?? .done }
        precondition(target !== record, "a task cannot join itself")
        target.joiners.append(record)
        joinWait[record.id] = record
        record.phase = .waiting
        try await suspend(record, RawWait(.join(id), location: CodeLocation(fileID: fileID, line: line), since: stepStartedAt))
        return target.exit ?? .done
    }

    /// Moves every sleeper whose deadline has passed to ready.
    func fireTimers(now: UInt64, _ wakes: UnsafeMutablePointer<[Wake]>) {
        while let top = timers.min {
            if !top.isLive {
                _ = timers.removeMin()
                continue
            }
            guard top.deadline <= now else { return }
            _ = timers.removeMin()
            makeReady(top.record, cause: .timer, wakes: wakes)
        }
    }

    /// The earliest live timer deadline.
    var nextTimerDeadline: UInt64? {
        while let top = timers.min, !top.isLive { _ = timers.removeMin() }
        return timers.min?.deadline
    }

    // MARK: Cancellation

    /// Cancels a task: it leaves whatever queue it waits in and resumes with
    /// `CancellationError` (if it is ready or running, its next suspension throws).
    ///
    /// - Returns: false if there is no such live task.
    @discardableResult
    public func cancel(_ id: TaskID) -> Bool {
        assertOnLoopThread()
        guard let record = tasks[id], !record.isFinished else { return false }
        record.cancelRequested = true
        record.handle?.cancel()
        switch record.phase {
        case .waiting:
            if removeFromWaitQueue(record) {
                record.resumeError = CancellationError()
                makeReady(record, cause: .cancelled, wakes: nil)
            }
        case .ready:
            if record.continuation != nil { record.resumeError = CancellationError() }
        case .running, .finished:
            break
        }
        return true
    }

    /// Takes a waiting task out of its queue; false if the runtime cannot (external wait).
    private func removeFromWaitQueue(_ record: TaskRecord) -> Bool {
        guard let reason = record.wait?.reason else { return false }
        switch reason {
        case .recv(let fd):
            guard recvWait[fd] === record else { return false }
            recvWait[fd] = nil
            dirtyFDs.append(fd)
        case .send(let fd):
            guard sendWait[fd] === record else { return false }
            sendWait[fd] = nil
            dirtyFDs.append(fd)
        case .future(let id):
            guard futureWait[id] === record else { return false }
            futureWait[id] = nil
        case .sleep:
            record.timerSequence &+= 1
        case .join(let target):
            joinWait[record.id] = nil
            tasks[target]?.joiners.removeAll { $0 === record }
        case .custom:
            guard parked.removeValue(forKey: record.id) != nil else { return false }
        case .yield, .external:
            return false
        }
        return true
    }

    // MARK: The host's own wait queues

    /// Suspends the running task in a wait queue of the host's own — the primitive for
    /// building channels, locks and the like on the loop. The task shows as waiting
    /// `queue` (e.g. `"channel_send"`) with `detail` (e.g. `"jobs (full)"`) until
    /// `unpark` moves it to ready.
    ///
    /// - Throws: `CancellationError` if the task is cancelled (before or while parked).
    public func park(
        in queue: String, detail: String = "", label: StaticString = "",
        fileID: StaticString = #fileID, line: UInt = #line
    ) async throws {
        let record = runningTask("park")
        if record.cancelRequested { throw CancellationError() }
        parked[record.id] = record
        record.phase = .waiting
        record.customWait = (queue, detail)
        try await suspend(record, RawWait(
            .custom, label: label, location: CodeLocation(fileID: fileID, line: line), since: stepStartedAt))
    }

    /// Moves a task parked by `park` to the end of the ready queue.
    ///
    /// - Returns: false if task `id` is not parked.
    @discardableResult
    public func unpark(_ id: TaskID) -> Bool {
        assertOnLoopThread()
        guard let record = parked.removeValue(forKey: id) else { return false }
        makeReady(record, cause: .unparked, wakes: nil)
        return true
    }
}
