// A value copy of the loop's queues and task table. A snapshot is taken between steps, so
// every view of it is consistent.

/// A copy of every queue and the task table at one moment.
///
/// Encodes as the queues (`queues --json`); its `tasks` encode on their own (`tasks --json`).
public struct LoopSnapshot: Sendable, Encodable {
    /// Memberwise, for the package's modules.
    package init(step: UInt64, ready: [TaskID], foreignJobs: Int, recvWait: [FDWait], sendWait: [FDWait], futureWait: [FutureWait], timers: [TimerWait], joins: [JoinWait], external: [TaskID], parked: [ParkedWait], poller: PollerKind, pendingFutures: Int, tasks: [TaskInfo], gil: GILSnapshot? = nil, takenAt: UInt64) {
        self.step = step
        self.ready = ready
        self.foreignJobs = foreignJobs
        self.recvWait = recvWait
        self.sendWait = sendWait
        self.futureWait = futureWait
        self.timers = timers
        self.joins = joins
        self.external = external
        self.parked = parked
        self.poller = poller
        self.pendingFutures = pendingFutures
        self.tasks = tasks
        self.gil = gil
        self.takenAt = takenAt
    }

    /// One fd and the task waiting on it.
    public struct FDWait: Sendable, Hashable, Encodable {
        public var fd: Int32
        public var task: TaskID
        public init(fd: Int32, task: TaskID) { self.fd = fd; self.task = task }
    }
    /// One future and the task waiting on it.
    public struct FutureWait: Sendable, Hashable, Encodable {
        public var future: FutureID
        public var task: TaskID
        /// What the future stands for (`"fib(40)"`), if it has a label.
        public var label: String?
        public init(future: FutureID, task: TaskID, label: String? = nil) {
            self.future = future
            self.task = task
            self.label = label
        }
    }
    /// One sleeping task and its deadline.
    public struct TimerWait: Sendable, Hashable, Encodable {
        /// Memberwise, for the package's modules.
        package init(task: TaskID, deadline: UInt64, remainingNanos: UInt64) {
            self.task = task
            self.deadline = deadline
            self.remainingNanos = remainingNanos
        }

        public var task: TaskID
        /// Monotonic nanoseconds.
        public var deadline: UInt64
        public var remainingNanos: UInt64

        private enum CodingKeys: String, CodingKey { case task, remainingSeconds = "remaining_s" }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(task, forKey: .task)
            try c.encode(Double(remainingNanos) / 1e9, forKey: .remainingSeconds)
        }
    }
    /// A task parked in one of the host's wait queues.
    public struct ParkedWait: Sendable, Hashable, Encodable {
        /// Memberwise, for the package's modules.
        package init(queue: String, detail: String, task: TaskID) {
            self.queue = queue
            self.detail = detail
            self.task = task
        }

        public var queue: String
        public var detail: String
        public var task: TaskID
    }

    /// A task waiting for another to finish.
    public struct JoinWait: Sendable, Hashable, Encodable {
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
    /// The GIL the loop takes part in, if any (the GIL switch).
    public var gil: GILSnapshot?
    /// Monotonic nanoseconds.
    public var takenAt: UInt64

    /// The row of task `id`, if the table has it.
    public func task(_ id: TaskID) -> TaskInfo? {
        tasks.first { $0.id == id }
    }

    private enum CodingKeys: String, CodingKey {
        case step, ready, timers, joins, external, parked, poller, gil
        case recvWait = "recv_wait", sendWait = "send_wait", futureWait = "future_wait"
        case pendingFutures = "pending_pool_work"
    }

    /// Encodes the queues (not the tasks, nor `foreignJobs` and `takenAt`).
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(step, forKey: .step)
        try c.encode(ready, forKey: .ready)
        try c.encode(recvWait, forKey: .recvWait)
        try c.encode(sendWait, forKey: .sendWait)
        try c.encode(futureWait, forKey: .futureWait)
        try c.encode(timers, forKey: .timers)
        try c.encode(joins, forKey: .joins)
        try c.encode(external, forKey: .external)
        try c.encode(parked, forKey: .parked)
        try c.encodeIfPresent(gil, forKey: .gil)
        try c.encode(pendingFutures, forKey: .pendingFutures)
        try c.encode(poller, forKey: .poller)
    }
}

extension EventLoop {
    /// A value copy of every queue and the task table.
    public func snapshot() -> LoopSnapshot {
        snapshot(now: now())
    }

    /// A snapshot whose ages and waits are taken as of `now` (the history's tests compare
    /// it with a rebuilt past step at that step's time).
    func snapshot(now: UInt64) -> LoopSnapshot {
        assertOnLoopThread()
        var readyIDs: [TaskID] = []
        var foreign = 0
        for entry in ready {
            switch entry {
            case .resume(let r): readyIDs.append(r.takeUnretainedValue().id)
            case .job(_, let r?): readyIDs.append(r.takeUnretainedValue().id)
            case .job(_, nil): foreign += 1
            }
        }
        let timerList = queues.liveTimers.map {
            LoopSnapshot.TimerWait(task: $0.record.id, deadline: $0.deadline, remainingNanos: $0.deadline > now ? $0.deadline - now : 0)
        }
        let external = table.byID.values.filter {
            $0.phase == .waiting && $0.stored?.reason == .external
        }.map(\.id).sorted()
        return LoopSnapshot(
            step: stepNumber,
            ready: readyIDs,
            foreignJobs: foreign,
            recvWait: queues.recv.entries.map { .init(fd: $0.fd, task: $0.task.id) },
            sendWait: queues.send.entries.map { .init(fd: $0.fd, task: $0.task.id) },
            futureWait: queues.future.map { .init(future: $0.key, task: $0.value.id, label: futureLabel($0.key)) }.sorted { $0.future < $1.future },
            timers: timerList,
            joins: queues.join.flatMap { target, waiters in waiters.map { .init(task: $0.id, target: target) } }
                .sorted { $0.task < $1.task },
            external: external,
            parked: queues.parked.values.compactMap { r -> LoopSnapshot.ParkedWait? in
                guard case .custom(let queue, let detail)? = r.wait?.reason else { return nil }
                return .init(queue: queue, detail: detail, task: r.id)
            }.sorted { ($0.queue, $0.task) < ($1.queue, $1.task) },
            poller: poller.kind,
            pendingFutures: pendingFutures,
            tasks: table.byID.values.map { $0.info(at: now) }.sorted { $0.id < $1.id },
            gil: gilLock?.snapshot(),
            takenAt: now)
    }
}
