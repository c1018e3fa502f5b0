// The task table: every task a loop spawned, live and (until evicted) finished, and the
// operations on its rows — spawning, ending, figures and facts.
import DequeModule

/// The loop's table of task records (loop thread only).
@usableFromInline
package struct TaskTable {
    /// Every task, live and finished (finished ones until `clearFinished` or the history
    /// limit evicts them).
    package var byID: [TaskID: TaskRecord] = [:]
    /// Finished tasks, oldest first, for eviction.
    var finishedOrder = Deque<TaskID>()
    var liveCount = 0
    var nextID = 1
    /// Tasks suspended outside the runtime's primitives (a host's continuation, an actor
    /// hop), by the address of their task: when something else resumes one, its job
    /// arrives through `enqueue` and is recognised here. Tasks waiting in the runtime's
    /// own queues are resumed by the loop itself and never need this lookup.
    var byAddress: [UnsafeRawPointer: TaskRecord] = [:]

    package subscript(id: TaskID) -> TaskRecord? { byID[id] }

    /// Evicts the oldest finished tasks beyond `limit`.
    mutating func trim(to limit: Int) {
        while finishedOrder.count > limit, let old = finishedOrder.popFirst() {
            byID[old] = nil
        }
    }
}

extension EventLoop {
    // MARK: Spawning and ending

    /// Spawns a coroutine on this loop. It only enters the ready queue: nothing runs
    /// until a step runs it.
    ///
    /// - Parameters:
    ///   - name: shown in the task table, e.g. `"handler 127.0.0.1:40112"`.
    ///   - kind: what sort of task, e.g. `"server"`; hosts use their own kinds.
    ///   - body: the coroutine. An error it throws marks the task failed; the loop and
    ///     every other task go on.
    /// - Returns: a handle carrying the task's stable id.
    @discardableResult
    public func spawn(
        name: String, kind: String = "task",
        _ body: @escaping @Sendable () async throws -> Void
    ) -> TaskHandle {
        assertOnLoopThread()
        let id = TaskID(table.nextID)
        table.nextID += 1
        let record = TaskRecord(id: id, name: name, kind: kind, parent: current?.id, createdAt: now())
        table.byID[id] = record
        table.liveCount += 1
        capturing = true
        let handle = Task<Void, Never>(executorPreference: self) { [self] in
            await self.runBody(record, body)
        }
        capturing = false
        guard let job = captured else {
            preconditionFailure("the Swift runtime did not enqueue a new task on its preferred executor")
        }
        captured = nil
        assertFirstJobIsTask(job, handle)
        record.handle = handle
        record.jobPointer = address(of: job)
        ready.append(.job(job, record))
        if current != nil { spawnedThisStep.append(id) }
        if watched { emit(.spawned(id, name: name, kind: kind, parent: record.parent)) }
        return TaskHandle(id: id, loop: self)
    }

    private func runBody(_ record: TaskRecord, _ body: @Sendable () async throws -> Void) async {
        let exit: TaskExit
        if record.cancelRequested {
            exit = .cancelled
        } else {
            do {
                try await body()
                exit = .done
            } catch is CancellationError {
                exit = record.cancelRequested ? .cancelled : .failed("cancelled")
            } catch {
                exit = .failed("\(error)")
            }
        }
        finish(record, exit)
    }

    /// Marks a task ended (called by the task itself, in its last step) and wakes the
    /// tasks that joined it.
    private func finish(_ record: TaskRecord, _ exit: TaskExit) {
        record.exit = exit
        record.phase = .finished
        record.endedAt = now()
        record.continuation = nil
        if !table.byAddress.isEmpty, let p = record.jobPointer { table.byAddress[p] = nil }
        record.handle = nil
        table.liveCount -= 1
        for j in queues.join[record.id] ?? [] { wake(j, cause: .joined(record.id)) }
        table.finishedOrder.append(record.id)
        if driverHistory {
            while table.finishedOrder.count > finishedTaskLimit, let old = table.finishedOrder.first {
                if let r = table[old] { driver.unsafelyUnwrapped.archiving(self, r, leaving: true) }
                table.finishedOrder.removeFirst()
                table.byID[old] = nil
            }
        }
        table.trim(to: finishedTaskLimit)
        if watched { emit(.exited(record.id, exit)) }
    }

    /// The task a job enqueued by other means belongs to: the running one (re-enqueuing
    /// itself) or one suspended outside the primitives, which leaves `byAddress` as it is
    /// resumed. (`Task.yield()` is of the second sort: Swift's global executor resumes it.)
    package func record(of job: UnownedJob) -> TaskRecord? {
        let pointer = address(of: job)
        if let c = current, c.jobPointer == pointer { return c }
        guard !table.byAddress.isEmpty else { return nil }
        return table.byAddress.removeValue(forKey: pointer)
    }

    // MARK: Rows

    /// One row of the task table, if it has task `id`.
    public func taskInfo(_ id: TaskID) -> TaskInfo? {
        assertOnLoopThread()
        return table[id]?.info(at: now())
    }

    /// The name of task `id`, if the table has it (cheaper than `taskInfo`).
    public func taskName(_ id: TaskID) -> String? {
        assertOnLoopThread()
        return table[id]?.name
    }

    /// Forgets every finished task; returns how many.
    @discardableResult
    public func clearFinished() -> Int {
        assertOnLoopThread()
        let n = table.finishedOrder.count
        for id in table.finishedOrder {
            if driverHistory, let r = table[id] { driver.unsafelyUnwrapped.archiving(self, r, leaving: true) }
            table.byID[id] = nil
        }
        table.finishedOrder.removeAll()
        return n
    }

    /// Adds `value` to the series `name` of a task (the running one by default); perf
    /// clients record latencies and per-second counts this way. Keeps the last 100,000.
    public func record(_ value: Double, as name: String, for task: TaskID? = nil) {
        assertOnLoopThread()
        guard let record = (task.flatMap { table[$0] }) ?? current else { return }
        record.figures[name, default: []].append(value)
        if record.figures[name]!.count > 100_000 {
            record.figures[name]!.removeFirst(10_000)
            record.figureDropped[name, default: 0] += 10_000
        }
        if driverHistory, record !== current { driver.unsafelyUnwrapped.touched(self, record) }
    }

    /// Sets a short fact about a task (the running one by default), e.g. the address a
    /// server listens on.
    public func setFact(_ key: String, _ value: String, for task: TaskID? = nil) {
        assertOnLoopThread()
        guard let record = (task.flatMap { table[$0] }) ?? current else { return }
        record.facts[key] = value
        if driverHistory, record !== current { driver.unsafelyUnwrapped.touched(self, record) }
    }

    /// Clears every recorded figure and time stamp of a task (a fresh measuring window).
    public func clearFigures(of task: TaskID) {
        assertOnLoopThread()
        guard let record = table[task] else { return }
        if driverHistory { driver.unsafelyUnwrapped.archiving(self, record, leaving: false) }
        record.figures.removeAll()
        record.figureDropped.removeAll()
        record.figureEpoch += 1
        record.stamps?.removeAll()
    }

    /// The time stamps of a task (the running one by default), made on first use. A client
    /// thread may keep the result and add to it directly.
    public func stamps(for task: TaskID? = nil) -> Stamps? {
        assertOnLoopThread()
        guard let record = (task.flatMap { table[$0] }) ?? current else { return nil }
        if let s = record.stamps { return s }
        let s = Stamps()
        record.stamps = s
        // Stamps made for another task are for a thread to add to (a thread client): that
        // row changes between steps. A task's own change only in its steps.
        if driverHistory, record !== current { driver.unsafelyUnwrapped.stamped(self, record) }
        return s
    }

    /// The time stamps of task `id`, if it has made any (does not make them).
    public func existingStamps(of id: TaskID) -> Stamps? {
        assertOnLoopThread()
        return table[id]?.stamps
    }

    /// How many tasks have not ended.
    public var liveTaskCount: Int { table.liveCount }
}
