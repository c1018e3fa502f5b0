// Pictures of the loop over time: `trace record|stop|save` (a Perfetto / chrome://tracing
// file) and `timeline` (a swimlane chart on the terminal, or an SVG), both drawn from one
// recording (Trace/TraceRecorder.swift).
import ArgumentParser
import Foundation
import Runtime
import Trace

struct TraceCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Record what the loop does, for Perfetto (trace save FILE.json) and 'timeline'.",
        discussion: """
            trace record [--limit N]   start recording: every step, poll and piece of pool work,
                                       with the wakes between them; keeps the last N events
                                       (default 100000) and counts the ones it drops
            trace stop                 stop recording (what was recorded stays, for save and timeline)
            trace save FILE.json       write it as Chrome trace-event JSON (also while recording):
                                       open it in ui.perfetto.dev or chrome://tracing
            trace                      whether it records, and how much it holds
            'corepl FILE --trace OUT.json' records a whole script. A trace is for pictures and may
            drop old events; 'save' writes the session's commands.
            """)

    @Argument(help: ArgumentHelp("record, stop or save (nothing: what is recorded).", valueName: "action"),
              completion: .list(["record", "stop", "save"]))
    var action: String?

    @Argument(help: ArgumentHelp("For save: the file to write.", valueName: "file"), completion: .file(extensions: ["json"]))
    var file: String?

    @Option(help: ArgumentHelp("For record: how many events to keep (the oldest go first).", valueName: "n"))
    var limit: Int?

    mutating func run(in session: Session) throws {
        if limit != nil && action != "record" { throw ReplError("--limit goes with 'trace record'") }
        if file != nil && action != "save" { throw ReplError("usage: trace record [--limit N] | trace stop | trace save FILE.json") }
        switch action {
        case nil:
            guard let r = session.trace else {
                return session.output.line("not recording ('trace record' starts)")
            }
            session.output.line(Self.status(r))
        case "record"?:
            let n = limit ?? TraceRecorder.defaultLimit
            guard n >= 1 && n <= 50_000_000 else { throw ReplError("--limit must be from 1 to 50000000, got \(n)") }
            if let r = session.trace, r.isRecording, limit == nil || r.limit == n {
                return session.output.line("already recording (\(Self.status(r)))")
            }
            session.startTrace(limit: n)
            session.output.line("recording from step #\(session.loop.stepCount + 1): the last \(n) events are kept ('trace save FILE.json', 'timeline')")
            if n >= 10_000 {
                session.output.line("  (a ring of \(n * TraceRecorder.bytesPerEvent / 1_000_000) MB, allocated now; --limit N keeps fewer)")
            }
        case "stop"?:
            guard let r = session.trace, r.isRecording else { throw ReplError("not recording") }
            r.stop()
            session.output.line(Self.status(r))
        case "save"?:
            guard let file else { throw ReplError("usage: trace save FILE.json") }
            let n = try session.saveTrace(to: file)
            session.output.line("wrote \(plural(n, "event")) to \(file): open it in ui.perfetto.dev or chrome://tracing")
        case let other?:
            throw ReplError("no trace action '\(other)'; use record, stop or save")
        }
    }

    static func status(_ r: TraceRecorder) -> String {
        let steps = r.events.reduce(0) { $0 + ($1.stepNumber == nil ? 0 : 1) }
        return "\(r.isRecording ? "recording" : "stopped"), \(plural(r.events.count, "event")) "
            + "(\(plural(steps, "step")), \(plural(r.tasks.count, "task")), \(plural(r.workers.count, "pool worker"))), "
            + "\(r.dropped) dropped, limit \(r.limit)"
    }
}

/// The recording `trace` and `timeline` draw from: the trace feature's state in a session.
final class TraceState: SessionExtension {
    var recorder: TraceRecorder?

    static func of(_ session: Session) -> TraceState {
        session.state(TraceState.self) { TraceState() }
    }

    /// The recording was of the old loop: it stops, and stays for save and timeline.
    func loopReplaced(in session: Session, reset: Bool) {
        recorder?.stop()
    }
}

extension Session {
    /// The recording for `trace` and `timeline`, once `trace record` made one (it stays
    /// after `trace stop`).
    public var trace: TraceRecorder? { TraceState.of(self).recorder }

    /// Starts a new recording of the loop (the previous one, if any, is dropped).
    public func startTrace(limit: Int = TraceRecorder.defaultLimit) {
        let state = TraceState.of(self)
        state.recorder?.stop()
        let r = TraceRecorder(limit: limit)
        r.start(on: loop)
        state.recorder = r
    }

    /// Makes the directory a file goes in, if missing (a relative file needs none).
    static func makeParent(of file: String) throws {
        let dir = (file as NSString).deletingLastPathComponent
        guard !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) else { return }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    /// Writes the recording as Chrome trace JSON; returns how many events it holds.
    @discardableResult
    public func saveTrace(to file: String) throws -> Int {
        guard let r = trace else { throw ReplError("nothing recorded: 'trace record' starts recording") }
        do {
            try Self.makeParent(of: file)
            try ChromeTrace.json(of: r).write(toFile: file, atomically: true, encoding: .utf8)
        } catch {
            throw ReplError("cannot write \(file): \(error.localizedDescription)")
        }
        return r.events.count
    }
}

struct TimelineCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "A swimlane chart of the last N recorded steps: a row per task, a column per step.",
        discussion: """
            Draws what 'trace record' recorded. Glyphs: █ ran, · ready, r recv, s send, f future,
            z sleep, j join, x external, q a host's queue; the poll row says what each poll
            woke (r fd readable, s writable, f future, z timer, x another thread, * several,
            . nothing). Coloured on a terminal unless NO_COLOR is set; wider charts come in
            pages. --svg FILE writes the same chart as an SVG; add --time for wall-clock time
            on the x axis (a long step is a long bar). --during TASK draws TASK's life (from N
            steps before its first, default 100, to its last).
            """)

    @Argument(help: ArgumentHelp("How many steps (default: as many as fit on one page).", valueName: "n"))
    var count: Int?

    @Option(help: ArgumentHelp("Write the chart as an SVG file instead.", valueName: "file"), completion: .file(extensions: ["svg"]))
    var svg: String?

    @Flag(help: "With --svg: wall-clock time on the x axis instead of one column per step.")
    var time = false

    @Option(help: ArgumentHelp("The steps of TASK's life, and N (default 100) before it.", valueName: "task"))
    var during: TaskArgument?

    @Option(help: ArgumentHelp("With --svg: the chart's title.", valueName: "text"))
    var title: String?

    mutating func run(in session: Session) throws {
        guard let r = session.trace else {
            throw ReplError("nothing recorded: 'trace record' starts recording; then step or run, and 'timeline' draws it")
        }
        if let count, count < 1 { throw ReplError("the number of steps must be at least 1, got \(count)") }
        if time && svg == nil { throw ReplError("--time draws the SVG's x axis in wall-clock time: use it with --svg FILE") }
        if title != nil && svg == nil { throw ReplError("--title goes with --svg FILE") }
        let layout = session.output.layout
        var ending: UInt64?
        var spanCount: Int?
        if let during {
            let info = try during.resolve(in: session)
            guard let span = Timeline.span(of: info.id, in: r, margin: count ?? 100) else {
                throw ReplError("task \(info.id.rawValue) did not run while recording")
            }
            (spanCount, ending) = (span.count, span.end)
        }
        if let svg {
            let chart = Timeline(r, last: spanCount ?? count ?? 200, endingAt: ending)
            guard !chart.columns.isEmpty else { throw ReplError("no steps recorded yet") }
            do {
                try Session.makeParent(of: svg)
                try chart.svg(axis: time ? .time : .steps, title: title).write(toFile: svg, atomically: true, encoding: .utf8)
            } catch {
                throw ReplError("cannot write \(svg): \(error.localizedDescription)")
            }
            session.output.line("wrote \(plural(chart.columns.count, "step")) and \(plural(chart.rows.count, "lane")) to \(svg)")
            return
        }
        let labelWidth = 24
        let chart = Timeline(r, last: spanCount ?? count ?? max(10, layout.columns - labelWidth - 1), endingAt: ending)
        session.output.line(chart.text(width: layout.columns, color: layout.color))
    }
}
