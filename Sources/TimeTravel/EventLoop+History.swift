// The loop's side of its history (History.swift): turning it on and off, reading a past
// step, and recording what each step changed.
import Runtime
import DequeModule

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
        let last = h.current
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
    func historyBeforeStep(_ h: LoopHistory) {
        h.beforeIDs = h.current.ids.count
        h.beforeRows = h.current.rows.count
        guard ready.count > h.lastReadyCount else { return }
        noteReadyTail(h, count: ready.count - h.lastReadyCount)
        h.lastReadyCount = ready.count
    }

    /// Records what the step just taken changed; `popped` is the ready entry it ran (nil
    /// for a poll step).
    @inline(never)
    func captureHistory(_ h: LoopHistory, popped: ReadyEntry?, at now: UInt64) {
        var ran: TaskRecord?
        var poppedForeign = false
        switch popped {
        case .resume(let r)?: ran = r.takeUnretainedValue()
        case .job(_, let r?)?: ran = r.takeUnretainedValue()
        case .job(_, nil)?: poppedForeign = true
        case nil: break
        }
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
        let removedStart = h.current.removedIDs.count
        if !h.removed.isEmpty {
            h.current.removedIDs.append(contentsOf: h.removed)
            h.removed.removeAll(keepingCapacity: true)
        }
        let step = HistoryStep(
            number: stepNumber, time: now, ran: ran?.id, poppedForeign: poppedForeign,
            appendedBefore: h.beforeIDs..<idsAfterBefore, appended: idsAfterBefore..<h.current.ids.count,
            rows: h.beforeRows..<h.current.rows.count, removed: removedStart..<h.current.removedIDs.count,
            pendingFutures: pendingFutures,
            poller: poller.kind, gil: gilLock.map { Boxed($0.snapshot()) })
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
        if h.begun {
            h.sealedBytes += h.current.estimatedBytes
            h.sealed.append(h.current)
        }
        h.begun = true
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
        var extras: RowExtras?
        let custom: Bool
        if case .custom? = record.stored?.reason { custom = true } else { custom = false }
        let stampCounts = record.stamps?.counts
        if custom || label != nil || record.exit != nil || !spans.isEmpty || !record.facts.isEmpty
            || !(stampCounts?.isEmpty ?? true) {
            extras = RowExtras(facts: record.facts, stampCounts: stampCounts ?? [:], spans: spans,
                               hostQueue: custom ? record.hostQueue : nil, exit: record.exit, futureLabel: label)
        }
        return HistoryRow(
            identity: identity, phase: record.phase, stored: record.stored, steps: record.steps,
            busyNanos: record.busyNanos, endedAt: record.endedAt, epoch: record.figureEpoch,
            timerSequence: record.timerSequence, extras: extras)
    }

    // MARK: Hooks for changes outside a task's own step

    /// A task's row changed outside its own step (a fact or figure set for it).
    func historyTouched(_ h: LoopHistory, _ record: TaskRecord) {
        h.touched.append(record.id)
    }

    /// A task's figures are about to be cleared (or the task forgotten): the history keeps
    /// them for the rows that show them.
    func historyArchiveFigures(_ h: LoopHistory, of record: TaskRecord, leaving: Bool) {
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
    func historyStamped(_ h: LoopHistory, _ record: TaskRecord) {
        h.stamped.insert(record.id)
    }
}
