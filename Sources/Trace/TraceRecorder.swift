// The recorder behind every picture of the loop over time: a reader of the loop's records
// (Runtime/Loop/LoopRecords.swift) that keeps the last N things the loop did — task steps, polls, pool work —
// with the flows between them (a wake to the step it caused, a submission to the work, the
// work's completion to the wake). The trace file (ChromeTrace.swift), the terminal
// timeline and the SVG (Timeline.swift) are drawn from it. Attached only while recording:
// a loop nobody records pays nothing.
import DequeModule
import Runtime

/// Records what a loop does, for pictures: a bounded ring of the last `limit` events.
///
/// Attach it with `start(on:)` and detach it with `stop()`; use it on the loop thread.
public final class TraceRecorder: LoopRecordReader {
    /// How many events a recording keeps unless told otherwise.
    public static let defaultLimit = 100_000

    /// The most events kept; older ones are dropped (and counted).
    public let limit: Int
    /// What was recorded, oldest first (at most `limit`).
    @exclusivity(unchecked) public private(set) var events = Deque<TraceEvent>()
    /// How many older events were dropped to stay within `limit`.
    @exclusivity(unchecked) public private(set) var dropped = 0
    /// When the recording began (monotonic nanoseconds): the trace's time zero.
    @exclusivity(unchecked) public private(set) var origin: UInt64 = 0
    /// Every task seen while recording (and those alive when it began), by id.
    @exclusivity(unchecked) public private(set) var tasks: [TaskID: TaskTrack] = [:]
    /// Pool workers seen, numbered from 1 in the order they first did work.
    @exclusivity(unchecked) public private(set) var workers: [WorkerTrack] = []
    /// Whether the recorder is attached to a loop.
    @exclusivity(unchecked) public private(set) var isRecording = false

    private weak var loop: EventLoop?
    @exclusivity(unchecked) private var nextFlow: UInt64 = 0
    /// The task step under way, in pieces (its record is made once, when it ends: a
    /// `StepRecord` kept whole as an optional was copied at each change).
    @exclusivity(unchecked) private var stepOpen = false
    @exclusivity(unchecked) private var stepNumber: UInt64 = 0
    @exclusivity(unchecked) private var stepTask = TaskID(0)
    @exclusivity(unchecked) private var stepStart: UInt64 = 0
    @exclusivity(unchecked) private var stepSpawned: [TaskID] = []
    @exclusivity(unchecked) private var stepFlowsIn: [Flow] = []
    @exclusivity(unchecked) private var stepFlowsOut: [Flow] = []
    @exclusivity(unchecked) private var partialPoll: PollRecord?
    /// How the task of the step under way ended, if it did in this step.
    @exclusivity(unchecked) private var exitOfStep: String?
    /// Wake flows waiting for the woken task's next step.
    @exclusivity(unchecked) private var wakeFlows: [TaskID: [UInt64]] = [:]
    /// Submission flows waiting for the work to start.
    @exclusivity(unchecked) private var submitFlows: [FutureID: UInt64] = [:]
    @exclusivity(unchecked) private var workStarts: [FutureID: (worker: Int, at: UInt64)] = [:]
    /// Completion flows of finished work waiting for the future's wake.
    @exclusivity(unchecked) private var doneFlows: [FutureID: Flow] = [:]
    @exclusivity(unchecked) private var workerIndex: [String: Int] = [:]

    /// The bytes one event takes in the ring.
    public static var bytesPerEvent: Int { MemoryLayout<TraceEvent>.stride }

    /// A recorder that keeps the last `limit` events (at least 1); the ring is allocated
    /// whole when recording starts (`limit` × `bytesPerEvent`).
    public init(limit: Int = TraceRecorder.defaultLimit) {
        self.limit = max(1, limit)
    }

    /// Starts recording `loop` (on its thread): forgets what was recorded before, takes
    /// the names of the tasks alive now, and attaches itself as an observer.
    public func start(on loop: EventLoop) {
        if isRecording { stop() }
        reset()
        // The whole ring at once: growing it later copies every event kept, and that copy
        // (tens of ms at 65,536 events) showed as the maximum latency of a recorded server.
        events.reserveCapacity(limit)
        origin = loop.now()
        for t in loop.snapshot().tasks {
            var track = TaskTrack(id: t.id, name: t.name, kind: t.kind, finished: t.state.isFinished)
            switch t.state {
            case .waiting(let w): track.stateAtStart = w.reason.kind
            case .ready, .running: track.stateAtStart = "ready"
            default: track.stateAtStart = nil
            }
            tasks[t.id] = track
        }
        self.loop = loop
        loop.addRecordReader(self)
        isRecording = true
    }

    /// Stops recording; what was recorded stays until the next `start`.
    public func stop() {
        guard isRecording else { return }
        loop?.removeRecordReader(self)
        loop = nil
        isRecording = false
        stepOpen = false
        partialPoll = nil
    }

    private func reset() {
        events.removeAll()
        dropped = 0
        tasks = [:]
        workers = []
        workerIndex = [:]
        wakeFlows = [:]
        submitFlows = [:]
        workStarts = [:]
        doneFlows = [:]
        nextFlow = 0
        (stepSpawned, stepFlowsIn, stepFlowsOut) = ([], [], [])
    }

    // MARK: Observing

    package func loop(_ loop: EventLoop, read records: UnsafeBufferPointer<LoopRecord>) {
        // The wait the step's task went into (nil: none yet, or it ended).
        var to: StoredWait?
        for i in records.indices {
            switch records[i] {
            case .began(let number, let task, let at):
                to = nil
                if let task {
                    (stepOpen, stepNumber, stepTask, stepStart) = (true, number, task, at)
                    // (Empty unless a step before this one never ended.)
                    if !stepSpawned.isEmpty { stepSpawned = [] }
                    if !stepFlowsIn.isEmpty { stepFlowsIn = [] }
                    if !stepFlowsOut.isEmpty { stepFlowsOut = [] }
                    if !wakeFlows.isEmpty, let ids = wakeFlows.removeValue(forKey: task) {
                        stepFlowsIn = ids.map { Flow(id: $0, kind: .wake, at: at) }
                    }
                } else {
                    partialPoll = PollRecord(number: number, start: at, end: at)
                }
            case .woke(let task, _, let cause, let at):
                woke(task, cause, at: at)
            case .pollEnded(let waitedNanos, _):
                partialPoll?.blockedNanos = waitedNanos
            case .ran(let task, let from, _, let end, _, let resumeError):
                ran(task, from: from, to: to, end: end, resumeError: loop.text(resumeError), loop)
            case .polled(let end, let woke, let waitedNanos, let note):
                var poll = partialPoll ?? PollRecord(number: loop.stepCount, start: end, end: end)
                partialPoll = nil
                poll.end = end
                if !woke {
                    poll.blockedNanos = waitedNanos
                    poll.note = loop.text(note)
                }
                append(.poll(poll))
            case .event(let e):
                switch loop.event(e) {
                case .spawned(let id, let name, let kind, _):
                    var track = TaskTrack(id: id, name: name, kind: kind, finished: false)
                    // A task is ready from its spawn on (in the middle of a step, or after it).
                    track.stateAtStart = "ready"
                    track.bornAfterStep = !stepOpen && partialPoll == nil ? loop.stepCount : loop.stepCount - 1
                    tasks[id] = track
                    if stepOpen { stepSpawned.append(id) }
                case .exited(let id, let exit):
                    tasks[id]?.finished = true
                    wakeFlows[id] = nil
                    if stepOpen && stepTask == id { exitOfStep = exit.description }
                case .pool(let p):
                    pool(p)
                case .net(let n):
                    append(.net(n))
                default:
                    break
                }
            case .waits(let task, let wait):
                if stepOpen && task == stepTask { to = wait }
            case .pollBegan:
                break
            }
        }
    }

    private func newFlow(_ kind: Flow.Kind, at: UInt64) -> Flow {
        nextFlow += 1
        return Flow(id: nextFlow, kind: kind, at: at)
    }

    private func woke(_ task: TaskID, _ cause: WakeCause, at now: UInt64) {
        let flow = newFlow(.wake, at: now)
        // A wake binds to the step it happened in: a poll, or a task's step (a future
        // completed or a task cancelled by a task). Between steps there is no slice to bind to.
        if partialPoll != nil {
            partialPoll!.wakes.append(PollRecord.Woken(task: task, cause: cause))
            partialPoll!.flowsOut.append(flow)
        } else if stepOpen {
            stepFlowsOut.append(flow)
        } else {
            return
        }
        wakeFlows[task, default: []].append(flow.id)
        if case .future(let future) = cause, var done = doneFlows.removeValue(forKey: future) {
            done.at = now
            if partialPoll != nil { partialPoll!.flowsIn.append(done) } else { stepFlowsIn.append(done) }
        }
    }

    private func ran(_ task: TaskID, from: StoredWait?, to: StoredWait?, end: UInt64, resumeError: String?, _ loop: EventLoop) {
        // A future's wait names the work (`future 3 (fib(30))`), as `queues` does; a host
        // queue's wait, its queue.
        func described(_ stored: StoredWait) -> WaitRecord {
            switch stored.reason {
            case .future(let id):
                return WaitRecord(stored: stored, hostQueue: nil, futureLabel: loop.futureLabel(id))
            case .custom:
                if case .custom(let queue, let detail) = loop.publicWait(stored, of: task).reason {
                    return WaitRecord(stored: stored, hostQueue: (queue, detail), futureLabel: nil)
                }
                return WaitRecord(stored: stored, hostQueue: nil, futureLabel: nil)
            default:
                return WaitRecord(stored: stored, hostQueue: nil, futureLabel: nil)
            }
        }
        let open = stepOpen
        stepOpen = false
        let outcome: StepRecord.Outcome = if let to { .waits(described(to)) } else { .exited(exitOfStep ?? "done") }
        exitOfStep = nil
        // (Made once, in place in the event: a step's record is the recorder's largest value.)
        append(.step(StepRecord(
            number: open ? stepNumber : loop.stepCount, task: task, start: open ? stepStart : end, end: end,
            resumedFrom: from.map(described), resumedWithError: resumeError, outcome: outcome,
            spawned: open ? stepSpawned.take() : [], flowsIn: open ? stepFlowsIn.take() : [],
            flowsOut: open ? stepFlowsOut.take() : [])))
    }

    private func pool(_ p: PoolEvent) {
        switch p.kind {
        case .submitted:
            guard stepOpen else { return }
            let flow = newFlow(.submit, at: p.at)
            stepFlowsOut.append(flow)
            submitFlows[p.future] = flow.id
        case .started(let worker):
            workStarts[p.future] = (worker, p.at)
        case .finished(let worker, let ok):
            let started = workStarts.removeValue(forKey: p.future)
            let key = "\(p.pool)/\(worker)"
            let track: Int
            if let known = workerIndex[key] {
                track = known
            } else {
                workers.append(WorkerTrack(pool: p.pool, worker: worker))
                track = workers.count
                workerIndex[key] = track
            }
            let start = started?.at ?? p.at
            let done = newFlow(.done, at: max(start, p.at))
            // The work's completion ends at the future's wake (see `woke`). A future nobody
            // awaits never wakes anyone: keep the table bounded.
            if doneFlows.count >= 4_096 { doneFlows.removeAll() }
            doneFlows[p.future] = done
            append(.work(WorkRecord(
                pool: p.pool, worker: worker, track: track, future: p.future, label: p.label,
                start: start, end: max(start, p.at), ok: ok,
                flowIn: submitFlows.removeValue(forKey: p.future).map { Flow(id: $0, kind: .submit, at: start) },
                flowOut: done)))
        }
    }

    @inline(__always)
    private func append(_ event: consuming TraceEvent) {
        if events.count >= limit {
            events.removeFirst()
            dropped += 1
        }
        events.append(consume event)  // (moved: a copy of a step's record costs 300 instructions)
    }
}

/// A task as the trace names it.
public struct TaskTrack: Sendable, Hashable {
    public var id: TaskID
    public var name: String
    public var kind: String
    /// Whether it had ended by the last event recorded.
    public var finished: Bool
    /// What it waited on when the recording began or it was spawned ("ready", a wait
    /// kind, or nil when unknown).
    public var stateAtStart: String?
    /// It did not exist before this step (0: before the recording began).
    public var bornAfterStep: UInt64 = 0

    public init(id: TaskID, name: String, kind: String, finished: Bool) {
        self.id = id
        self.name = name
        self.kind = kind
        self.finished = finished
    }
}

/// A pool worker's track: the pool's name and the worker's number in it.
public struct WorkerTrack: Sendable, Hashable {
    public var pool: String
    public var worker: Int
    public var name: String { "\(pool) worker \(worker)" }
}

/// One arrow between two recorded events: both ends carry the same id.
public struct Flow: Sendable, Hashable {
    public enum Kind: String, Sendable {
        /// A wake (fd ready, future done, timer due, foreign resume) to the step it caused.
        case wake
        /// A task's submission to the pool work it asked for.
        case submit
        /// Pool work's completion to the wake of the task awaiting it.
        case done
    }
    public var id: UInt64
    public var kind: Kind
    /// When this end happened (monotonic nanoseconds).
    public var at: UInt64
}

/// A wait as recorded: the runtime's own value (words are made only when a picture is
/// drawn: formatting costs more than a step), and the work's label for a future. Kept in
/// the loop's stored form; the public `Wait` is made when asked for (making it for every
/// step cost the recorder more than a step).
public struct WaitRecord: Sendable, Hashable {
    private var stored: StoredWait
    /// For a host queue's wait: the queue and its detail.
    private var hostQueue: (queue: String, detail: String)?
    /// For a future: what the work is (`fib(30)`).
    public var futureLabel: String?

    /// The wait.
    public var wait: Wait {
        get { Wait(stored, hostQueue: hostQueue ?? ("", "")) }
        set {
            stored = StoredWait(newValue)
            if case .custom(let queue, let detail) = newValue.reason { hostQueue = (queue, detail) } else { hostQueue = nil }
        }
    }

    public init(_ wait: Wait, futureLabel: String? = nil) {
        stored = StoredWait(wait)
        if case .custom(let queue, let detail) = wait.reason { hostQueue = (queue, detail) }
        self.futureLabel = futureLabel
    }

    init(stored: StoredWait, hostQueue: (queue: String, detail: String)?, futureLabel: String?) {
        (self.stored, self.hostQueue, self.futureLabel) = (stored, hostQueue, futureLabel)
    }

    public static func == (a: WaitRecord, b: WaitRecord) -> Bool {
        a.wait == b.wait && a.futureLabel == b.futureLabel
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(wait)
        hasher.combine(futureLabel)
    }

    /// recv, send, future, sleep, yield, join, external, or a host queue's name.
    public var kind: String { wait.reason.kind }

    /// e.g. `recv fd 7 (recv)`, `future 3 (fib(30))`.
    public var text: String {
        if case .future(let id) = wait.reason, let futureLabel { return "future \(id.rawValue) (\(futureLabel))" }
        return wait.description
    }

    /// `FibServer.swift:135`, or empty.
    public var location: String { wait.location.line > 0 ? wait.location.description : "" }
}

/// One thing the loop did.
public enum TraceEvent: Sendable {
    case step(StepRecord)
    case poll(PollRecord)
    case work(WorkRecord)
    /// A fault of the simulated network taking effect (a lost segment, a reset).
    case net(NetEvent)

    /// The loop's step number, for steps and polls.
    public var stepNumber: UInt64? {
        switch self {
        case .step(let s): return s.number
        case .poll(let p): return p.number
        case .work, .net: return nil
        }
    }
}

/// A task run from a resumption to its next suspension.
public struct StepRecord: Sendable {
    public enum Outcome: Sendable, Hashable {
        case waits(WaitRecord)
        case exited(String)
    }
    public var number: UInt64
    public var task: TaskID
    /// Monotonic nanoseconds.
    public var start: UInt64
    public var end: UInt64
    public var resumedFrom: WaitRecord?
    public var resumedWithError: String?
    public var outcome: Outcome
    /// Tasks it spawned.
    public var spawned: [TaskID] = []
    /// Flows that end here: the wake that made the task ready.
    public var flowsIn: [Flow] = []
    /// Flows that start here: wakes it caused, work it submitted.
    public var flowsOut: [Flow] = []

    init(number: UInt64, task: TaskID, start: UInt64, end: UInt64, resumedFrom: WaitRecord?,
         resumedWithError: String?, outcome: Outcome, spawned: [TaskID], flowsIn: [Flow], flowsOut: [Flow]) {
        (self.number, self.task, self.start, self.end) = (number, task, start, end)
        (self.resumedFrom, self.resumedWithError, self.outcome) = (resumedFrom, resumedWithError, outcome)
        (self.spawned, self.flowsIn, self.flowsOut) = (spawned, flowsIn, flowsOut)
    }
}

/// One poll step (the seed's `select`), with what it woke.
public struct PollRecord: Sendable {
    public struct Woken: Sendable, Hashable {
        public var task: TaskID
        public var cause: WakeCause
    }
    public var number: UInt64
    public var start: UInt64
    public var end: UInt64
    /// How long the poll call blocked.
    public var blockedNanos: UInt64 = 0
    public var wakes: [Woken] = []
    /// Why an idle step did not poll, if it did not.
    public var note: String?
    /// Pool work completions whose futures this poll woke.
    public var flowsIn: [Flow] = []
    /// Its wakes.
    public var flowsOut: [Flow] = []

    /// The fds that woke, in order, once each.
    public var fds: [Int32] {
        var seen: [Int32] = []
        for w in wakes {
            switch w.cause {
            case .readable(let fd), .writable(let fd), .closed(let fd), .stillReady(let fd, _):
                if !seen.contains(fd) { seen.append(fd) }
            default: break
            }
        }
        return seen
    }

    init(number: UInt64, start: UInt64, end: UInt64) {
        self.number = number
        self.start = start
        self.end = end
    }
}

/// Pool work, from the worker picking it up to its result.
public struct WorkRecord: Sendable {
    public var pool: String
    public var worker: Int
    /// The worker's track (1-based index into `TraceRecorder.workers`).
    public var track: Int
    public var future: FutureID
    public var label: String
    public var start: UInt64
    public var end: UInt64
    public var ok: Bool
    /// From the submitting step.
    public var flowIn: Flow?
    /// To the future's wake.
    public var flowOut: Flow?
}

private extension Array {
    /// The array, leaving it empty (no copy: the caller holds the only reference).
    mutating func take() -> [Element] {
        var taken: [Element] = []
        swap(&self, &taken)
        return taken
    }
}
