// The loop's history of its observable state, for `step back` and `goto`
// (docs/TIME-TRAVEL.md). Not a re-execution — a suspended continuation cannot be copied,
// a real socket's past cannot be re-run — but a record of what every step changed: the
// rows it touched, what it put in the ready queue, the loop's own figures; and, now and
// then, a keyframe of every row. The state after step K is the keyframe at or before K
// with every later step up to K applied; the queues are rebuilt from the rows.
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
    /// The host queue and detail of a `.custom` wait (nil otherwise; boxed: rare).
    var hostQueue: Boxed<(queue: String, detail: String)>?
    var exit: TaskExit?
    var steps: Int
    var busyNanos: UInt64
    var endedAt: UInt64?
    var facts: [String: String]
    var stampCounts: [String: Int]
    var spans: [FigureSpan]
    var epoch: Int
    var futureLabel: String?
    var timerSequence: UInt64

    var id: TaskID { identity.id }

    /// As `TaskRecord.state` says it.
    var state: TaskState {
        TaskState(phase, exit: exit) {
            Wait(stored ?? StoredWait(.external, location: .unknown, since: 0), hostQueue: hostQueue?.value ?? ("", ""))
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
    var removed: [TaskID]
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

    var estimatedBytes: Int {
        keyframe.rows.count * LoopHistory.rowBytes + keyframe.readyOrder.count * 8
            + steps.count * LoopHistory.stepBytes + rows.count * LoopHistory.rowBytes + ids.count * 8
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
    @exclusivity(unchecked) var current: HistorySegment!
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

extension EventLoop {
    // MARK: Turning it on and off

    /// Starts keeping the history of the loop's state (at most `limit` steps, dropped a
    /// segment at a time), from the current step: `snapshot(atStep:)` can show any step
    /// from now on. Restarting forgets what was kept.
    public func startHistory(limit: Int = 100_000) {
        assertOnLoopThread()
        let h = LoopHistory(limit: limit)
        history = h
        for record in table.byID.values where record.stamps != nil { h.stamped.insert(record.id) }
        beginSegment(h)
        h.lastReadyCount = ready.count
    }

    /// Stops keeping the history and forgets it.
    public func stopHistory() {
        assertOnLoopThread()
        history = nil
    }

    /// What the history holds, or nil when it is off.
    public var historyStatus: HistoryStatus? {
        assertOnLoopThread()
        guard let h = history else { return nil }
        let last = h.current!
        return HistoryStatus(
            oldestStep: h.oldest.keyframe.number, newestStep: last.steps.last?.number ?? last.keyframe.number,
            stepsKept: h.stepsKept, limit: h.limit, keyframes: h.segmentCount,
            estimatedBytes: h.sealedBytes + last.estimatedBytes)
    }

    /// The loop's state right after step `step` (its queues and task table, as `snapshot()`
    /// would have shown them then, with ages and waits as of the step's end), or nil when
    /// the history does not hold that step.
    public func snapshot(atStep step: UInt64) -> LoopSnapshot? {
        assertOnLoopThread()
        guard let frame = historyFrame(at: step) else { return nil }
        return snapshot(of: frame)
    }

    /// When step `step` ended (monotonic nanoseconds), if the history holds it.
    public func historyTime(ofStep step: UInt64) -> UInt64? {
        assertOnLoopThread()
        return historyFrame(at: step)?.time
    }

    /// The task step `step` ran, if it ran one and the history holds it.
    public func historyTask(ofStep step: UInt64) -> TaskID? {
        assertOnLoopThread()
        return historyStep(step)?.step.ran
    }

    /// The record of step `step` and its segment, if the history holds it.
    func historyStep(_ step: UInt64) -> (step: HistoryStep, segment: HistorySegment)? {
        guard let h = history, step > h.oldest.keyframe.number else { return nil }
        var i = h.segmentCount - 1
        while i > 0 && h.segment(i).keyframe.number >= step { i -= 1 }
        let seg = h.segment(i)
        guard let first = seg.steps.first, step >= first.number, Int(step - first.number) < seg.steps.count else { return nil }
        return (seg.steps[Int(step - first.number)], seg)
    }

    // MARK: Recording (loop thread, after every step)

    /// Notes what entered the ready queue since the last step, before a step takes its
    /// task out (a policy other than fifo may take one of those).
    @inline(never)
    func historyBeforeStep() {
        guard let h = history else { return }
        h.beforeIDs = h.current.ids.count
        h.beforeRows = h.current.rows.count
        guard ready.count > h.lastReadyCount else { return }
        noteReadyTail(h, count: ready.count - h.lastReadyCount)
        h.lastReadyCount = ready.count
    }

    /// Records what the step just taken changed; `popped` is the ready entry it ran (nil
    /// for a poll step).
    @inline(never)
    func captureHistory(popped: ReadyEntry?) {
        guard let h = history else { return }
        var ran: TaskRecord?
        var poppedForeign = false
        switch popped {
        case .resume(let r)?: ran = r.takeUnretainedValue()
        case .job(_, let r?)?: ran = r.takeUnretainedValue()
        case .job(_, nil)?: poppedForeign = true
        case nil: break
        }
        let now = now()
        let appendedCount = max(0, ready.count - (h.lastReadyCount - (popped == nil ? 0 : 1)))
        let idsAfterBefore = h.current.ids.count
        let rowsAfterBefore = h.current.rows.count
        if appendedCount > 0 { noteReadyTail(h, count: appendedCount) }
        // A task that ran and went back to ready is among the appended.
        if let ran, ran.phase != .ready, table[ran.id] != nil { h.current.rows.append(historyRow(ran)) }
        if !h.touched.isEmpty || !h.stamped.isEmpty {
            var seen = Set(h.current.rows[rowsAfterBefore...].map(\.id))
            for id in h.touched where !seen.contains(id) {
                guard let record = table[id] else { continue }
                seen.insert(id)
                h.current.rows.append(historyRow(record))
            }
            for id in h.stamped where !seen.contains(id) {
                guard let record = table[id] else { continue }
                h.current.rows.append(historyRow(record))
            }
            h.touched.removeAll()
        }
        let step = HistoryStep(
            number: stepNumber, time: now, ran: ran?.id, poppedForeign: poppedForeign,
            appendedBefore: h.beforeIDs..<idsAfterBefore, appended: idsAfterBefore..<h.current.ids.count,
            rows: h.beforeRows..<h.current.rows.count, removed: h.removed, pendingFutures: pendingFutures,
            poller: poller.kind, gil: gilLock.map { Boxed($0.snapshot()) })
        if !h.removed.isEmpty { h.removed.removeAll() }
        h.lastReadyCount = ready.count
        h.current.steps.append(step)
        h.stepsKept += 1
        // The next step's "before" starts here unless historyBeforeStep says otherwise.
        h.beforeIDs = h.current.ids.count
        h.beforeRows = h.current.rows.count
        if h.current.steps.count >= h.keyframeEvery { beginSegment(h) }
        while !h.sealed.isEmpty, h.stepsKept - h.sealed[0].steps.count >= h.limit { dropOldestSegment(h) }
    }

    /// Notes the last `count` entries of the ready queue: their ids in order (0 for a job
    /// of no task) and their tasks' rows.
    private func noteReadyTail(_ h: LoopHistory, count: Int) {
        for entry in ready.suffix(count) {
            switch entry {
            case .resume(let r), .job(_, let r?):
                let record = r.takeUnretainedValue()
                h.current.ids.append(record.id)
                h.current.rows.append(historyRow(record))
            case .job(_, nil):
                h.current.ids.append(TaskID(0))
            }
        }
    }

    /// The task of a ready entry (0: a job of no task).
    private static func taskID(of entry: ReadyEntry) -> TaskID {
        switch entry {
        case .resume(let r), .job(_, let r?): return r.takeUnretainedValue().id
        case .job(_, nil): return TaskID(0)
        }
    }

    /// Starts a segment with a keyframe of the live state.
    private func beginSegment(_ h: LoopHistory) {
        let now = now()
        var rows: [TaskID: HistoryRow] = [:]
        rows.reserveCapacity(table.byID.count)
        for record in table.byID.values { rows[record.id] = historyRow(record) }
        let order = Deque(ready.lazy.map(Self.taskID(of:)))
        let frame = HistoryFrame(
            number: stepNumber, time: now, rows: rows, readyOrder: order, pendingFutures: pendingFutures,
            poller: poller.kind, gil: gilLock?.snapshot())
        if let full = h.current {
            h.sealedBytes += full.estimatedBytes
            h.sealed.append(full)
        }
        var next = HistorySegment(keyframe: frame)
        h.keyframeEvery = max(1024, 4 * rows.count)
        next.steps.reserveCapacity(h.keyframeEvery)
        next.ids.reserveCapacity(h.keyframeEvery)
        next.rows.reserveCapacity(h.keyframeEvery)
        h.current = next
        h.beforeIDs = 0
        h.beforeRows = 0
        pruneArchive(h)
    }

    private func dropOldestSegment(_ h: LoopHistory) {
        let old = h.sealed.removeFirst()
        h.stepsKept -= old.steps.count
        h.sealedBytes -= old.estimatedBytes
        pruneArchive(h)
    }

    /// Rows refer to archived figures only until the keyframe after their archiving.
    private func pruneArchive(_ h: LoopHistory) {
        guard !h.archive.isEmpty else { return }
        let oldest = h.oldest.keyframe.number
        h.archive = h.archive.filter { $0.value.archivedAt > oldest }
    }

    private func historyRow(_ record: TaskRecord) -> HistoryRow {
        var spans: [FigureSpan] = []
        if !record.figures.isEmpty {
            spans.reserveCapacity(record.figures.count)
            for (name, values) in record.figures {
                let start = record.figureDropped[name] ?? 0
                spans.append(FigureSpan(name: name, start: start, end: start + values.count))
            }
        }
        var label: String?
        if record.phase == .waiting, case .future(let f)? = record.stored?.reason { label = futureLabel(f) }
        let identity: TaskIdentity
        if let known = record.historyIdentity {
            identity = known
        } else {
            identity = TaskIdentity(id: record.id, name: record.name, kind: record.kind, parent: record.parent,
                                    createdAt: record.createdAt)
            record.historyIdentity = identity
        }
        var hostQueue: Boxed<(queue: String, detail: String)>?
        if case .custom? = record.stored?.reason { hostQueue = Boxed(record.hostQueue) }
        return HistoryRow(
            identity: identity, phase: record.phase, stored: record.stored, hostQueue: hostQueue, exit: record.exit,
            steps: record.steps, busyNanos: record.busyNanos, endedAt: record.endedAt, facts: record.facts,
            stampCounts: record.stamps?.counts ?? [:], spans: spans, epoch: record.figureEpoch, futureLabel: label,
            timerSequence: record.timerSequence)
    }

    // MARK: Hooks for changes outside a task's own step

    /// A task's row changed outside its own step (a fact or figure set for it).
    func historyTouched(_ record: TaskRecord) {
        guard let h = history else { return }
        h.touched.append(record.id)
    }

    /// A task's figures are about to be cleared (or the task forgotten): the history keeps
    /// them for the rows that show them.
    func historyArchiveFigures(of record: TaskRecord, leaving: Bool) {
        guard let h = history else { return }
        if !record.figures.isEmpty {
            h.archive[ArchiveKey(task: record.id, epoch: record.figureEpoch)] = ArchivedFigures(
                figures: record.figures, dropped: record.figureDropped, archivedAt: stepNumber)
        }
        if leaving {
            h.removed.append(record.id)
            h.stamped.remove(record.id)
        } else {
            h.touched.append(record.id)
        }
    }

    /// Other threads add time stamps to this task: its row is captured at every step.
    func historyStamped(_ record: TaskRecord) {
        history?.stamped.insert(record.id)
    }
}
