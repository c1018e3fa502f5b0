// The timeline drawn from a recording: a column per step, a row per task whose cell says
// what the task did in that step (█ where it ran, what it waited on elsewhere), the poll
// row saying what each poll woke; the last N steps, as text and as an SVG.
import Runtime
import Testing
import TestSupport
import Trace

@Suite(.timeLimit(.minutes(1))) struct TimelineTests {
    @Test func aRowPerTaskWithACellPerStepSayingWhatTheTaskDid() throws {
        let echo = try RecordedEcho()
        let timeline = Timeline(echo.recorder, last: echo.steps.count)
        #expect(timeline.recordedSteps == echo.steps.count)
        #expect(timeline.columns.map(\.number) == echo.steps.map(\.number))
        #expect(timeline.rows.map(\.task.id) == [echo.server, echo.client])
        for row in timeline.rows { #expect(row.cells.count == timeline.columns.count) }
        for (i, step) in echo.steps.enumerated() {
            let ran = timeline.rows.filter { if case .ran = $0.cells[i] { true } else { false } }.map(\.task.id)
            switch step.kind {
            case .ran(let s):
                #expect(ran == [s.task], "step #\(step.number): only its task ran")
                #expect(timeline.columns[i].woke == nil)
                if case .exited = s.outcome {
                    let row = try #require(timeline.rows.first { $0.task.id == s.task })
                    #expect(row.cells[i] == .ran(exited: true))
                    #expect(row.cells.dropFirst(i + 1).allSatisfy { $0 == .none }, "nothing after its end")
                }
            case .polled(let p):
                #expect(ran.isEmpty, "poll #\(step.number)")
                #expect(timeline.columns[i].woke?.map(\.task) == p.wakes.map(\.task))
            case .idle:
                #expect(ran.isEmpty && timeline.columns[i].woke?.isEmpty == true, "idle #\(step.number)")
            }
        }
        // Between its steps the server is seen waiting: in recv (accept, then the request)
        // and on its future.
        let server = try #require(timeline.rows.first { $0.task.id == echo.server })
        let waits = Set(server.cells.compactMap { if case .waits(let kind) = $0 { kind } else { nil } })
        #expect(waits.isSuperset(of: ["recv", "future"]), "\(waits)")
    }

    @Test func theTextShowsTheLastStepsWithTheirGlyphs() throws {
        let echo = try RecordedEcho()
        let n = echo.steps.count
        let timeline = Timeline(echo.recorder, last: 6)
        #expect(timeline.columns.map(\.number) == echo.steps.suffix(6).map(\.number))
        let lines = timeline.text(width: 200).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "timeline: steps #\(n - 5)–#\(n) (6 of \(n) recorded)")
        #expect(lines.last == Timeline.legend)
        // Header, ruler, the poll row, a row per task, the legend: one page at this width.
        #expect(lines.count == 4 + timeline.rows.count)
        for row in timeline.rows {
            let label = "\(row.task.id.rawValue) \(row.task.name)"
            let glyphs = String(row.cells.map(Timeline.glyph))
            let line = try #require(lines.first { $0.hasPrefix(label + " ") }, "a line for \(label)")
            #expect(line.hasSuffix(trimmed(glyphs)), "\(line) ends with \(glyphs)")
        }
        let poll = try #require(lines.first { $0.hasPrefix("poll ") })
        let pollGlyphs = String(timeline.columns.map { $0.woke.map(Timeline.pollGlyph) ?? " " })
        #expect(poll.hasSuffix(trimmed(pollGlyphs)), "\(poll)")
        #expect(Timeline(echo.recorder, last: 0).text() == "no steps recorded")
    }

    @Test func theSVGHasALanePerTaskAndThePolls() throws {
        let echo = try RecordedEcho()
        let timeline = Timeline(echo.recorder, last: echo.steps.count)
        for axis in [Timeline.Axis.steps, .time] {
            let svg = timeline.svg(axis: axis, title: "echo")
            #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "))
            #expect(svg.hasSuffix("</svg>\n"))
            #expect(svg.components(separatedBy: "<g class=\"lane poll\">").count == 2, "one poll lane")
            for row in timeline.rows {
                #expect(svg.contains("<g class=\"lane\" data-task=\"\(row.task.id.rawValue)\">"), "\(axis): task \(row.task.id.rawValue)'s lane")
                #expect(svg.contains(">\(row.task.id.rawValue) \(row.task.name)</text>"))
            }
        }
    }
}

/// Without its trailing spaces (as the chart's lines are).
private func trimmed(_ s: String) -> String {
    var s = s
    while s.last == " " { s.removeLast() }
    return s
}
