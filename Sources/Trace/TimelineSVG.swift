// The timeline as an SVG, written by corepl itself: one lane (`<g class="lane">`) per task
// and one for the polls. By steps, every step is a column of equal width; by time
// (`--time`), the x axis is wall-clock time, so a long step shows as a long bar.

extension Timeline {
    /// How the x axis runs.
    public enum Axis: Sendable {
        /// One column per step.
        case steps
        /// Wall-clock time.
        case time
    }

    /// The chart as a standalone SVG document.
    public func svg(axis: Axis = .steps, title: String? = nil) -> String {
        let labelWidth = 190.0, rowHeight = 22.0, top = 46.0, chartWidth = axis == .steps
            ? Double(max(columns.count, 1)) * 12 : 960
        let width = labelWidth + chartWidth + 20
        let lanes = rows.count + 1
        let height = top + Double(lanes) * rowHeight + 56
        guard let first = columns.first, let last = columns.last else {
            return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" height=\"40\"><text x=\"10\" y=\"24\">no steps recorded</text></svg>\n"
        }
        let t0 = first.start, t1 = max(last.end, first.start + 1)
        let span = Double(t1 - t0)
        // Where a column starts and how wide it is.
        func x(_ c: Int) -> (Double, Double) {
            switch axis {
            case .steps:
                return (labelWidth + Double(c) * 12, 11)
            case .time:
                let a = labelWidth + Double(columns[c].start - t0) / span * chartWidth
                let b = labelWidth + Double(columns[c].end - t0) / span * chartWidth
                return (a, max(b - a, 0.6))
            }
        }
        // From the end of column c to the start of column c+1 (a wait between steps).
        func gap(_ c: Int) -> (Double, Double) {
            let (a, w) = x(c)
            let next = c + 1 < columns.count ? x(c + 1).0 : labelWidth + chartWidth
            return (a + w, max(next - a - w, 0))
        }

        var s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.n(width))\" height=\"\(Self.n(height))\" "
        s += "viewBox=\"0 0 \(Self.n(width)) \(Self.n(height))\" font-family=\"monospace\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
        let heading = title ?? "corepl timeline"
        let axisText = axis == .steps ? "one column per step"
            : "x axis: wall-clock time, \(Self.durationText(t1 - t0)) in all"
        s += "<text x=\"10\" y=\"18\" font-size=\"14\" font-weight=\"bold\">\(Self.escape(heading))</text>\n"
        s += "<text x=\"10\" y=\"36\" fill=\"#555555\">steps #\(first.number)–#\(last.number) (\(columns.count) of \(recordedSteps) recorded); \(Self.escape(axisText))</text>\n"

        // The poll lane.
        var y = top
        s += "<g class=\"lane poll\">\n"
        s += "<text x=\"10\" y=\"\(Self.n(y + 15))\">poll</text>\n"
        for (c, col) in columns.enumerated() {
            guard let woke = col.woke else { continue }
            let (a, w) = x(c)
            let what = woke.isEmpty ? "woke nothing" : "woke " + woke.map { "\($0.cause) → task \($0.task.rawValue)" }.joined(separator: ", ")
            s += "<rect x=\"\(Self.n(a))\" y=\"\(Self.n(y + 3))\" width=\"\(Self.n(w))\" height=\"\(Self.n(rowHeight - 6))\" "
            s += "fill=\"\(woke.isEmpty ? "#dddddd" : "#999999")\"><title>#\(col.number) poll, blocked \(Self.durationText(col.blockedNanos)), \(Self.escape(what))</title></rect>\n"
        }
        s += "</g>\n"

        for row in rows {
            y += rowHeight
            s += "<g class=\"lane\" data-task=\"\(row.task.id.rawValue)\">\n"
            s += "<text x=\"10\" y=\"\(Self.n(y + 15))\">\(Self.escape(Self.clip(Self.label(row.task), 26)))</text>\n"
            // Waits: a thin bar per run of equal cells; runs: a full-height bar per step.
            var c = 0
            while c < row.cells.count {
                let cell = row.cells[c]
                guard case .waits(let kind) = cell else { c += 1; continue }
                var end = c
                while end + 1 < row.cells.count, row.cells[end + 1] == cell { end += 1 }
                let a = axis == .steps ? x(c).0 : (c > 0 ? gap(c - 1).0 : x(c).0)
                let b = x(end).0 + x(end).1
                s += "<rect x=\"\(Self.n(a))\" y=\"\(Self.n(y + 8))\" width=\"\(Self.n(max(b - a, 0.6)))\" height=\"6\" "
                s += "fill=\"\(Self.fill(kind))\"><title>\(Self.escape(kind == "ready" ? "ready" : "waits on \(kind)"))</title></rect>\n"
                c = end + 1
            }
            // Steps: a bar each, or, by time, one bar for steps less than a pixel apart.
            var ranCells: [(c: Int, exited: Bool)] = []
            for (c, cell) in row.cells.enumerated() { if case .ran(let exited) = cell { ranCells.append((c, exited)) } }
            var i = 0
            while i < ranCells.count {
                var j = i
                while axis == .time, j + 1 < ranCells.count {
                    let (a, w) = x(ranCells[j].c)
                    guard x(ranCells[j + 1].c).0 - (a + w) < 1 else { break }
                    j += 1
                }
                let (a, _) = x(ranCells[i].c)
                let (b, wb) = x(ranCells[j].c)
                let first = columns[ranCells[i].c], last = columns[ranCells[j].c]
                let busy = ranCells[i...j].reduce(UInt64(0)) { $0 + (columns[$1.c].end - columns[$1.c].start) }
                let what = i == j ? "#\(first.number) ran \(Self.durationText(busy))"
                    : "#\(first.number)–#\(last.number): ran \(j - i + 1) steps, \(Self.durationText(busy)) in all"
                s += "<rect x=\"\(Self.n(a))\" y=\"\(Self.n(y + 2))\" width=\"\(Self.n(max(b + wb - a, 0.6)))\" height=\"\(Self.n(rowHeight - 4))\" "
                s += "fill=\"#2e9e44\"><title>\(what)\(ranCells[j].exited ? ", then ended" : "")</title></rect>\n"
                i = j + 1
            }
            s += "</g>\n"
        }

        // Legend.
        y += rowHeight + 20
        var lx = 10.0
        for (name, colour) in [("ran", "#2e9e44"), ("ready", "#bbbbbb"), ("recv", "#3b6fd6"), ("send", "#b04fc9"),
                               ("future", "#e0a100"), ("sleep", "#1fa6b8"), ("other wait", "#777777"), ("poll", "#999999")] {
            s += "<rect x=\"\(Self.n(lx))\" y=\"\(Self.n(y - 10))\" width=\"12\" height=\"12\" fill=\"\(colour)\"/>"
            s += "<text x=\"\(Self.n(lx + 16))\" y=\"\(Self.n(y))\">\(name)</text>\n"
            lx += 16 + Double(name.count) * 7.5 + 18
        }
        s += "</svg>\n"
        return s
    }

    static func fill(_ kind: String) -> String {
        switch kind {
        case "ready": return "#bbbbbb"
        case "recv": return "#3b6fd6"
        case "send": return "#b04fc9"
        case "future": return "#e0a100"
        case "sleep": return "#1fa6b8"
        default: return "#777777"
        }
    }

    static func n(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    static func clip(_ s: String, _ width: Int) -> String {
        s.count > width ? String(s.prefix(width - 1)) + "…" : s
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    static func durationText(_ nanos: UInt64) -> String {
        if nanos >= 1_000_000_000 { return "\(Double(nanos / 1_000_000) / 1000) s" }
        if nanos >= 1_000_000 { return "\(Double(nanos / 1_000) / 1000) ms" }
        return "\(Double(nanos) / 1000) µs"
    }
}
