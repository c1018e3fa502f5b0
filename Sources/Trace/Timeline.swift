// A swimlane chart of the last N steps, from a recording: one row per task, one column per
// step; a glyph for "ran" and for what the task waits on, and a poll row that says what
// each poll woke. Drawn for a terminal here and as an SVG in TimelineSVG.swift.
import Runtime

/// The chart's content: rows of cells over a run of consecutive steps.
public struct Timeline: Sendable {
    /// What a task was doing in one step's column.
    public enum Cell: Sendable, Hashable {
        /// Not alive (not yet spawned, or ended), or unknown.
        case none
        /// It ran in this step (`exited`: and ended).
        case ran(exited: Bool)
        /// It waited, on a wait of this kind (recv, send, future, sleep, join, external, a
        /// host queue), or "ready" (in the ready queue).
        case waits(String)
    }

    /// One column: a step or a poll.
    public struct Column: Sendable {
        public var number: UInt64
        /// Monotonic nanoseconds.
        public var start: UInt64
        public var end: UInt64
        /// For polls: what woke (empty: nothing); nil for task steps.
        public var woke: [PollRecord.Woken]?
        /// For polls: how long the poll call blocked.
        public var blockedNanos: UInt64
    }

    /// One task's row.
    public struct Row: Sendable {
        public var task: TaskTrack
        public var cells: [Cell]
    }

    public var columns: [Column]
    public var rows: [Row]
    /// How many steps the recording holds in all (the chart shows the last `columns.count`).
    public var recordedSteps: Int

    /// The last `count` steps of `recorder`'s recording, or, with `ending`, the last
    /// `count` steps up to that step number.
    public init(_ recorder: TraceRecorder, last count: Int, endingAt ending: UInt64? = nil) {
        var all = Array(recorder.events.filter { $0.stepNumber != nil })
        recordedSteps = all.count
        if let ending, let end = all.lastIndex(where: { $0.stepNumber! <= ending }) {
            all = Array(all[...end])
        }
        let window = all.suffix(max(0, count))
        let firstShown = window.first?.stepNumber ?? 0

        // Each task's state as the window begins: from the recording's start (when nothing
        // was dropped) through the steps before the window.
        var state: [TaskID: String] = [:]
        if recorder.dropped == 0 {
            for t in recorder.tasks.values where t.bornAfterStep < firstShown {
                if let s = t.stateAtStart { state[t.id] = s }
            }
        }
        func apply(_ e: TraceEvent) {
            switch e {
            case .step(let s):
                switch s.outcome {
                case .waits(let w): state[s.task] = w.kind == "yield" ? "ready" : w.kind
                case .exited: state[s.task] = nil
                }
                for t in s.spawned { state[t] = "ready" }
            case .poll(let p):
                for w in p.wakes { state[w.task] = "ready" }
            case .work, .net:
                break
            }
        }
        for e in all.dropLast(window.count) { apply(e) }

        // Rows: tasks alive at some point in the window, by id.
        var cells: [TaskID: [Cell]] = [:]
        var columns: [Column] = []
        for (i, e) in window.enumerated() {
            // Tasks spawned between steps join the chart from their first column on.
            for t in recorder.tasks.values where t.bornAfterStep + 1 == e.stepNumber! && state[t.id] == nil && !t.finished {
                if let s = t.stateAtStart { state[t.id] = s }
            }
            var ranNow: (TaskID, Bool)?
            switch e {
            case .step(let s):
                if case .exited = s.outcome { ranNow = (s.task, true) } else { ranNow = (s.task, false) }
                columns.append(Column(number: s.number, start: s.start, end: s.end, woke: nil, blockedNanos: 0))
            case .poll(let p):
                columns.append(Column(number: p.number, start: p.start, end: p.end, woke: p.wakes, blockedNanos: p.blockedNanos))
            case .work, .net:
                continue
            }
            for task in state.keys where cells[task] == nil {
                cells[task] = Array(repeating: .none, count: i)
            }
            if let (task, _) = ranNow, cells[task] == nil { cells[task] = Array(repeating: .none, count: i) }
            for task in cells.keys {
                if let (ran, exited) = ranNow, ran == task {
                    cells[task]!.append(.ran(exited: exited))
                } else if let s = state[task] {
                    cells[task]!.append(.waits(s))
                } else {
                    cells[task]!.append(.none)
                }
            }
            apply(e)
        }
        self.columns = columns
        self.rows = cells.keys.sorted { $0.rawValue < $1.rawValue }.map { id in
            Row(task: recorder.tasks[id] ?? TaskTrack(id: id, name: "?", kind: "?", finished: false), cells: cells[id]!)
        }
    }

    /// The steps of `task`'s life in the recording — from `margin` steps before its first
    /// step to its last — as (count, last step number), for `init(_:last:endingAt:)`; nil if
    /// it never ran while recording.
    public static func span(of task: TaskID, in recorder: TraceRecorder, margin: Int) -> (count: Int, end: UInt64)? {
        let steps = recorder.events.compactMap { e -> (UInt64, TaskID?)? in
            switch e {
            case .step(let s): return (s.number, s.task)
            case .poll(let p): return (p.number, nil)
            case .work, .net: return nil
            }
        }
        guard let first = steps.firstIndex(where: { $0.1 == task }),
              let last = steps.lastIndex(where: { $0.1 == task }) else { return nil }
        let start = max(0, first - margin)
        return (last - start + 1, steps[last].0)
    }

    // MARK: Glyphs

    /// The glyph of a cell: █ ran, · ready, r recv, s send, f future, z sleep, j join,
    /// x external, q a host's queue.
    public static func glyph(_ cell: Cell) -> Character {
        switch cell {
        case .none: return " "
        case .ran: return "█"
        case .waits(let kind): return waitGlyph(kind)
        }
    }

    static func waitGlyph(_ kind: String) -> Character {
        switch kind {
        case "ready": return "·"
        case "recv": return "r"
        case "send": return "s"
        case "future": return "f"
        case "sleep": return "z"
        case "join": return "j"
        case "external": return "x"
        default: return "q"
        }
    }

    /// What a poll woke, as one glyph: the wait kind its wakes came from (r for fds
    /// readable, s writable, f futures, z timers, x other threads), `*` for several kinds,
    /// `.` for nothing.
    public static func pollGlyph(_ woke: [PollRecord.Woken]) -> Character {
        let kinds = Set(woke.map { causeGlyph($0.cause) })
        if kinds.isEmpty { return "." }
        return kinds.count == 1 ? kinds.first! : "*"
    }

    static func causeGlyph(_ cause: WakeCause) -> Character {
        switch cause {
        case .readable, .stillReady(_, writable: false): return "r"
        case .writable, .stillReady(_, writable: true): return "s"
        case .future: return "f"
        case .timer: return "z"
        case .joined: return "j"
        case .foreignResume: return "x"
        case .cancelled: return "!"
        case .unparked: return "q"
        case .closed: return "c"
        }
    }

    /// The legend, one line.
    public static let legend = "█ ran · ready r recv s send f future z sleep j join x external q queue; poll: what woke"

    // MARK: Terminal

    /// The chart as text `width` columns wide, in pages of as many steps as fit; with
    /// `color`, ANSI colours.
    public func text(width: Int = 80, color: Bool = false) -> String {
        guard !columns.isEmpty else { return "no steps recorded" }
        let labels = ["poll"] + rows.map { Self.label($0.task) }
        let labelWidth = min(max(labels.map(\.count).max() ?? 4, 4), 24)
        let perPage = max(10, width - labelWidth - 1)
        var out: [String] = []
        let first = columns.first!.number, last = columns.last!.number
        out.append("timeline: steps #\(first)–#\(last) (\(columns.count) of \(recordedSteps) recorded)")
        var pageStart = 0
        while pageStart < columns.count {
            let page = pageStart..<min(pageStart + perPage, columns.count)
            if pageStart > 0 { out.append("") }
            out.append(String(repeating: " ", count: labelWidth + 1) + ruler(page))
            var poll = ""
            for c in page {
                let col = columns[c]
                if let woke = col.woke {
                    poll += paint(String(Self.pollGlyph(woke)), woke.isEmpty ? "2" : "1", color)
                } else {
                    poll += " "
                }
            }
            out.append((pad("poll", labelWidth) + " " + poll).trimmingTrailingSpaces())
            for row in rows {
                var line = ""
                for c in page { line += paint(String(Self.glyph(row.cells[c])), Self.colour(row.cells[c]), color) }
                out.append((pad(Self.label(row.task), labelWidth) + " " + line).trimmingTrailingSpaces())
            }
            pageStart = page.upperBound
        }
        out.append(Self.legend)
        return out.joined(separator: "\n")
    }

    /// `3 handler 127.0.0.1:5555`.
    static func label(_ t: TaskTrack) -> String { "\(t.id.rawValue) \(t.name)" }

    /// Step numbers above the columns: `#N` at every tenth column where it fits.
    private func ruler(_ page: Range<Int>) -> String {
        var line = [Character](repeating: " ", count: page.count)
        var free = 0
        for c in page {
            let i = c - page.lowerBound
            guard i >= free, (c - page.lowerBound) % 10 == 0 else { continue }
            let mark = Array("#\(columns[c].number)")
            guard i + mark.count <= line.count else { break }
            for (k, ch) in mark.enumerated() { line[i + k] = ch }
            free = i + mark.count + 1
        }
        return String(line).trimmingTrailingSpaces()
    }

    private func pad(_ s: String, _ width: Int) -> String {
        if s.count > width { return String(s.prefix(width - 1)) + "…" }
        return s + String(repeating: " ", count: width - s.count)
    }

    /// ANSI SGR colour codes by cell.
    static func colour(_ cell: Cell) -> String {
        switch cell {
        case .none: return "0"
        case .ran: return "32"
        case .waits(let kind):
            switch kind {
            case "ready": return "2"
            case "recv": return "34"
            case "send": return "35"
            case "future": return "33"
            case "sleep": return "36"
            default: return "0"
            }
        }
    }

    private func paint(_ s: String, _ code: String, _ color: Bool) -> String {
        guard color, code != "0", s != " " else { return s }
        return "\u{1B}[\(code)m\(s)\u{1B}[0m"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
