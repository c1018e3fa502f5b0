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
    package enum ReadyEntry {
        /// Resume the task's stored continuation (it left a wait queue).
        case resume(Unmanaged<TaskRecord>)
        /// Run a job the Swift runtime enqueued (a task's first job, or one resumed by
        /// other means); the record is nil when the job belongs to no known task.
        case job(UnownedJob, Unmanaged<TaskRecord>?)

        @inlinable
        static func resume(_ record: TaskRecord) -> ReadyEntry { .resume(.passUnretained(record)) }
        package static func job(_ job: UnownedJob, _ record: TaskRecord?) -> ReadyEntry {
            .job(job, record.map { .passUnretained($0) })
        }
    }

    /// What other threads hand to the loop.
    @usableFromInline
    package enum InboxItem: Sendable {
        case job(UnownedJob)
        case future(AnyLoopFuture)
        case pool(PoolEvent)
        case call(@Sendable () -> Void)
    }

    // MARK: Loop-thread state
    //
    // A field other modules of the package use (time travel's driver) is stored as `_name`
    // and reached as `name`, an inlinable accessor: the storage's `@exclusivity(unchecked)`
    // holds only where it is declared, and another module's direct access would be checked
    // at run time (a call into the runtime's access set for each read: it made a step that
    // keeps the history 1.5 times as dear in instructions).

    @usableFromInline @exclusivity(unchecked) var _ready: Deque<ReadyEntry> = Deque<ReadyEntry>()
    @inlinable package var ready: Deque<ReadyEntry> {
        @inline(__always) get { _ready }
        @inline(__always) _modify { yield &_ready }
    }
    /// Added to `monotonicNanos()` (wrapping: it is negative once the clock was paused).
    @usableFromInline @exclusivity(unchecked) var _clockOffset: UInt64 = 0
    @inlinable package var clockOffset: UInt64 {
        @inline(__always) get { _clockOffset }
        @inline(__always) _modify { yield &_clockOffset }
    }
    /// Whether the clock is paused (the loop is stopped at a prompt), the reading it
    /// stopped at, and how long it has been paused in all (LoopClock.swift).
    @usableFromInline @exclusivity(unchecked) var _clockPaused: Bool = false
    @inlinable package var clockPaused: Bool {
        @inline(__always) get { _clockPaused }
        @inline(__always) _modify { yield &_clockPaused }
    }
    @usableFromInline @exclusivity(unchecked) var _pausedNow: UInt64 = 0
    @inlinable package var pausedNow: UInt64 {
        @inline(__always) get { _pausedNow }
        @inline(__always) _modify { yield &_pausedNow }
    }
    @exclusivity(unchecked) var pausedSince: UInt64 = 0
    @exclusivity(unchecked) var pausedTotal: UInt64 = 0
    @exclusivity(unchecked) var clockPausesBetweenRuns = false
    // The seams (Seams.swift): the driver, the flag of each of its groups of calls, and
    // the wake source beside the poller.
    @usableFromInline @exclusivity(unchecked) var _driver: (any LoopDriver)?
    @inlinable package var driver: (any LoopDriver)? {
        @inline(__always) get { _driver }
        @inline(__always) _modify { yield &_driver }
    }
    @usableFromInline @exclusivity(unchecked) package var driverClock = false
    @exclusivity(unchecked) package var driverInputs = false
    @exclusivity(unchecked) package var driverFutures = false
    @exclusivity(unchecked) package var driverHistory = false
    @exclusivity(unchecked) package var driverPicks = false
    @usableFromInline @exclusivity(unchecked) var _wakeSource: (any WakeSource)?
    @inlinable package var wakeSource: (any WakeSource)? {
        @inline(__always) get { _wakeSource }
        @inline(__always) _modify { yield &_wakeSource }
    }
    /// Every task (TaskTable.swift).
    @usableFromInline @exclusivity(unchecked) var _table: TaskTable = TaskTable()
    @inlinable package var table: TaskTable {
        @inline(__always) get { _table }
        @inline(__always) _modify { yield &_table }
    }
    /// The wait queues and timers (WaitQueues.swift).
    @usableFromInline @exclusivity(unchecked) var _queues: WaitQueues = WaitQueues()
    @inlinable package var queues: WaitQueues {
        @inline(__always) get { _queues }
        @inline(__always) _modify { yield &_queues }
    }
    /// The task the current step runs, unretained (the table keeps it alive): the hot
    /// primitives borrow it with `_withUnsafeGuaranteedRef` and retain nothing.
    @usableFromInline @exclusivity(unchecked) var _currentRecord: Unmanaged<TaskRecord>?
    @inlinable package var currentRecord: Unmanaged<TaskRecord>? {
        @inline(__always) get { _currentRecord }
        @inline(__always) _modify { yield &_currentRecord }
    }
    /// The task the current step runs.
    @usableFromInline var current: TaskRecord? {
        @inline(__always) get { currentRecord?.takeUnretainedValue() }
    }
    // The step (EventLoop+Step.swift).
    @usableFromInline @exclusivity(unchecked) var _stepNumber: UInt64 = 0
    @inlinable package var stepNumber: UInt64 {
        @inline(__always) get { _stepNumber }
        @inline(__always) _modify { yield &_stepNumber }
    }
    @usableFromInline @exclusivity(unchecked) var stepStartedAt: UInt64 = 0
    /// The event of the last task step, when the caller asked for one.
    var lastEvent: StepEvent?
    @exclusivity(unchecked) var spawnedThisStep: [TaskID] = []
    /// While a poll step runs, every task moved to ready is also added to `stepWakes`.
    @usableFromInline @exclusivity(unchecked) var _collectingWakes: Bool = false
    @inlinable package var collectingWakes: Bool {
        @inline(__always) get { _collectingWakes }
        @inline(__always) _modify { yield &_collectingWakes }
    }
    /// Whether the loop takes part in a GIL (`gilLock != nil`): the step's check reads this
    /// one byte, which sits in padding so that the hot fields keep their places.
    @exclusivity(unchecked) var gilActive = false
    @usableFromInline @exclusivity(unchecked) var _stepWakes: [Wake] = []
    @inlinable package var stepWakes: [Wake] {
        @inline(__always) get { _stepWakes }
        @inline(__always) _modify { yield &_stepWakes }
    }
    /// While true, the next job enqueued on the loop thread is kept in `captured`
    /// instead of queued: resuming a continuation then runs its job in the same step.
    @exclusivity(unchecked) var capturing = false
    /// Whether the loop thread holds the GIL now.
    @usableFromInline @exclusivity(unchecked) var _loopHoldsGIL: Bool = false
    @inlinable package var loopHoldsGIL: Bool {
        @inline(__always) get { _loopHoldsGIL }
        @inline(__always) _modify { yield &_loopHoldsGIL }
    }
    /// Time the loop waited for the GIL during the current step (not the task's busy time).
    @exclusivity(unchecked) var gilWaitInStep: UInt64 = 0
    @exclusivity(unchecked) var captured: UnownedJob?
    var unownedSelf: UnownedTaskExecutor?
    // The poll (EventLoop+Poll.swift).
    @usableFromInline @exclusivity(unchecked) var _poller: any Poller
    @inlinable package var poller: any Poller {
        @inline(__always) get { _poller }
        @inline(__always) _modify { yield &_poller }
    }
    /// Whether the poller is edge-triggered, and what it told of the loop's sockets.
    @exclusivity(unchecked) var edgeTriggered = false
    @exclusivity(unchecked) var readiness = ReadinessCache()
    /// How the running task went back to ready from a socket wait in this step, for the
    /// step's event.
    var readyAgainInStep: WakeCause?
    /// What sockets receive into (Readiness.swift).
    var receiveBuffer: UnsafeMutableRawBufferPointer?
    @exclusivity(unchecked) var pollEvents: [PollEvent] = []
    /// While observers are told of an event.
    @usableFromInline @exclusivity(unchecked) var _notifying: Bool = false
    @inlinable package var notifying: Bool {
        @inline(__always) get { _notifying }
        @inline(__always) _modify { yield &_notifying }
    }
    var nextFutureID = 1
    /// Futures made by this loop whose completion has not been delivered yet.
    @usableFromInline @exclusivity(unchecked) var _pendingFutures: Int = 0
    @inlinable package var pendingFutures: Int {
        @inline(__always) get { _pendingFutures }
        @inline(__always) _modify { yield &_pendingFutures }
    }
    @usableFromInline @exclusivity(unchecked) var _observers: [any LoopObserver] = []
    @inlinable package var observers: [any LoopObserver] {
        @inline(__always) get { _observers }
        @inline(__always) _modify { yield &_observers }
    }
    /// Whether anyone watches (an observer or a record reader): each site that tells
    /// them tests this one flag.
    @usableFromInline @exclusivity(unchecked) var _watched = false
    @inlinable package var watched: Bool {
        @inline(__always) get { _watched }
        @inline(__always) _modify { yield &_watched }
    }
    /// Whether steps write records (LoopRecords.swift), the records of the step under way,
    /// whether a step is under way for them, and who reads them.
    @exclusivity(unchecked) var writesRecords = false
    @exclusivity(unchecked) var records = RecordBuffer()
    @exclusivity(unchecked) var recordTexts: [String] = []
    @exclusivity(unchecked) var recordEvents: [LoopEvent] = []
    @exclusivity(unchecked) var stepOpen = false
    @exclusivity(unchecked) var deliveringRecords = false
    @exclusivity(unchecked) var recordReaders: [any LoopRecordReader] = []

    /// How many finished tasks the table keeps (the oldest are forgotten first). Not the
    /// history's limit, which counts steps (`startHistory(limit:)`).
    public var finishedTaskLimit = 1000
    /// The poll timeout a step uses when none is given.
    public var defaultPollTimeout: Duration = .milliseconds(100)
    /// What each future a task waits on stands for (`"fib(40)"`), while it waits.
    @exclusivity(unchecked) var futureLabels: [FutureID: String] = [:]
    // The GIL switch (EventLoop+GIL.swift): the lock, and how many pools asked for it.
    @usableFromInline @exclusivity(unchecked) var _gilLock: GIL?
    @inlinable package var gilLock: GIL? {
        @inline(__always) get { _gilLock }
        @inline(__always) _modify { yield &_gilLock }
    }
    var gilUsers = 0

    // MARK: Cross-thread state

    let owner: pthread_t
    package let wakeChannel: WakeChannel
    package let inbox = Locked<[InboxItem]>([])
    /// Set, under the inbox's lock, when something is put in it (before the wake-up
    /// channel is signalled); cleared under the lock when it is emptied. A poll step that
    /// reads it unset takes no lock: whatever is added after that read signals the
    /// wake-up channel, and the next drain sees the flag.
    package let inboxPending = Atomic<Bool>(false)
    package let stopFlag = Atomic<Bool>(false)
    /// The task the current step runs (0: none) and when the step began, for other
    /// threads to report who holds the loop.
    let probeTask = Atomic<Int>(0)
    let probeSince = Atomic<UInt64>(0)
    /// The loop's clock for other threads (LoopClock.swift).
    public let sharedClock = SharedLoopClock()
    /// Closed while the clock is paused: the loop's pools wait at its checkpoints
    /// (PauseGate.swift).
    public let pauseGate = PauseGate()

    /// Creates a loop owned by the calling thread, polling with `poller` (epoll by default).
    public init(poller kind: PollerKind = .epoll) throws(SystemCallError) {
        _ = Sys.ignoreSIGPIPE
        owner = pthread_self()
        wakeChannel = try WakeChannel()
        do {
            _poller = try makePoller(kind, wakeFD: wakeChannel.fd)
        } catch {
            wakeChannel.close()
            throw error
        }
        edgeTriggered = _poller.isEdgeTriggered
        unownedSelf = asUnownedTaskExecutor()
    }

    deinit {
        receiveBuffer?.deallocate()
        records.free()
        poller.close()
        wakeChannel.close()
    }

    /// True on the thread that owns the loop (any thread may ask).
    public var isOnLoopThread: Bool { pthread_equal(pthread_self(), owner) != 0 }

    @inline(__always)
    package func assertOnLoopThread(_ function: StaticString = #function) {
        assert(isOnLoopThread, "EventLoop.\(function) called off the loop thread")
    }

    // MARK: TaskExecutor

    /// Called by the Swift runtime, on any thread, with a job of a task that prefers
    /// this loop. On the loop thread it joins the ready queue; from elsewhere it goes
    /// through the inbox and wakes the loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        guard isOnLoopThread else {
            inbox.withLock {
                $0.append(.job(job))
                inboxPending.store(true, ordering: .releasing)
            }
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
                record.stored = StoredWait(.yield, label: "Task.yield", location: .unknown, since: stepStartedAt)
            }
            record.phase = .ready
        }
        ready.append(.job(job, record))
    }

    /// Fault injection (any thread): while true, the wake-ups other threads send are lost —
    /// the seed's loop without its socketpair. A pool's result, or a job handed over, is
    /// then found only at the next poll step, after the poll times out. For demonstrating
    /// and testing a lost wake-up (the monitor's late-wake lint); never set it otherwise.
    public var dropsWakeUps: Bool {
        get { wakeChannel.drops.load(ordering: .relaxed) }
        set { wakeChannel.drops.store(newValue, ordering: .relaxed) }
    }

    // MARK: Observers

    /// Attaches an observer; it receives every event on the loop thread.
    public func addObserver(_ observer: any LoopObserver) {
        assertOnLoopThread()
        observers.append(observer)
        watchersChanged()
    }

    /// Detaches an observer added with `addObserver`.
    public func removeObserver(_ observer: any LoopObserver) {
        assertOnLoopThread()
        observers.removeAll { $0 === observer }
        watchersChanged()
    }

    @usableFromInline
    package func notify(_ event: LoopEvent) {
        guard !observers.isEmpty else { return }
        // (What observers read of the clock is no input of the tasks': not recorded.)
        let was = notifying
        notifying = true
        for o in observers { o.loop(self, observed: event) }
        notifying = was
    }

    /// Runs `body` on the loop thread (any thread may call): at once when called there,
    /// otherwise at the next poll step, which this call wakes. The closure runs between
    /// task steps; it may spawn, record figures, or complete futures, but not step.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        if isOnLoopThread {
            body()
            return
        }
        inbox.withLock {
            $0.append(.call(body))
            inboxPending.store(true, ordering: .releasing)
        }
        wakeChannel.signal()
    }

    /// Hands a pool event to the loop (any thread); observers see it at the next poll.
    public func post(_ event: PoolEvent) {
        if isOnLoopThread {
            emit(.pool(event))
            return
        }
        inbox.withLock {
            $0.append(.pool(event))
            inboxPending.store(true, ordering: .releasing)
        }
    }
}

/// A handle on a spawned task: its stable id and the loop it runs on.
public struct TaskHandle: Sendable, Hashable {
    public let id: TaskID
    public let loop: EventLoop

    public static func == (a: TaskHandle, b: TaskHandle) -> Bool { a.id == b.id && a.loop === b.loop }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}
