// The suspension primitives — curio's "traps". They all go through one primitive,
// `suspend(as:label:location:)`: it checks cancellation, puts the running task in the
// queue its wait names, records the wait on the task, and suspends it. A step ends there;
// a poll, a timer, a completion, a cancel or a close later takes the task out again with
// one call, `wake(_:cause:error:)`, and moves it back to ready.
import DequeModule
import Glibc

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

    // MARK: The one wait primitive

    /// Suspends the running task, waiting as `reason` says: `.yield` puts it at the end of
    /// the ready queue, every other reason in the wait queue it names. Whoever takes it
    /// out again resumes it.
    ///
    /// - Throws: `CancellationError` if the task is cancelled (before or while waiting);
    ///   what `WaitQueues.insert` throws; the error it is woken with (`wake(_:cause:error:)`).
    @inlinable @inline(__always)
    func suspend(
        as reason: StoredWait.Reason, label: StaticString, location: CodeLocation, stillReady: Bool = false
    ) async throws {
        // Borrowed, not retained: the task table keeps the record alive.
        try runningRecord("a wait")._withUnsafeGuaranteedRef { record in
            if record.cancelRequested { throw CancellationError() }
            if case .yield = reason {
                record.phase = .ready
                ready.append(.resume(record))
            } else if !stillReady {
                try enqueueWaiting(record, reason)
            }
            record.stored = StoredWait(reason, label: label, location: location, since: stepStartedAt)
            if watched { notifyWaits(record) }
            // recv_wait / send_wait on a socket the readiness cache knows ready: through
            // the wait and straight back to ready, without a poll.
            if stillReady { wakeStillReady(record, reason) }
        }
        try await suspendRunningTask()
    }

    /// Puts the running task in a wait queue (out of line: only yields are inlined).
    @usableFromInline
    func enqueueWaiting(_ record: TaskRecord, _ reason: StoredWait.Reason) throws {
        if case .recv(let fd) = reason, !isSourceFD(fd) { try poller.validate(fd: fd) }
        if case .send(let fd) = reason, !isSourceFD(fd) { try poller.validate(fd: fd) }
        try queues.insert(record, for: reason)
        record.phase = .waiting
    }

    /// Moves the running task, which just entered recv_wait or send_wait on an fd known
    /// ready, back to the end of the ready queue.
    @usableFromInline
    func wakeStillReady(_ record: TaskRecord, _ reason: StoredWait.Reason) {
        let cause: WakeCause
        switch reason {
        case .recv(let fd): cause = .stillReady(fd: fd, writable: false)
        case .send(let fd): cause = .stillReady(fd: fd, writable: true)
        default: preconditionFailure("only socket waits are answered from the readiness cache")
        }
        makeReady(record, cause: cause)
        readyAgainInStep = cause
    }

    /// Tells observers that the running task now waits (kept out of the inlined primitives).
    @usableFromInline @inline(never)
    func notifyWaits(_ record: TaskRecord) {
        if !observers.isEmpty { notify(.waits(record.id, record.wait!)) }
        if writesRecords { writeRecord(.waits(record.id, record.stored.unsafelyUnwrapped)) }
    }

    /// Suspends the task the current step runs; whoever moves it back to ready resumes
    /// its stored continuation. The record is looked up again inside, not captured, so
    /// that no reference to it is held across the suspension.
    @inlinable @inline(__always)
    func suspendRunningTask() async throws {
        try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<Void, any Error>) in
            self.currentRecord.unsafelyUnwrapped._withUnsafeGuaranteedRef {
                assertContinuationIsTask(c, $0.jobPointer)
                $0.continuation = c
            }
        }
    }

    /// Takes a waiting task out of its queue and moves it to the end of the ready queue;
    /// with `error`, its wait throws that error when it resumes.
    ///
    /// - Returns: false if the task was not in a queue of the runtime's (it waits
    ///   outside the runtime, or it is not waiting).
    @discardableResult
    package func wake(_ record: TaskRecord, cause: WakeCause, error: (any Error)? = nil) -> Bool {
        guard record.phase == .waiting, queues.remove(record) else { return false }
        if let error { record.resumeError = error }
        makeReady(record, cause: cause)
        return true
    }

    /// Moves a task to the end of the ready queue, to be resumed by a coming step; a poll
    /// step collects the wake for its report.
    func makeReady(_ record: TaskRecord, cause: WakeCause) {
        let wake = Wake(task: record.id, from: record.wait?.reason ?? .external, cause: cause)
        record.phase = .ready
        ready.append(.resume(record))
        if collectingWakes { stepWakes.append(wake) }
        if watched { noteWoke(record, wake) }
    }

    /// Tells those who watch that a task woke.
    @inline(never)
    func noteWoke(_ record: TaskRecord, _ wake: Wake) {
        if !observers.isEmpty { notify(.woke(wake)) }
        if writesRecords { writeRecord(.woke(record.id, from: record.stored?.reason, cause: wake.cause, at: watcherNow())) }
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
        guard fd >= 0 else { throw LoopError.badDescriptor(fd) }
        try await suspend(as: .recv(fd), label: label, location: CodeLocation(fileID: fileID, line: line))
    }

    /// Suspends the running task in `send_wait` until `fd` is writable (the seed's
    /// `yield 'send', sock`). Throws as `readable`.
    public func writable(
        _ fd: Int32, label: StaticString = "", fileID: StaticString = #fileID, line: UInt = #line
    ) async throws {
        guard fd >= 0 else { throw LoopError.badDescriptor(fd) }
        try await suspend(as: .send(fd), label: label, location: CodeLocation(fileID: fileID, line: line))
    }

    /// Closes `fd`, first waking any task waiting on it with `LoopError.closedWhileWaiting`
    /// (so no task is left waiting on an fd that no longer exists).
    public func close(_ fd: Int32) {
        assertOnLoopThread()
        let error = LoopError.closedWhileWaiting(fd: fd)
        if let r = queues.recv[fd] { wake(r, cause: .closed(fd: fd), error: error) }
        if let r = queues.send[fd] { wake(r, cause: .closed(fd: fd), error: error) }
        if let source = wakeSource, source.owns(fd) {
            source.close(fd, loop: self)
            return
        }
        if !kernelFDs {
            // (A replayed socket's fd is the recording's number, not an fd of this process.)
            readiness.forget(fd)
            return
        }
        poller.forget(fd: fd)
        readiness.forget(fd)
        _ = Glibc.close(fd)
    }

    // MARK: Yield, sleep, join

    /// Moves the running task to the end of the ready queue (the seed's bare `yield`).
    @inlinable @inline(__always)
    public func yield(fileID: StaticString = #fileID, line: UInt = #line) async throws {
        try await suspend(as: .yield, label: "", location: CodeLocation(fileID: fileID, line: line))
    }

    /// Suspends the running task in the timers until `duration` has passed. The runtime
    /// keeps its own deadline heap, so sleeping tasks are visible and steppable.
    public func sleep(for duration: Duration, fileID: StaticString = #fileID, line: UInt = #line) async throws {
        let (deadline, overflow) = now().addingReportingOverflow(duration.clampedNanoseconds)
        try await suspend(
            as: .sleep(overflow ? .max : deadline), label: "", location: CodeLocation(fileID: fileID, line: line))
    }

    /// Waits until task `id` has ended and returns how it ended.
    public func join(_ id: TaskID, fileID: StaticString = #fileID, line: UInt = #line) async throws -> TaskExit {
        let record = runningTask("join")
        if record.cancelRequested { throw CancellationError() }
        guard let target = table[id] else { return .done }
        if target.phase == .finished { return target.exit ?? .done }
        precondition(target !== record, "a task cannot join itself")
        try await suspend(as: .join(id), label: "", location: CodeLocation(fileID: fileID, line: line))
        return target.exit ?? .done
    }

    /// Moves every sleeper whose deadline has passed to ready.
    package func fireTimers(now: UInt64) {
        while let record = queues.popExpiredTimer(now: now) {
            wake(record, cause: .timer)
        }
    }

    // MARK: Cancellation

    /// Cancels a task: it leaves whatever queue it waits in and resumes with
    /// `CancellationError` (if it is ready or running, its next suspension throws).
    ///
    /// - Returns: false if there is no such live task.
    @discardableResult
    public func cancel(_ id: TaskID) -> Bool {
        assertOnLoopThread()
        guard let record = table[id], !record.isFinished else { return false }
        record.cancelRequested = true
        record.handle?.cancel()
        switch record.phase {
        case .waiting:
            wake(record, cause: .cancelled, error: CancellationError())
        case .ready:
            if record.continuation != nil { record.resumeError = CancellationError() }
        case .running, .finished:
            break
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
        record.hostQueue = (queue, detail)
        try await suspend(as: .custom, label: label, location: CodeLocation(fileID: fileID, line: line))
    }

    /// Moves a task parked by `park` to the end of the ready queue.
    ///
    /// - Returns: false if task `id` is not parked.
    @discardableResult
    public func unpark(_ id: TaskID) -> Bool {
        assertOnLoopThread()
        guard let record = queues.parked[id] else { return false }
        return wake(record, cause: .unparked)
    }
}
