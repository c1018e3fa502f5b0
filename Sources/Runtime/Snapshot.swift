// Value copies of the loop's queues and task table, and the table's small operations.
// A snapshot is taken between steps, so every view of it is consistent.

/// A copy of every queue and the task table at one moment.
public struct LoopSnapshot: Sendable {
    /// One fd and the task waiting on it.
    public struct FDWait: Sendable, Hashable {
        public var fd: Int32
        public var task: TaskID
        public init(fd: Int32, task: TaskID) { self.fd = fd; self.task = task }
    }
    /// One future and the task waiting on it.
    public struct FutureWait: Sendable, Hashable {
        public var future: FutureID
        public var task: TaskID
        public init(future: FutureID, task: TaskID) { self.future = future; self.task = task }
    }
    /// One sleeping task and its deadline.
    public struct TimerWait: Sendable, Hashable {
        public var task: TaskID
        /// Monotonic nanoseconds.
        public var deadline: UInt64
        public var remainingNanos: UInt64
    }
    /// A task parked in one of the host's wait queues.
    public struct ParkedWait: Sendable, Hashable {
        public var queue: String
        public var detail: String
        public var task: TaskID
    }

    /// A task waiting for another to finish.
    public struct JoinWait: Sendable, Hashable {
        public var task: TaskID
        public var target: TaskID
        public init(task: TaskID, target: TaskID) { self.task = task; self.target = target }
    }

    /// The step counter when the snapshot was taken.
    public var step: UInt64
    /// The ready queue, head first (tasks only; jobs of no known task are counted in
    /// `foreignJobs`).
    public var ready: [TaskID]
    public var foreignJobs: Int
    public var recvWait: [FDWait]
    public var sendWait: [FDWait]
    public var futureWait: [FutureWait]
    /// Sleepers, earliest deadline first.
    public var timers: [TimerWait]
    public var joins: [JoinWait]
    /// Tasks suspended outside the runtime's primitives.
    public var external: [TaskID]
    /// Tasks parked in the host's own wait queues, by queue then task.
    public var parked: [ParkedWait]
    public var poller: PollerKind
    /// Futures whose completion the loop has not delivered yet.
    public var pendingFutures: Int
    /// Every task in the table, by id.
    public var tasks: [TaskInfo]
    /// Monotonic nanoseconds.
    public var takenAt: UInt64

    /// The row of task `id`, if the table has it.
    public func task(_ id: TaskID) -> TaskInfo? {
        tasks.first { $0.id == id }
    }
}

extension EventLoop {
    /// A value copy of every queue and the task table.
    public func snapshot() -> LoopSnapshot {
        assertOnLoopThread()
        let now = monotonicNanos()
        var readyIDs: [TaskID] = []
        var foreign = 0
        for entry in ready {
            switch entry {
            case .resume(let r): readyIDs.append(r.takeUnretainedValue().id)
            case .job(_, let r?): readyIDs.append(r.takeUnretainedValue().id)
            case .job(_, nil): foreign += 1
            }
        }
        let timerList = timers.unordered.filter(\.isLive).sorted().map {
            LoopSnapshot.TimerWait(task: $0.record.id, deadline: $0.deadline, remainingNanos: $0.deadline > now ? $0.deadline - now : 0)
        }
        let external = tasks.values.filter {
            $0.phase == .waiting && $0.wait?.reason == .external
        }.map(\.id).sorted()
        return LoopSnapshot(
            step: stepNumber,
            ready: readyIDs,
            foreignJobs: foreign,
            recvWait: recvWait.map { .init(fd: $0.key, task: $0.value.id) }.sorted { $0.fd < $1.fd },
            sendWait: sendWait.map { .init(fd: $0.key, task: $0.value.id) }.sorted { $0.fd < $1.fd },
            futureWait: futureWait.map { .init(future: $0.key, task: $0.value.id) }.sorted { $0.future < $1.future },
            timers: timerList,
            joins: joinWait.values.compactMap { r in
                if case .join(let t) = r.wait?.reason { return .init(task: r.id, target: t) }
                return nil
            }.sorted { $0.task < $1.task },
            external: external,
            parked: parked.values.compactMap { r -> LoopSnapshot.ParkedWait? in
                guard case .custom(let queue, let detail)? = r.wait?.reason else { return nil }
                return .init(queue: queue, detail: detail, task: r.id)
            }.sorted { ($0.queue, $0.task) < ($1.queue, $1.task) },
            poller: poller.kind,
            pendingFutures: pendingFutures,
            tasks: tasks.values.map(\.info).sorted { $0.id < $1.id },
            takenAt: now)
    }

    /// One row of the task table, if it has task `id`.
    public func taskInfo(_ id: TaskID) -> TaskInfo? {
        assertOnLoopThread()
        return tasks[id]?.info
    }

    /// The name of task `id`, if the table has it (cheaper than `taskInfo`).
    public func taskName(_ id: TaskID) -> String? {
        assertOnLoopThread()
        return tasks[id]?.name
    }

    /// Forgets every finished task; returns how many.
    @discardableResult
    public func clearFinished() -> Int {
        assertOnLoopThread()
        let n = finishedOrder.count
        for id in finishedOrder { tasks[id] = nil }
        finishedOrder.removeAll()
        return n
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
        let fds = Set(recvWait.keys).union(sendWait.keys)
        do {
            for fd in fds { try fresh.validate(fd: fd) }
        } catch {
            fresh.close()
            throw error
        }
        poller.close()
        poller = fresh
        dirtyFDs = Array(fds)
    }

    /// Adds `value` to the series `name` of a task (the running one by default); perf
    /// clients record latencies and per-second counts this way. Keeps the last 100,000.
    public func record(_ value: Double, as name: String, for task: TaskID? = nil) {
        assertOnLoopThread()
        guard let record = (task.flatMap { tasks[$0] }) ?? current else { return }
        record.figures[name, default: []].append(value)
        if record.figures[name]!.count > 100_000 { record.figures[name]!.removeFirst(10_000) }
    }

    /// Sets a short fact about a task (the running one by default), e.g. the address a
    /// server listens on.
    public func setFact(_ key: String, _ value: String, for task: TaskID? = nil) {
        assertOnLoopThread()
        guard let record = (task.flatMap { tasks[$0] }) ?? current else { return }
        record.facts[key] = value
    }

    /// Clears every recorded figure of a task (a fresh measuring window).
    public func clearFigures(of task: TaskID) {
        assertOnLoopThread()
        tasks[task]?.figures.removeAll()
    }
}
