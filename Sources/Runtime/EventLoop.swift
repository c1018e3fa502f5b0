// The seed's `run()`, made steppable. Coroutines are Swift async functions; this class is
// the TaskExecutor every one of them prefers, so each of their jobs lands in `ready` and
// runs on the loop thread only when a step runs it — exactly `next(task)` in the seed:
//
//     while any([tasks, recv_wait, send_wait]):
//         while not tasks: select(...) -> move woken tasks to tasks     # a poll step
//         task = tasks.popleft(); why, what = next(task)                 # a task step
//         recv_wait / send_wait / future_wait[what] = task
//
// All state below is confined to the loop thread (the thread that created the loop).
// Other threads only touch `inbox`, `stopFlag` and the wake-up channel.
import CLinux
import DequeModule
import Glibc
import HeapModule
import Synchronization

/// A steppable cooperative event loop: the ready queue, the wait queues of the seed
/// (`recv_wait`, `send_wait`, `future_wait`, timers), a poller and a task table.
///
/// Create it on the thread that will drive it; `spawn`, `step`, `run` and every other
/// method not marked otherwise must be called on that thread.
public final class EventLoop: TaskExecutor, @unchecked Sendable {
    /// An entry of the ready queue. Records are held unretained: `tasks` keeps every
    /// record alive, and a task in the ready queue has not finished, so it is not evicted.
    @usableFromInline
    enum ReadyEntry {
        /// Resume the task's stored continuation (it left a wait queue).
        case resume(Unmanaged<TaskRecord>)
        /// Run a job the Swift runtime enqueued (a task's first job, or one resumed by
        /// other means); the record is nil when the job belongs to no known task.
        case job(UnownedJob, Unmanaged<TaskRecord>?)

        @inlinable
        static func resume(_ record: TaskRecord) -> ReadyEntry { .resume(.passUnretained(record)) }
        static func job(_ job: UnownedJob, _ record: TaskRecord?) -> ReadyEntry {
            .job(job, record.map { .passUnretained($0) })
        }
    }

    /// What other threads hand to the loop.
    enum InboxItem: Sendable {
        case job(UnownedJob)
        case future(AnyLoopFuture)
        case pool(PoolEvent)
        case call(@Sendable () -> Void)
    }

    // MARK: Loop-thread state

    @usableFromInline @exclusivity(unchecked) var ready = Deque<ReadyEntry>()
    @exclusivity(unchecked) var recvWait: [Int32: TaskRecord] = [:]
    @exclusivity(unchecked) var sendWait: [Int32: TaskRecord] = [:]
    @exclusivity(unchecked) var futureWait: [FutureID: TaskRecord] = [:]
    @exclusivity(unchecked) var joinWait: [TaskID: TaskRecord] = [:]
    /// Tasks parked in the host's own wait queues.
    var parked: [TaskID: TaskRecord] = [:]
    @exclusivity(unchecked) var timers = Heap<TimerEntry>()
    @exclusivity(unchecked) var timerSequence: UInt64 = 0
    /// Every task, live and finished (finished ones until `clearFinished` or the history
    /// limit evicts them).
    @exclusivity(unchecked) var tasks: [TaskID: TaskRecord] = [:]
    var finishedOrder = Deque<TaskID>()
    @exclusivity(unchecked) var liveCount = 0
    /// Tasks suspended outside the runtime's primitives (a host's continuation, an
    /// actor hop), by the address of their job: when something else resumes one, its job
    /// arrives through `enqueue` and is recognised here. Tasks waiting in the runtime's
    /// own queues are resumed by the loop itself and never need this lookup.
    @exclusivity(unchecked) var byPointer: [UnsafeRawPointer: TaskRecord] = [:]
    /// The task the current step runs, unretained (`tasks` keeps it alive): the hot
    /// primitives borrow it with `_withUnsafeGuaranteedRef` and retain nothing.
    @usableFromInline @exclusivity(unchecked) var currentRecord: Unmanaged<TaskRecord>?
    /// The task the current step runs.
    @usableFromInline var current: TaskRecord? {
        @inline(__always) get { currentRecord?.takeUnretainedValue() }
    }
    /// The event of the last task step, when the caller asked for one.
    var lastEvent: StepEvent?
    @exclusivity(unchecked) var stepNumber: UInt64 = 0
    @usableFromInline @exclusivity(unchecked) var stepStartedAt: UInt64 = 0
    var nextTaskID = 1
    var nextFutureID = 1
    /// Futures made by this loop whose completion has not been delivered yet.
    @exclusivity(unchecked) var pendingFutures = 0
    var poller: any Poller
    @exclusivity(unchecked) var dirtyFDs: [Int32] = []
    @exclusivity(unchecked) var pollEvents: [PollEvent] = []
    @usableFromInline @exclusivity(unchecked) var observers: [any LoopObserver] = []
    /// While true, the next job enqueued on the loop thread is kept in `captured`
    /// instead of queued: resuming a continuation then runs its job in the same step.
    @exclusivity(unchecked) var capturing = false
    @exclusivity(unchecked) var captured: UnownedJob?
    @exclusivity(unchecked) var spawnedThisStep: [TaskID] = []
    var unownedSelf: UnownedTaskExecutor?

    /// How many finished tasks the table keeps (the oldest are forgotten first).
    public var historyLimit = 1000
    /// The poll timeout a step uses when none is given.
    public var defaultPollTimeout: Duration = .milliseconds(100)

    // MARK: Cross-thread state

    let owner: pthread_t
    let wakeChannel: WakeChannel
    let inbox = Locked<[InboxItem]>([])
    let stopFlag = Atomic<Bool>(false)
    /// The task the current step runs (0: none) and when the step began, for other
    /// threads to report who holds the loop.
    let probeTask = Atomic<Int>(0)
    let probeSince = Atomic<UInt64>(0)

    /// Creates a loop owned by the calling thread, polling with `poller` (epoll by default).
    public init(poller kind: PollerKind = .epoll) throws(SystemCallError) {
        _ = Sys.ignoreSIGPIPE
        owner = pthread_self()
        wakeChannel = try WakeChannel()
        do {
            poller = try makePoller(kind, wakeFD: wakeChannel.fd)
        } catch {
            wakeChannel.close()
            throw error
        }
        unownedSelf = asUnownedTaskExecutor()
    }

    deinit {
        poller.close()
        wakeChannel.close()
    }

    /// True on the thread that owns the loop (any thread may ask).
    public var isOnLoopThread: Bool { pthread_equal(pthread_self(), owner) != 0 }

    @inline(__always)
    func assertOnLoopThread(_ function: StaticString = #function) {
        assert(isOnLoopThread, "EventLoop.\(function) called off the loop thread")
    }

    // MARK: TaskExecutor

    /// Called by the Swift runtime, on any thread, with a job of a task that prefers
    /// this loop. On the loop thread it joins the ready queue; from elsewhere it goes
    /// through the inbox and wakes the loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        guard isOnLoopThread else {
            inbox.withLock { $0.append(.job(job)) }
            wakeChannel.signal()
            return
        }
        if capturing {
            capturing = false
            captured = job
            return
        }
        let record = record(of: job)
        if let record, !record.isFinished {
            if record.phase == .running {
                // The running task re-enqueued itself (e.g. Task.yield()).
                record.wait = Wait(reason: .yield, label: "Task.yield", location: .unknown, since: stepStartedAt)
            }
            record.phase = .ready
        }
        ready.append(.job(job, record))
    }

    /// The task a job enqueued by other means belongs to: the running one (re-enqueuing
    /// itself) or one suspended outside the primitives, which leaves `byPointer` as it is
    /// resumed. (`Task.yield()` is of the second sort: Swift's global executor resumes it.)
    func record(of job: UnownedJob) -> TaskRecord? {
        let pointer = unsafeBitCast(job, to: UnsafeRawPointer.self)
        if let c = current, c.jobPointer == pointer { return c }
        guard !byPointer.isEmpty else { return nil }
        return byPointer.removeValue(forKey: pointer)
    }

    // MARK: Spawning

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
        let id = TaskID(nextTaskID)
        nextTaskID += 1
        let record = TaskRecord(id: id, name: name, kind: kind, parent: current?.id, createdAt: monotonicNanos())
        tasks[id] = record
        liveCount += 1
        capturing = true
        let handle = Task<Void, Never>(executorPreference: self) { [self] in
            await self.runBody(record, body)
        }
        capturing = false
        guard let job = captured else {
            preconditionFailure("the Swift runtime did not enqueue a new task on its preferred executor")
        }
        captured = nil
        record.handle = handle
        record.jobPointer = unsafeBitCast(job, to: UnsafeRawPointer.self)
        ready.append(.job(job, record))
        if current != nil { spawnedThisStep.append(id) }
        notify(.spawned(id, name: name, kind: kind, parent: record.parent))
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

    /// Marks a task ended (called by the task itself, in its last step).
    private func finish(_ record: TaskRecord, _ exit: TaskExit) {
        record.exit = exit
        record.phase = .finished
        record.endedAt = monotonicNanos()
        record.continuation = nil
        if !byPointer.isEmpty, let p = record.jobPointer { byPointer[p] = nil }
        record.handle = nil
        liveCount -= 1
        let joiners = record.joiners
        record.joiners = []
        for j in joiners where joinWait[j.id] === j {
            joinWait[j.id] = nil
            makeReady(j, cause: .joined(record.id), wakes: nil)
        }
        finishedOrder.append(record.id)
        trimHistory()
        notify(.exited(record.id, exit))
    }

    func trimHistory() {
        while finishedOrder.count > historyLimit, let old = finishedOrder.popFirst() {
            tasks[old] = nil
        }
    }

    // MARK: Stepping

    /// Performs exactly one scheduler iteration: runs the head of the ready queue until
    /// its next suspension or, when nothing is ready, polls once (waiting at most
    /// `timeout`, default `defaultPollTimeout`) and moves woken tasks to ready.
    @discardableResult
    public func step(timeout: Duration? = nil) -> StepEvent {
        assertOnLoopThread()
        precondition(current == nil, "EventLoop.step() called from inside a step")
        if let entry = ready.popFirst() {
            _ = runTask(entry, startedAt: monotonicNanos(), report: true)
            return takeLastEvent()
        }
        return pollStep(timeoutNanos: (timeout ?? defaultPollTimeout).clampedNanoseconds)
    }

    func takeLastEvent() -> StepEvent {
        guard let event = lastEvent else { preconditionFailure("a reported step left no event") }
        lastEvent = nil
        return event
    }

    /// Runs one ready entry's task until its next suspension. The step's event is built
    /// (into `lastEvent`) only if `report` is set or observers are attached: a free run
    /// with nobody watching pays for no event at all.
    ///
    /// - Parameter start: now, as the caller last read the clock.
    /// - Returns: the time the step ended (the start of the next one in a free run).
    func runTask(_ entry: ReadyEntry, startedAt start: UInt64, report: Bool) -> UInt64 {
        // With many tasks every step meets memory that is not in cache yet; while this
        // step runs, the CPU brings in the record two entries ahead and the Swift task of
        // the next one (whose record the previous step brought in).
        if ready.count > 1 { prefetchRecord(ready[1]) }
        if let next = ready.first { prefetchTask(next) }
        // The record is borrowed, not retained: `tasks` keeps it alive for the whole step.
        switch entry {
        case .job(let job, let r):
            guard let r else { return runOrphan(job, report: report) }
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
        case .resume(let r), .job(_, let r?):
            corepl_prefetch(UnsafeRawPointer(r.toOpaque()), 192)
        case .job(_, nil):
            break
        }
    }

    @inline(__always)
    private func prefetchTask(_ entry: ReadyEntry) {
        switch entry {
        case .resume(let r):
            // A continuation's raw value is the address of its task.
            r._withUnsafeGuaranteedRef {
                if let c = $0.continuation { corepl_prefetch(unsafeBitCast(c, to: UnsafeRawPointer.self), 192) }
            }
        case .job(let job, _):
            corepl_prefetch(unsafeBitCast(job, to: UnsafeRawPointer.self), 192)
        }
    }

    /// Runs `job`, the task's next piece, until the task suspends again or ends.
    @inline(__always)
    private func runStep(
        _ record: TaskRecord, _ job: UnownedJob, resumeError: (any Error)?, startedAt start: UInt64, report: Bool
    ) -> UInt64 {
        stepNumber += 1
        let describe = report || !observers.isEmpty
        let from = describe && record.steps > 0 ? record.wait : nil
        record.phase = .running
        currentRecord = .passUnretained(record)
        stepStartedAt = start
        if !observers.isEmpty { notify(.stepBegan(stepNumber, task: record.id)) }
        probeSince.store(start, ordering: .relaxed)
        probeTask.store(record.id.rawValue, ordering: .relaxed)
        job.runSynchronously(on: unownedSelf.unsafelyUnwrapped)
        probeTask.store(0, ordering: .relaxed)
        let end = monotonicNanos()
        let busy = end &- start
        currentRecord = nil
        record.steps &+= 1
        record.busyNanos &+= busy
        if record.phase == .running {
            // Suspended outside the runtime's primitives; something else will resume it.
            record.phase = .waiting
            record.rawWait = RawWait(.external, location: .unknown, since: start)
            if let p = record.jobPointer { byPointer[p] = record }
        }
        if describe { describeStep(record, from: from, resumeError: resumeError, busy: busy, report: report) }
        return end
    }

    /// Builds the event of the task step that just ended, for the caller and observers
    /// (kept out of `runTask`, whose free-running path builds nothing).
    @inline(never)
    private func describeStep(_ record: TaskRecord, from: Wait?, resumeError: (any Error)?, busy: UInt64, report: Bool) {
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
        let event = StepEvent(number: stepNumber, kind: .ran(TaskStep(
            task: record.id, resumedFrom: from, resumedWithError: resumeError.map { "\($0)" },
            outcome: outcome, busyNanos: busy, spawned: spawned)))
        if !observers.isEmpty { notify(.stepEnded(event)) }
        if report { lastEvent = event }
    }

    /// The resumed task's job went to another executor (e.g. an actor's): it runs there.
    @inline(never)
    private func resumedElsewhere(_ record: TaskRecord, startedAt start: UInt64, report: Bool) {
        stepNumber += 1
        record.phase = .waiting
        record.wait = Wait(reason: .external, label: "resumed elsewhere", location: .unknown, since: start)
        if let p = record.jobPointer { byPointer[p] = record }
        if report || !observers.isEmpty {
            lastEvent = StepEvent(number: stepNumber, kind: .ran(TaskStep(
                task: record.id, resumedFrom: nil, resumedWithError: nil,
                outcome: .waits(record.wait!), busyNanos: 0, spawned: [])))
        }
    }

    /// A job that belongs to no task of this loop (it was enqueued here by other means).
    private func runOrphan(_ job: UnownedJob, report: Bool) -> UInt64 {
        stepNumber += 1
        let start = monotonicNanos()
        job.runSynchronously(on: unownedSelf!)
        let end = monotonicNanos()
        if report {
            lastEvent = StepEvent(number: stepNumber, kind: .idle(IdleReport(
                waitedNanos: 0, note: "ran a job of no task for \(end &- start) ns")))
        }
        return end
    }

    /// Moves a task to the end of the ready queue, to be resumed by a coming step.
    func makeReady(_ record: TaskRecord, cause: WakeCause, wakes: UnsafeMutablePointer<[Wake]>?) {
        let from = record.wait?.reason ?? .external
        record.phase = .ready
        ready.append(.resume(record))
        let wake = Wake(task: record.id, from: from, cause: cause)
        wakes?.pointee.append(wake)
        if !observers.isEmpty { notify(.woke(wake)) }
    }

    // MARK: Observers

    /// Attaches an observer; it receives every event on the loop thread.
    public func addObserver(_ observer: any LoopObserver) {
        assertOnLoopThread()
        observers.append(observer)
    }

    /// Detaches an observer added with `addObserver`.
    public func removeObserver(_ observer: any LoopObserver) {
        assertOnLoopThread()
        observers.removeAll { $0 === observer }
    }

    @usableFromInline
    func notify(_ event: LoopEvent) {
        guard !observers.isEmpty else { return }
        for o in observers { o.loop(self, observed: event) }
    }

    /// Runs `body` on the loop thread (any thread may call): at once when called there,
    /// otherwise at the next poll step, which this call wakes. The closure runs between
    /// task steps; it may spawn, record figures, or complete futures, but not step.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        if isOnLoopThread {
            body()
            return
        }
        inbox.withLock { $0.append(.call(body)) }
        wakeChannel.signal()
    }

    /// Hands a pool event to the loop (any thread); observers see it at the next poll.
    public func post(_ event: PoolEvent) {
        if isOnLoopThread {
            notify(.pool(event))
            return
        }
        inbox.withLock { $0.append(.pool(event)) }
    }
}

/// A handle on a spawned task: its stable id and the loop it runs on.
public struct TaskHandle: Sendable, Hashable {
    public let id: TaskID
    public let loop: EventLoop

    public static func == (a: TaskHandle, b: TaskHandle) -> Bool { a.id == b.id && a.loop === b.loop }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
