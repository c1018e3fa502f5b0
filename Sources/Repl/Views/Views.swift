// How the loop looks to a person: one line per step, the task table, the queues, one task
// in full. Every line says which task, what it waited on, what it waits on now, and where.
import Runtime

enum Views {
    /// `task 3 (handler 127.0.0.1:40112)`
    static func taskLabel(_ id: TaskID, _ snap: LoopSnapshot) -> String {
        taskLabel(id, name: snap.task(id)?.name)
    }

    static func taskLabel(_ id: TaskID, name: String?) -> String {
        guard let name else { return "task \(id.rawValue)" }
        return "task \(id.rawValue) (\(name))"
    }

    /// `task 3 handler 127.0.0.1:40112` (for lists)
    static func shortTask(_ id: TaskID, _ snap: LoopSnapshot) -> String {
        guard let t = snap.task(id) else { return "\(id.rawValue)" }
        return "\(id.rawValue) \(t.name)"
    }

    /// One line for a step:
    /// `#17 task 3 (handler 127.0.0.1:33092) resumed from recv fd 7 → waits send fd 7   FibServer.swift:131`
    /// `#18 poll(epoll) 0.1 ms: fd 7 readable → task 3`
    static func step(_ e: StepEvent, names: (TaskID) -> String?) -> String {
        switch e.kind {
        case .ran(let s):
            var line = "#\(e.number) \(taskLabel(s.task, name: names(s.task))) "
            if let from = s.resumedFrom {
                line += "resumed from \(from.description)"
            } else {
                line += "started"
            }
            if let err = s.resumedWithError { line += " with \(err)" }
            line += " → "
            if !s.spawned.isEmpty {
                line += "spawned " + s.spawned.map { "task \($0.rawValue)" }.joined(separator: ", ") + ", "
            }
            switch s.outcome {
            case .waits(let w):
                line += w.reason == .yield ? "yields (back to ready)" : "waits \(w.description)"
                if let again = s.readyAgain { line += ", ready again: \(again)" }
                if w.location.line > 0 { line += "   \(w.location)" }
            case .exited(let exit):
                line += "\(exit)"
            }
            return line
        case .polled(let p):
            let wakes = p.wakes.map { w -> String in
                let cause: String
                switch w.cause {
                case .future(let id) where p.wakeChannelSignals > 0: cause = "wake-up (future \(id.rawValue) done)"
                default: cause = w.cause.description
                }
                return "\(cause) → task \(w.task.rawValue)"
            }
            return "#\(e.number) poll(\(p.backend)) \(millis(p.waitedNanos)): " + wakes.joined(separator: ", ")
        case .idle(let r):
            if let note = r.note { return "#\(e.number) idle: \(note)" }
            return "#\(e.number) idle: nothing woke in \(millis(r.waitedNanos))"
        }
    }

    /// `0.1 ms`
    static func millis(_ nanos: UInt64) -> String {
        let ms = Double(nanos) / 1e6
        return ms < 10 ? "\(round1(ms)) ms" : "\(Int(ms.rounded())) ms"
    }

    static func round1(_ x: Double) -> String {
        let r = (x * 10).rounded() / 10
        return String(r)
    }

    static func round2(_ x: Double) -> String {
        let r = (x * 100).rounded() / 100
        return String(r)
    }

    /// What a task waits on, in the table's words: `recv fd 7 (accept)`, `future 1`,
    /// `sleep (1.2 s left)`.
    static func waitingOn(_ t: TaskInfo) -> String {
        if let w = t.waitingOn { return w }
        if case .failed(let e) = t.state { return e }
        return "—"
    }

    static func location(_ t: TaskInfo) -> String {
        if case .waiting(let w) = t.state, w.location.line > 0 { return w.location.description }
        return ""
    }

    /// The task table.
    static func tasks(_ snap: LoopSnapshot) -> String {
        if snap.tasks.isEmpty { return "no tasks" }
        var rows: [[String]] = [["id", "name", "state", "waiting on", "steps", "busy ms", "where"]]
        for t in snap.tasks {
            rows.append([
                String(t.id.rawValue), t.name, t.state.name, waitingOn(t), String(t.steps),
                round2(Double(t.busyNanos) / 1e6), location(t),
            ])
        }
        return table(rows, rightAligned: [0, 4, 5])
    }

    /// Columns padded to their widest cell.
    static func table(_ rows: [[String]], rightAligned: Set<Int>) -> String {
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return rightAligned.contains(c) ? pad + cell : cell + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n")
    }

    /// The queues, by the seed's names.
    static func queues(_ snap: LoopSnapshot, extraRows: [(name: String, value: String)] = [],
                       gilSinceMark: String? = nil) -> String {
        func list(_ items: [String]) -> String { items.isEmpty ? "—" : items.joined(separator: ", ") }
        var lines = [
            ("ready", list(snap.ready.map { shortTask($0, snap) } + (snap.foreignJobs > 0 ? ["\(snap.foreignJobs) foreign jobs"] : []))),
            ("recv_wait", list(snap.recvWait.map { "fd \($0.fd) → \(shortTask($0.task, snap))" })),
            ("send_wait", list(snap.sendWait.map { "fd \($0.fd) → \(shortTask($0.task, snap))" })),
            ("future_wait", list(snap.futureWait.map { "future \($0.future.rawValue)\($0.label.map { " (\($0))" } ?? "") → \(shortTask($0.task, snap))" })),
            ("timers", list(snap.timers.map { "\(shortTask($0.task, snap)) (\(round2(Double($0.remainingNanos) / 1e9)) s left)" })),
        ]
        if !snap.joins.isEmpty {
            lines.append(("joins", list(snap.joins.map { "\(shortTask($0.task, snap)) → task \($0.target.rawValue)" })))
        }
        var hostQueues: [String: [String]] = [:]
        for p in snap.parked {
            hostQueues[p.queue, default: []].append("\(shortTask(p.task, snap))\(p.detail.isEmpty ? "" : " (\(p.detail))")")
        }
        for (queue, items) in hostQueues.sorted(by: { $0.key < $1.key }) { lines.append((queue, list(items))) }
        if !snap.external.isEmpty {
            lines.append(("external", list(snap.external.map { shortTask($0, snap) })))
        }
        lines.append(("pool work", snap.pendingFutures == 0 ? "—" : "\(snap.pendingFutures) pending"))
        lines += extraRows
        if let gil = snap.gil {
            lines.append(("gil", gil.summary))
            if let waits = gil.waitsSummary { lines.append(("gil use", waits)) }
            if let gilSinceMark { lines.append(("  since mark", gilSinceMark)) }
        }
        lines.append(("poller", snap.poller.rawValue))
        return lines.map { name, value in name.padding(13) + value }.joined(separator: "\n")
    }

    /// One task in full.
    static func show(_ t: TaskInfo, _ snap: LoopSnapshot) -> String {
        var lines = ["task \(t.id.rawValue): \(t.name)"]
        lines.append("  kind      \(t.kind)")
        if let p = t.parent { lines.append("  parent    \(taskLabel(p, snap))") }
        lines.append("  state     \(t.state.name)")
        if case .waiting(let w) = t.state {
            lines.append("  waiting   \(waitingOn(t)) (queue \(w.reason.queueName)), for \(millis(snap.takenAt &- min(w.since, snap.takenAt)))")
            if w.location.line > 0 { lines.append("  where     \(w.location) (\(w.location.fileID))") }
        }
        if case .failed(let e) = t.state { lines.append("  error     \(e)") }
        lines.append("  steps     \(t.steps)")
        lines.append("  busy      \(round2(Double(t.busyNanos) / 1e6)) ms")
        lines.append("  age       \(round2(Double(t.ageNanos) / 1e9)) s")
        for (k, v) in t.facts.sorted(by: { $0.key < $1.key }) { lines.append("  \(k.padding(9)) \(v)") }
        for (name, values) in t.figures.sorted(by: { $0.key < $1.key }) {
            let s = Stats(values)
            lines.append("  \(name): \(plural(values.count, "value")); min \(fmt(s.min)) median \(fmt(s.median)) max \(fmt(s.max)) last \(fmt(values.last ?? 0))")
            lines.append("    recent: " + values.suffix(8).map(fmt).joined(separator: " "))
        }
        return lines.joined(separator: "\n")
    }

    /// A figure value: integers plainly, values from 100 up with one decimal, others with
    /// 4 decimals.
    /// A rate: `12345`, `12.5`, `0`.
    static func fmtRate(_ x: Double) -> String {
        if x == 0 { return "0" }
        return x >= 10 ? String(Int(x.rounded())) : String(format: "%.1f", x)
    }

    static func fmt(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e15 { return String(Int(x)) }
        // Counts and rates (a median of two counts): one decimal is plenty.
        if abs(x) >= 100 && abs(x) < 1e15 { return String((x * 10).rounded() / 10) }
        return formatSeconds(x)
    }
}

/// Summary statistics of a series of figures.
struct Stats {
    let values: [Double]
    init(_ values: [Double]) { self.values = values.sorted() }

    var count: Double { Double(values.count) }
    var min: Double { values.first ?? 0 }
    var max: Double { values.last ?? 0 }
    var sum: Double { values.reduce(0, +) }
    var mean: Double { values.isEmpty ? 0 : sum / count }
    var median: Double { percentile(50) }

    /// The p-th percentile, interpolating linearly between the two nearest values (so the
    /// median of an even count is the mean of its middle two).
    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let rank = Swift.min(Swift.max(p / 100, 0), 1) * Double(values.count - 1)
        let (lower, fraction) = (Int(rank.rounded(.down)), rank - rank.rounded(.down))
        guard fraction > 0, lower + 1 < values.count else { return values[lower] }
        return values[lower] + (values[lower + 1] - values[lower]) * fraction
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }

    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
