// A step in a few words, from the history (History.swift): which task ran, what entered
// the ready queue, and how the task that ran stood afterwards. A recording keeps these, and
// a replay compares its own steps with them.
import Runtime

/// What one step did, in words a replay can compare.
public struct StepDigest: Sendable, Hashable, Codable {
    /// The step's number.
    public var step: UInt64
    /// The loop's clock after the step (comparable between runs on the virtual clock only).
    public var time: UInt64
    /// The task the step ran (nil: a poll or idle step).
    public var ran: Int?
    /// What entered the ready queue since the previous step, in order (0: a job of no task).
    public var readied: [Int]
    /// How the task that ran stood afterwards: `waits recv (accept)`, `ready`, `done`, …
    public var outcome: String?

    /// `task 3 ran → waits recv (accept); readied 4, 5`
    public var description: String {
        var s = ran.map { "task \($0) ran → \(outcome ?? "?")" } ?? "a poll"
        if !readied.isEmpty { s += "; readied \(readied.map(String.init).joined(separator: ", "))" }
        return s
    }

    /// The same step, times aside.
    public func sameStep(as other: StepDigest) -> Bool {
        step == other.step && ran == other.ran && readied == other.readied && outcome == other.outcome
    }
}

extension EventLoop {
    /// The digest of every step the history holds, oldest first (empty when it is off).
    public func historyDigests() -> [StepDigest] {
        assertOnLoopThread()
        guard let h = history else { return [] }
        var out: [StepDigest] = []
        out.reserveCapacity(h.stepsKept)
        for i in 0..<h.segmentCount {
            let seg = h.segment(i)
            for s in seg.steps { out.append(digest(s, in: seg)) }
        }
        return out
    }

    /// The digest of step `step`, if the history holds it.
    public func historyDigest(ofStep step: UInt64) -> StepDigest? {
        assertOnLoopThread()
        return historyStep(step).map { digest($0.step, in: $0.segment) }
    }

    private func digest(_ s: HistoryStep, in seg: HistorySegment) -> StepDigest {
        var outcome: String?
        if let ran = s.ran, let row = seg.rows[s.rows].last(where: { $0.id == ran }) {
            switch row.state {
            case .waiting(let w):
                let label = w.label.utf8CodeUnitCount == 0 ? "" : " (\(w.label))"
                outcome = "waits \(w.reason.kind)\(label)"
            default:
                outcome = row.state.name
            }
        }
        let readied = (seg.ids[s.appendedBefore] + seg.ids[s.appended]).map(\.rawValue)
        return StepDigest(step: s.number, time: s.time, ran: s.ran?.rawValue, readied: readied, outcome: outcome)
    }
}
