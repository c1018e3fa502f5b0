// The loop's history of its observable state, for `step back` and `goto`
// (docs/TIME-TRAVEL.md). Not a re-execution — a suspended continuation cannot be copied,
// a real socket's past cannot be re-run — but a record of what every step changed: the
// rows it touched, what it put in the ready queue, the loop's own figures; and, now and
// then, a keyframe of every row. The state after step K is the keyframe at or before K
// with every later step up to K applied; the queues are rebuilt from the rows.
import Runtime
import DequeModule

/// What the history holds (`EventLoop.historyStatus`).
public struct HistoryStatus: Sendable, Equatable {
    /// The oldest step whose state it can show.
    public var oldestStep: UInt64
    /// The newest step it recorded (the present, between steps).
    public var newestStep: UInt64
    /// How many steps it holds (at most about `limit`).
    public var stepsKept: Int
    /// The most steps it keeps; older ones are dropped a segment at a time.
    public var limit: Int
    /// How many keyframes (full copies of the task table) it holds.
    public var keyframes: Int
    /// An estimate of the memory it holds, in bytes.
    public var estimatedBytes: Int
}

/// What stays the same for a task's whole life: shared by every row of it.
final class TaskIdentity: @unchecked Sendable {
    let id: TaskID
    let name: String
    let kind: String
    let parent: TaskID?
    let createdAt: UInt64

    init(id: TaskID, name: String, kind: String, parent: TaskID?, createdAt: UInt64) {
        (self.id, self.name, self.kind, self.parent, self.createdAt) = (id, name, kind, parent, createdAt)
    }
}

/// One task's row as the history keeps it: what can change, as the record stores it (its
/// identity shared), with the figures kept as spans of the task's series (a series only
/// grows; copying it would cost a copy per value added). `TaskInfo` is made from it only
/// when a past step is shown.
struct HistoryRow {
    var identity: TaskIdentity
    var phase: TaskRecord.Phase
    var stored: StoredWait?
    var steps: Int
    var busyNanos: UInt64
    var endedAt: UInt64?
    var epoch: Int
    var timerSequence: UInt64
    /// What most rows do not have (facts, stamps, figures, an exit, a future's label, a
    /// host queue): nil when the row has none of it, so that a row of a task that only
    /// steps holds one reference and its copy costs one retain.
    var extras: RowExtras?

    /// The facts set for the task.
    var facts: [String: String] { extras?.facts ?? [:] }
    /// How many stamps each of its series holds.
    var stampCounts: [String: Int] { extras?.stampCounts ?? [:] }
    /// Its figures, as spans of its series.
    var spans: [FigureSpan] { extras?.spans ?? [] }
    /// The host queue and detail of a `.custom` wait.
    var hostQueue: (queue: String, detail: String)? { extras?.hostQueue }
    /// How it ended.
    var exit: TaskExit? { extras?.exit }
    /// The label of the future it waits on.
    var futureLabel: String? { extras?.futureLabel }

    var id: TaskID { identity.id }

    /// As `TaskRecord.state` says it.
    var state: TaskState {
        TaskState(phase, exit: exit) {
            Wait(stored ?? StoredWait(.external, location: .unknown, since: 0), hostQueue: hostQueue ?? ("", ""))
        }
    }

    /// The row as `TaskInfo`, taken at `now`, with these figures.
    func info(at now: UInt64, figures: [String: [Double]]) -> TaskInfo {
        TaskInfo(
            id: identity.id, name: identity.name, kind: identity.kind, parent: identity.parent, state: state,
            steps: steps, busyNanos: busyNanos, createdAt: identity.createdAt, endedAt: endedAt, figures: figures,
            facts: facts, stampCounts: stampCounts, takenAt: now)
    }
}

/// The parts of a history row that most rows lack (shared by copies of the row).
final class RowExtras {
    let facts: [String: String]
    let stampCounts: [String: Int]
    let spans: [FigureSpan]
    let hostQueue: (queue: String, detail: String)?
    let exit: TaskExit?
    let futureLabel: String?

    init(facts: [String: String], stampCounts: [String: Int], spans: [FigureSpan],
         hostQueue: (queue: String, detail: String)?, exit: TaskExit?, futureLabel: String?) {
        (self.facts, self.stampCounts, self.spans) = (facts, stampCounts, spans)
        (self.hostQueue, self.exit, self.futureLabel) = (hostQueue, exit, futureLabel)
    }
}

/// Values `start..<end` of series `name`, counted from the series' first value ever.
struct FigureSpan {
    var name: String
    var start: Int
    var end: Int
}

/// What one step changed. Its ids and rows live in its segment's flat arrays (a step
/// allocates nothing of its own).
struct HistoryStep {
    var number: UInt64
    var time: UInt64
    /// The task the step ran (nil for a poll step or a job of no task).
    var ran: TaskID?
    /// The step ran a job of no task (taken out of the ready queue).
    var poppedForeign: Bool
    /// In `ids`: what entered the ready queue between the previous step and this one
    /// (commands: a spawn, an unpark), before this step took its task out, in order.
    var appendedBefore: Range<Int>
    /// In `ids`: what entered the ready queue during the step, in order (id 0: a job of no
    /// task).
    var appended: Range<Int>
    /// In `rows`: the rows it changed (a later copy of a row wins).
    var rows: Range<Int>
    /// In `removedIDs`: the tasks that left the table.
    var removed: Range<Int>
    var pendingFutures: Int
    var poller: PollerKind
    /// Boxed: only a loop under a GIL has one, and it is large.
    var gil: Boxed<GILSnapshot>?
}

/// A value kept out of line (a rare, large field of a struct stored by the thousand).
final class Boxed<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

struct HistorySegment {
    var keyframe: HistoryFrame
    var steps: [HistoryStep] = []
    var ids: [TaskID] = []
    var rows: [HistoryRow] = []
    var removedIDs: [TaskID] = []

    var estimatedBytes: Int {
        keyframe.rows.count * LoopHistory.rowBytes + keyframe.readyOrder.count * 8
            + steps.count * LoopHistory.stepBytes + rows.count * LoopHistory.rowBytes + ids.count * 8
            + removedIDs.count * 8
    }
}

/// Figures handed to the history when they left their task (cleared, or the task left
/// the table).
struct ArchivedFigures {
    var figures: [String: [Double]]
    var dropped: [String: Int]
    /// The step after which rows no longer refer to them.
    var archivedAt: UInt64
}

struct ArchiveKey: Hashable {
    var task: TaskID
    var epoch: Int
}

/// The history itself (loop thread only: its fields skip the dynamic exclusivity checks,
/// as the loop's own hot fields do).
final class LoopHistory {
    let limit: Int
    /// Full segments, oldest first; `current` is the one being written.
    @exclusivity(unchecked) var sealed = Deque<HistorySegment>()
    /// (Not an optional: an implicitly unwrapped one was copied whole — every array of it
    /// retained and released — at each read of one of its fields, several times a step.)
    @exclusivity(unchecked) var current = HistorySegment(keyframe: HistoryFrame(
        number: 0, time: 0, rows: [:], readyOrder: [], pendingFutures: 0, poller: .select, gil: nil))
    /// Whether `current` was begun (by `beginSegment`; before that it is a placeholder).
    @exclusivity(unchecked) var begun = false
    @exclusivity(unchecked) var stepsKept = 0
    /// `ready.count` after the last capture.
    @exclusivity(unchecked) var lastReadyCount = 0
    /// Where what entered the ready queue between the last step and the one beginning
    /// starts in `current.ids` and `current.rows`.
    @exclusivity(unchecked) var beforeIDs = 0
    @exclusivity(unchecked) var beforeRows = 0
    /// Tasks changed outside their own steps since the last capture (a fact or figure set
    /// for another task, figures cleared).
    @exclusivity(unchecked) var touched: [TaskID] = []
    /// Tasks that left the table since the last capture.
    @exclusivity(unchecked) var removed: [TaskID] = []
    /// Tasks whose time stamps other threads add to (their rows change between steps).
    @exclusivity(unchecked) var stamped: Set<TaskID> = []
    @exclusivity(unchecked) var archive: [ArchiveKey: ArchivedFigures] = [:]
    /// Steps between keyframes: max(1,024, 4 × tasks) when the current segment began.
    @exclusivity(unchecked) var keyframeEvery = 1024
    /// The bytes of the sealed segments (the current one's are counted when asked).
    @exclusivity(unchecked) var sealedBytes = 0

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// `MemoryLayout` sizes (what the arrays hold inline; strings and dictionaries a row
    /// refers to are shared with the task table).
    static let rowBytes = MemoryLayout<HistoryRow>.stride
    static let stepBytes = MemoryLayout<HistoryStep>.stride

    var segmentCount: Int { sealed.count + 1 }
    var oldest: HistorySegment { sealed.first ?? current }
    func segment(_ i: Int) -> HistorySegment { i < sealed.count ? sealed[i] : current }
}
