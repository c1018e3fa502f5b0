// The loop's private row for one task. Confined to the loop thread: it is only read and
// written by the loop and by the task itself while a step runs it.

/// The loop's mutable record of one task (loop thread only).
@usableFromInline
package final class TaskRecord: @unchecked Sendable {
    /// Where the task is in its life; `wait` says more while it is suspended, `exit`
    /// once it has finished. Payload-free, so that setting it on every step is a store.
    @usableFromInline
    package enum Phase: UInt8 {
        /// Queued in `ready`, to run at a coming step.
        case ready
        /// Being run by the current step.
        case running
        /// Suspended in a wait queue (see `wait`).
        case waiting
        /// Ended (see `exit`).
        case finished
    }

    // Fields other modules of the package read are stored as `_name` and reached as `name`,
    // an inlinable accessor (see EventLoop's loop-thread state: so that the unchecked
    // exclusivity holds for them too).
    //
    // Touched on every step: declared first (a class keeps declaration order), so that a
    // step touches as few cache lines of the record as it can — it matters with 100,000
    // tasks, where every step meets a record that is not in cache.
    @usableFromInline @exclusivity(unchecked) var _phase: Phase = .ready
    @inlinable package var phase: Phase {
        @inline(__always) get { _phase }
        @inline(__always) _modify { yield &_phase }
    }
    @usableFromInline @exclusivity(unchecked) var cancelRequested = false
    /// The continuation to resume when the task leaves its wait queue.
    @usableFromInline @exclusivity(unchecked) var continuation: UnsafeContinuation<Void, any Error>?
    /// Set to make the next resumption throw (cancellation, a closed fd, …).
    @exclusivity(unchecked) var resumeError: (any Error)?
    @usableFromInline @exclusivity(unchecked) var _steps: Int = 0
    @inlinable package var steps: Int {
        @inline(__always) get { _steps }
        @inline(__always) _modify { yield &_steps }
    }
    @usableFromInline @exclusivity(unchecked) var _busyNanos: UInt64 = 0
    @inlinable package var busyNanos: UInt64 {
        @inline(__always) get { _busyNanos }
        @inline(__always) _modify { yield &_busyNanos }
    }
    @usableFromInline package let id: TaskID
    /// The current (or, while ready/running, the last) suspension: why, what for, where,
    /// since when, as plain bits. The only place a wait is written; `wait` reads it.
    @usableFromInline @exclusivity(unchecked) var _stored: StoredWait?
    @inlinable package var stored: StoredWait? {
        @inline(__always) get { _stored }
        @inline(__always) _modify { yield &_stored }
    }

    package let name: String
    package let kind: String
    package let parent: TaskID?
    package let createdAt: UInt64
    @usableFromInline @exclusivity(unchecked) var _endedAt: UInt64?
    @inlinable package var endedAt: UInt64? {
        @inline(__always) get { _endedAt }
        @inline(__always) _modify { yield &_endedAt }
    }
    /// How it ended, once `phase` is `.finished`.
    @usableFromInline @exclusivity(unchecked) var _exit: TaskExit?
    @inlinable package var exit: TaskExit? {
        @inline(__always) get { _exit }
        @inline(__always) _modify { yield &_exit }
    }
    /// The Swift task, for `cancel()`.
    var handle: Task<Void, Never>?
    /// Address of the Swift task (== its job), to recognise jobs enqueued by other means.
    @usableFromInline var jobPointer: UnsafeRawPointer?
    /// Matches the live timer entry; bumped to invalidate a pending one.
    @usableFromInline @exclusivity(unchecked) var _timerSequence: UInt64 = 0
    @inlinable package var timerSequence: UInt64 {
        @inline(__always) get { _timerSequence }
        @inline(__always) _modify { yield &_timerSequence }
    }

    /// The host queue and detail of a `.custom` wait (`park(in:detail:)`), out of the
    /// record's hot part.
    @usableFromInline @exclusivity(unchecked) var _hostQueue: (queue: String, detail: String) = ("", "")
    @inlinable package var hostQueue: (queue: String, detail: String) {
        @inline(__always) get { _hostQueue }
        @inline(__always) _modify { yield &_hostQueue }
    }

    @usableFromInline @exclusivity(unchecked) var _figures: [String: [Double]] = [:]
    @inlinable package var figures: [String: [Double]] {
        @inline(__always) get { _figures }
        @inline(__always) _modify { yield &_figures }
    }
    /// How many values each series has dropped from its front (at its cap), and how many
    /// times the figures were cleared: the history addresses values by both.
    @usableFromInline @exclusivity(unchecked) var _figureDropped: [String: Int] = [:]
    @inlinable package var figureDropped: [String: Int] {
        @inline(__always) get { _figureDropped }
        @inline(__always) _modify { yield &_figureDropped }
    }
    @usableFromInline @exclusivity(unchecked) var _figureEpoch: Int = 0
    @inlinable package var figureEpoch: Int {
        @inline(__always) get { _figureEpoch }
        @inline(__always) _modify { yield &_figureEpoch }
    }
    /// The driver's note on the task (the history keeps the part of its row that never
    /// changes here, shared by all its rows).
    @usableFromInline @exclusivity(unchecked) var _driverNote: AnyObject?
    @inlinable package var driverNote: AnyObject? {
        @inline(__always) get { _driverNote }
        @inline(__always) _modify { yield &_driverNote }
    }
    /// Time stamps, made on first use (client threads add to them directly).
    @usableFromInline @exclusivity(unchecked) var _stamps: Stamps?
    @inlinable package var stamps: Stamps? {
        @inline(__always) get { _stamps }
        @inline(__always) _modify { yield &_stamps }
    }
    @usableFromInline @exclusivity(unchecked) var _facts: [String: String] = [:]
    @inlinable package var facts: [String: String] {
        @inline(__always) get { _facts }
        @inline(__always) _modify { yield &_facts }
    }

    init(id: TaskID, name: String, kind: String, parent: TaskID?, createdAt: UInt64) {
        self.id = id
        self.name = name
        self.kind = kind
        self.parent = parent
        self.createdAt = createdAt
    }

    /// The current (or last) suspension, as the public read-only view.
    var wait: Wait? {
        guard let stored else { return nil }
        // Only a host queue's wait reads the names (copying them costs reference counting).
        if case .custom = stored.reason { return Wait(stored, hostQueue: hostQueue) }
        return Wait(stored, hostQueue: ("", ""))
    }

    var isFinished: Bool {
        phase == .finished
    }

    var state: TaskState {
        TaskState(phase, exit: exit) { wait ?? Wait(StoredWait(.external, location: .unknown, since: 0), hostQueue: hostQueue) }
    }

    /// A value copy of the row, taken at `now` (monotonic nanoseconds).
    func info(at now: UInt64) -> TaskInfo {
        TaskInfo(
            id: id, name: name, kind: kind, parent: parent, state: state, steps: steps,
            busyNanos: busyNanos, createdAt: createdAt, endedAt: endedAt, figures: figures, facts: facts,
            stampCounts: stamps?.counts ?? [:], takenAt: now)
    }
}

/// A suspension as the runtime stores it: plain, trivially copyable bits (the public
/// `Wait` carries strings for host queues), so that recording one on every step is a few
/// stores and no reference counting. `Wait` is its read-only view.
@usableFromInline
package struct StoredWait: Sendable {
    /// Which queue the task is in, and on what. `WaitReason` is its public view.
    @usableFromInline
    package enum Reason: Equatable, Sendable {
        case recv(Int32)
        case send(Int32)
        case future(FutureID)
        case sleep(UInt64)
        case yield
        case join(TaskID)
        case external
        /// In a host's queue; its names are in `TaskRecord.hostQueue`.
        case custom
    }

    @usableFromInline package var reason: Reason
    @usableFromInline package var label: StaticString
    @usableFromInline package var location: CodeLocation
    @usableFromInline package var since: UInt64

    @inlinable
    package init(_ reason: Reason, label: StaticString = "", location: CodeLocation, since: UInt64) {
        self.reason = reason
        self.label = label
        self.location = location
        self.since = since
    }

    /// The stored form of a public wait, and its host queue (for `.custom`).
    package init(_ wait: Wait) {
        let reason: Reason
        switch wait.reason {
        case .recv(let fd): reason = .recv(fd)
        case .send(let fd): reason = .send(fd)
        case .future(let id): reason = .future(id)
        case .sleep(let until): reason = .sleep(until)
        case .yield: reason = .yield
        case .join(let id): reason = .join(id)
        case .external: reason = .external
        case .custom: reason = .custom
        }
        self.init(reason, label: wait.label, location: wait.location, since: wait.since)
    }
}

extension TaskState {
    /// The state of a task in `phase`; `wait` describes it when waiting, `exit` when ended.
    package init(_ phase: TaskRecord.Phase, exit: TaskExit?, wait: () -> Wait) {
        switch phase {
        case .ready: self = .ready
        case .running: self = .running
        case .waiting: self = .waiting(wait())
        case .finished:
            switch exit ?? .done {
            case .done: self = .done
            case .failed(let e): self = .failed(e)
            case .cancelled: self = .cancelled
            }
        }
    }
}
