// Rebuilding the loop's state after a past step from its history (History.swift): the
// keyframe at or before the step, every later step up to it applied, and the queues
// derived from the rows as `snapshot()` derives them from the live loop.
import Runtime

import DequeModule

/// The whole state after one step.
struct HistoryFrame {
    var number: UInt64
    var time: UInt64
    var rows: [TaskID: HistoryRow]
    var readyOrder: Deque<TaskID>
    var pendingFutures: Int
    var poller: PollerKind
    var gil: GILSnapshot?

    mutating func apply(_ s: HistoryStep, of seg: HistorySegment) {
        number = s.number
        time = s.time
        pendingFutures = s.pendingFutures
        poller = s.poller
        gil = s.gil?.value
        readyOrder.append(contentsOf: seg.ids[s.appendedBefore])
        if let ran = s.ran {
            if let i = readyOrder.firstIndex(of: ran) { readyOrder.remove(at: i) }
        } else if s.poppedForeign, let i = readyOrder.firstIndex(of: TaskID(0)) {
            readyOrder.remove(at: i)
        }
        readyOrder.append(contentsOf: seg.ids[s.appended])
        for row in seg.rows[s.rows] { rows[row.id] = row }
        for id in seg.removedIDs[s.removed] { rows[id] = nil }
    }
}

extension EventLoop {
    // MARK: Rebuilding a step's state

    func historyFrame(at step: UInt64) -> HistoryFrame? {
        guard let h = history, step >= h.oldest.keyframe.number else { return nil }
        // The last segment whose keyframe is at or before `step`.
        var lo = 0, hi = h.segmentCount - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if h.segment(mid).keyframe.number <= step { lo = mid } else { hi = mid - 1 }
        }
        let seg = h.segment(lo)
        if let last = seg.steps.last, step > last.number { return nil }
        if seg.steps.isEmpty && step != seg.keyframe.number { return nil }
        var frame = seg.keyframe
        for s in seg.steps {
            if s.number > step { break }
            frame.apply(s, of: seg)
        }
        return frame
    }

    func snapshot(of frame: HistoryFrame) -> LoopSnapshot {
        let now = frame.time
        var recv: [LoopSnapshot.FDWait] = [], send: [LoopSnapshot.FDWait] = []
        var futures: [LoopSnapshot.FutureWait] = [], joins: [LoopSnapshot.JoinWait] = []
        var timers: [(LoopSnapshot.TimerWait, UInt64)] = []
        var external: [TaskID] = [], parked: [LoopSnapshot.ParkedWait] = []
        var tasks: [TaskInfo] = []
        tasks.reserveCapacity(frame.rows.count)
        for row in frame.rows.values {
            let info = row.info(at: now, figures: figures(of: row))
            tasks.append(info)
            guard case .waiting(let w) = info.state else { continue }
            switch w.reason {
            case .recv(let fd): recv.append(.init(fd: fd, task: info.id))
            case .send(let fd): send.append(.init(fd: fd, task: info.id))
            case .future(let f): futures.append(.init(future: f, task: info.id, label: row.futureLabel))
            case .sleep(let until):
                timers.append((.init(task: info.id, deadline: until, remainingNanos: until > now ? until - now : 0), row.timerSequence))
            case .join(let target): joins.append(.init(task: info.id, target: target))
            case .external: external.append(info.id)
            case .custom(let queue, let detail): parked.append(.init(queue: queue, detail: detail, task: info.id))
            case .yield: break
            }
        }
        let readyIDs = frame.readyOrder.filter { $0.rawValue != 0 }
        return LoopSnapshot(
            step: frame.number,
            ready: Array(readyIDs),
            foreignJobs: frame.readyOrder.count - readyIDs.count,
            recvWait: recv.sorted { $0.fd < $1.fd },
            sendWait: send.sorted { $0.fd < $1.fd },
            futureWait: futures.sorted { $0.future < $1.future },
            timers: timers.sorted { ($0.0.deadline, $0.1) < ($1.0.deadline, $1.1) }.map(\.0),
            joins: joins.sorted { $0.task < $1.task },
            external: external.sorted(),
            parked: parked.sorted { ($0.queue, $0.task) < ($1.queue, $1.task) },
            poller: frame.poller,
            pendingFutures: frame.pendingFutures,
            tasks: tasks.sorted { $0.id < $1.id },
            gil: frame.gil,
            takenAt: now)
    }

    /// A row's figures: the spans of its task's live series, or of the series the history
    /// was handed when they left the task.
    private func figures(of row: HistoryRow) -> [String: [Double]] {
        guard !row.spans.isEmpty else { return [:] }
        let source: (figures: [String: [Double]], dropped: [String: Int])?
        if let record = table[row.id], record.figureEpoch == row.epoch {
            source = (record.figures, record.figureDropped)
        } else if let archived = history?.archive[ArchiveKey(task: row.id, epoch: row.epoch)] {
            source = (archived.figures, archived.dropped)
        } else {
            source = nil
        }
        var out: [String: [Double]] = [:]
        for span in row.spans {
            guard let values = source?.figures[span.name] else { out[span.name] = []; continue }
            let dropped = source?.dropped[span.name] ?? 0
            let lo = max(span.start, dropped) - dropped
            let hi = min(max(span.end - dropped, lo), values.count)
            out[span.name] = Array(values[lo..<hi])
        }
        return out
    }
}
