// Being told what is wrong, and watching the loop live: `lints`, `lint`, `stats`, `top`.
// All read the session's monitor (Insight/LoopMonitor.swift), attached to its loop.
import ArgumentParser
import Foundation
import Insight
import Runtime

struct Lints: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "The problems the monitor found, each with a hint: blocked loop, late wake, closed fd, ….",
        discussion: """
            Each lint is printed once as a warning when it is first found, and listed here
            with how often it happened. The kinds:
            \(LintKind.allCases.map { "  \($0.rawValue.padding(14))\($0.summary)" }.joined(separator: "\n"))
            'lint' changes thresholds and silences kinds; 'expect no lints' and 'expect lint
            KIND [TASK]' make them scriptable.
            """)

    @Flag(help: "One JSON document.")
    var json = false

    mutating func run(in session: Session) throws {
        let lints = session.monitor.lints
        if json {
            struct Row: Encodable { var kind: String; var task: Int?; var message: String; var step: UInt64; var count: Int }
            return session.output.line(try JSONViews.encode(lints.map {
                Row(kind: $0.kind.rawValue, task: $0.task?.rawValue, message: $0.message, step: $0.step, count: $0.count)
            }))
        }
        guard !lints.isEmpty else { return session.output.line("no lints") }
        session.output.line(lints.map { "#\($0.step) \($0.line)" }.joined(separator: "\n"))
    }
}

struct LintCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Show or change the lints' settings: lint off|on KIND|all, lint slow-step 20ms, ….",
        discussion: """
            lint                     the thresholds, and which kinds are off
            lint off KIND|all        stop looking for KIND (lints found stay listed)
            lint on KIND|all         look for it again
            lint slow-step DURATION  a step that holds the loop longer than this is a blocked
                                     loop (default 50ms); one that takes longer only because
                                     the loop thread waited for a CPU is 'descheduled'.
            lint late-wake DURATION  a wake later than this, while the loop slept, is late (default 20ms)
            lint never-yields N      this many steps in a row without waiting (default 10000)
            lint clear               forget the lints found so far
            KIND: \(LintKind.allCases.map(\.rawValue).joined(separator: ", "))
            """)

    @Argument(help: ArgumentHelp("off, on, slow-step, late-wake, never-yields or clear, and its value.", valueName: "setting"),
              completion: .list(["off", "on", "slow-step", "late-wake", "never-yields", "clear", "all"] + LintKind.allCases.map(\.rawValue)))
    var words: [String] = []

    mutating func run(in session: Session) throws {
        let monitor = session.monitor
        func kinds(_ word: String?) throws -> [LintKind] {
            guard let word else { throw ReplError("usage: lint off|on KIND|all") }
            if word == "all" { return LintKind.allCases }
            guard let k = LintKind(rawValue: word) else {
                throw ReplError("no lint '\(word)'; use \(LintKind.allCases.map(\.rawValue).joined(separator: ", ")) or all")
            }
            return [k]
        }
        func duration(_ word: String?) throws -> UInt64 {
            guard let word, let d = try? Parse.duration(word) else {
                throw ReplError("usage: lint \(words[0]) DURATION (e.g. 20ms)")
            }
            guard d > .zero else { throw ReplError("the threshold must be more than 0") }
            return d.clampedNanoseconds
        }
        guard let first = words.first else { return session.output.line(Self.settings(monitor)) }
        if words.count > 2 { throw ReplError("usage: lint off|on KIND|all | lint slow-step|late-wake DURATION | lint never-yields N | lint clear") }
        switch first {
        case "off": for k in try kinds(words.dropFirst().first) { monitor.settings.off.insert(k) }
        case "on": for k in try kinds(words.dropFirst().first) { monitor.settings.off.remove(k) }
        case "slow-step": monitor.settings.slowStepNanos = try duration(words.dropFirst().first)
        case "late-wake": monitor.settings.lateWakeNanos = try duration(words.dropFirst().first)
        case "never-yields":
            guard let w = words.dropFirst().first, let n = Int(w), n >= 2 else { throw ReplError("usage: lint never-yields N (N at least 2)") }
            monitor.settings.neverYieldsSteps = n
        case "clear":
            monitor.clearLints()
            return session.output.line("forgot the lints found so far")
        default:
            throw ReplError("no lint setting '\(first)'; use off, on, slow-step, late-wake, never-yields or clear")
        }
        session.output.line(Self.settings(monitor))
    }

    static func settings(_ m: LoopMonitor) -> String {
        let s = m.settings
        let off = s.off.isEmpty ? "none" : LintKind.allCases.filter(s.off.contains).map(\.rawValue).joined(separator: ", ")
        return "lints: slow-step \(DurationText.format(.nanoseconds(Int64(s.slowStepNanos)))), "
            + "late-wake \(DurationText.format(.nanoseconds(Int64(s.lateWakeNanos)))), never-yields \(s.neverYieldsSteps) steps; off: \(off)"
    }
}

struct StatsCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Latency histograms: step, wait (by kind) and poll times, request latency; for the loop or one task.",
        discussion: """
            count, p50, p90, p99, p99.9 and max of: the time each step ran, the time tasks
            waited by what they waited on, the time each poll blocked, and (fib server
            handlers) each request's latency, from its bytes arriving to the handler waiting
            for the next. Counted since the session began or 'stats --reset'. Per-task
            figures are kept for the first \(LoopStats.taskLimit) tasks.
            """)

    @Argument(help: ArgumentHelp("One task (default: the whole loop).", valueName: "task"))
    var task: TaskArgument?

    @Flag(help: "One JSON document.")
    var json = false

    @Flag(help: "Start counting afresh.")
    var reset = false

    mutating func run(in session: Session) throws {
        let monitor = session.monitor
        if reset {
            guard task == nil && !json else { throw ReplError("usage: stats --reset") }
            monitor.resetStats()
            return session.output.line("stats: counting afresh from #\(session.loop.stepCount)")
        }
        var rows: [(String, Distribution)] = []
        let stats = monitor.stats
        if let task {
            let info = try task.resolve(in: session)
            guard let t = stats.task(info.id) else {
                throw ReplError("no figures for task \(info.id.rawValue) yet (it has not run since the stats began, or it is past the first \(LoopStats.taskLimit) tasks)")
            }
            rows.append(("step", t.step.distribution))
            for (kind, h) in t.wait.sorted(by: { $0.key < $1.key }) { rows.append(("wait \(kind)", h.distribution)) }
            if t.request.count > 0 { rows.append(("request", t.request.distribution)) }
        } else {
            rows.append(("step", stats.step.distribution))
            for (kind, h) in stats.wait.sorted(by: { $0.key < $1.key }) { rows.append(("wait \(kind)", h.distribution)) }
            rows.append(("poll blocked", stats.poll.distribution))
            if stats.request.count > 0 { rows.append(("request", stats.request.distribution)) }
        }
        if json {
            struct Doc: Encodable { var task: Int?; var figures: [String: Distribution] }
            let doc = Doc(task: try task?.resolve(in: session).id.rawValue,
                          figures: Dictionary(rows.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a }))
            return session.output.line(try JSONViews.encode(doc))
        }
        var table: [[String]] = [["", "count", "p50", "p90", "p99", "p99.9", "max"]]
        for (name, d) in rows {
            table.append([name, String(d.count)] + [d.p50, d.p90, d.p99, d.p999, d.max].map { d.count == 0 ? "—" : Self.time($0) })
        }
        session.output.line(Views.table(table, rightAligned: [1, 2, 3, 4, 5, 6]))
    }

    /// `850ns`, `12.3us`, `4.56ms`, `1.23s`.
    static func time(_ nanos: UInt64) -> String {
        let n = Double(nanos)
        if n < 1_000 { return "\(nanos)ns" }
        if n < 1_000_000 { return String(format: "%.1fus", n / 1e3) }
        if n < 1_000_000_000 { return String(format: "%.2fms", n / 1e6) }
        return String(format: "%.2fs", n / 1e9)
    }
}

/// One reading of the loop for `top`: the monitor's counters and every task's step count
/// and busy time, and when.
struct TopReading {
    var at: UInt64
    var counters: LoopMonitor.Counters
    var tasks: [TaskID: (steps: Int, busy: UInt64)]

    init(_ session: Session, _ snap: LoopSnapshot) {
        at = snap.takenAt
        counters = session.monitor.counters
        tasks = Dictionary(snap.tasks.map { ($0.id, ($0.steps, $0.busyNanos)) }, uniquingKeysWith: { a, _ in a })
    }
}

struct Top: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "A live view of the loop and its tasks, refreshed every second, until q or Ctrl-C.",
        discussion: """
            The loop: steps, polls and wake-ups per second, the ready queue, futures in flight,
            the pools' work, and the share of time spent in poll and in steps. Each task:
            state, steps/s, busy % (time it ran), what it waits on, for how long, and where.
            Rates are over the last interval (with --once: since the previous 'top', or since
            the session began). It keeps a background run ('run &') going between frames.
            Not on a terminal, it prints one frame (or --frames N, one per interval).
            """)

    @Option(help: ArgumentHelp("How often to refresh (default 1s).", valueName: "duration"), transform: Parse.duration)
    var interval: Duration = .seconds(1)

    @Option(help: ArgumentHelp("Order the tasks by busy (default), steps or wait.", valueName: "key"),
            completion: .list(["busy", "steps", "wait"]))
    var sort: String = "busy"

    @Flag(help: "Print one frame and return.")
    var once = false

    @Option(help: ArgumentHelp("Print this many frames, one per interval, and return.", valueName: "n"))
    var frames: Int?

    @Flag(help: "With --once: one JSON document.")
    var json = false

    mutating func run(in session: Session) throws {
        guard ["busy", "steps", "wait"].contains(sort) else { throw ReplError("no sort key '\(sort)'; use busy, steps or wait") }
        guard interval >= .milliseconds(50) else { throw ReplError("the interval must be at least 50ms") }
        if let frames, frames < 1 { throw ReplError("--frames must be at least 1") }
        if json && !once { throw ReplError("--json goes with --once") }
        let layout = session.output.layout
        let live = !once && frames == nil && layout.color && isatty(0) != 0
        if !live {
            let count = once ? 1 : frames ?? 1
            for i in 0..<count {
                if i > 0 { wait(session, until: monotonicNanos() &+ interval.clampedNanoseconds) }
                if session.isInterrupted { break }
                let snap = session.loop.snapshot()
                let now = TopReading(session, snap)
                let before = TopState.of(session).reading ?? TopReading(start: session)
                TopState.of(session).reading = now
                if json {
                    session.output.line(try JSONViews.encode(Self.document(session, snap, before, now)))
                } else {
                    session.output.line(Self.frame(session, snap, before, now, width: layout.columns, sort: sort).joined(separator: "\n"))
                }
            }
            return
        }
        try liveView(session, width: layout.columns)
    }

    /// Full screen (the alternate screen, so the prompt comes back as it was), a frame per
    /// interval, until q or Ctrl-C.
    private func liveView(_ session: Session, width: Int) throws {
        var saved = termios()
        let haveTTY = tcgetattr(0, &saved) == 0
        if haveTTY {
            var raw = saved
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
            withUnsafeMutablePointer(to: &raw.c_cc) { cc in
                cc.withMemoryRebound(to: cc_t.self, capacity: Int(NCCS)) { $0[Int(VMIN)] = 0; $0[Int(VTIME)] = 0 }
            }
            tcsetattr(0, TCSANOW, &raw)
        }
        session.output.line("\u{1B}[?1049h\u{1B}[?25l")
        defer {
            session.output.line("\u{1B}[?25h\u{1B}[?1049l")
            if haveTTY { tcsetattr(0, TCSANOW, &saved) }
        }
        var before = TopState.of(session).reading ?? TopReading(start: session)
        while !session.isInterrupted {
            let snap = session.loop.snapshot()
            let now = TopReading(session, snap)
            let size = ReplOutput.terminalLayout(of: 1)?.columns ?? width
            let lines = Self.frame(session, snap, before, now, width: size, footer: "q or Ctrl-C to quit", sort: sort)
            session.output.line("\u{1B}[H\u{1B}[2J" + lines.joined(separator: "\n"))
            before = now
            TopState.of(session).reading = now
            if wait(session, until: monotonicNanos() &+ interval.clampedNanoseconds, watchKeys: true) { break }
        }
    }

    /// Waits until `deadline`, running a background run meanwhile; with `watchKeys`, returns
    /// true as soon as q is typed.
    @discardableResult
    private func wait(_ session: Session, until deadline: UInt64, watchKeys: Bool = false) -> Bool {
        while monotonicNanos() < deadline && !session.isInterrupted {
            let slice = min(deadline, monotonicNanos() &+ 50_000_000)
            if session.isRunningInBackground {
                _ = session.continueBackground { monotonicNanos() >= slice || session.isInterrupted }
            } else {
                var ts = timespec(tv_sec: 0, tv_nsec: Int(min(slice &- min(slice, monotonicNanos()), 50_000_000)))
                nanosleep(&ts, nil)
            }
            if watchKeys {
                var p = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 0) > 0 {
                    var buf = [UInt8](repeating: 0, count: 64)
                    let n = read(0, &buf, buf.count)
                    if n > 0 && buf[0..<n].contains(where: { $0 == UInt8(ascii: "q") || $0 == UInt8(ascii: "Q") || $0 == 3 }) { return true }
                }
            }
        }
        return false
    }

    // MARK: The frame

    struct Row {
        var info: TaskInfo
        var stepsPerSecond: Double
        var busy: Double
        var waitedNanos: UInt64?
    }

    static func rows(_ snap: LoopSnapshot, _ before: TopReading, _ now: TopReading, sort: String) -> [Row] {
        let elapsed = Double(max(now.at &- before.at, 1))
        var rows: [Row] = snap.tasks.filter { !$0.state.isFinished }.map { t in
            let was = before.tasks[t.id] ?? (0, 0)
            let waited: UInt64? = { if case .waiting(let w) = t.state { return snap.takenAt &- min(w.since, snap.takenAt) }; return nil }()
            return Row(info: t, stepsPerSecond: Double(max(t.steps - was.steps, 0)) / elapsed * 1e9,
                       busy: Double(t.busyNanos &- min(was.busy, t.busyNanos)) / elapsed * 100, waitedNanos: waited)
        }
        switch sort {
        case "steps": rows.sort { ($0.stepsPerSecond, -$0.info.id.rawValue) > ($1.stepsPerSecond, -$1.info.id.rawValue) }
        case "wait": rows.sort { ($0.waitedNanos ?? 0, -$0.info.id.rawValue) > ($1.waitedNanos ?? 0, -$1.info.id.rawValue) }
        default: rows.sort { ($0.busy, -$0.info.id.rawValue) > ($1.busy, -$1.info.id.rawValue) }
        }
        return rows
    }

    static func frame(_ session: Session, _ snap: LoopSnapshot, _ before: TopReading, _ now: TopReading,
                      width: Int, footer: String? = nil, sort: String = "busy") -> [String] {
        let elapsed = Double(max(now.at &- before.at, 1))
        let c = now.counters, b = before.counters
        func rate(_ a: UInt64, _ b: UInt64) -> String { Views.fmtRate(Double(a &- min(b, a)) / elapsed * 1e9) }
        func clip(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(n - 1)) + "…" : s }
        func share(_ a: UInt64, _ b: UInt64) -> String { String(format: "%.0f%%", Double(a &- min(b, a)) / elapsed * 100) }
        let mode = session.isRunningInBackground ? "running" : "paused"
        var lines = [
            "top — #\(session.loop.stepCount) \(mode), over \(String(format: "%.2f", elapsed / 1e9)) s\(footer.map { " (\($0))" } ?? "")",
            "loop   \(rate(c.steps, b.steps)) steps/s, \(rate(c.polls, b.polls)) polls/s, \(rate(c.wakes, b.wakes)) wake-ups/s; "
                + "time in poll \(share(c.pollNanos, b.pollNanos)), in steps \(share(c.stepNanos, b.stepNanos))",
            "queues ready \(snap.ready.count), futures in flight \(snap.pendingFutures)"
                + session.extensions.flatMap { $0.queueRows(snap, in: session) }.map { "; \($0.name) \($0.value)" }.joined(),
        ]
        let lints = session.monitor.lints
        if !lints.isEmpty { lines.append("lints  \(lints.count): " + lints.suffix(1).map(\.line).joined()) }
        var table: [[String]] = [["id", "name", "state", "steps/s", "busy%", "waiting on", "for", "where"]]
        for r in rows(snap, before, now, sort: sort) {
            table.append([String(r.info.id.rawValue), clip(r.info.name, 14), r.info.state.name, Views.fmtRate(r.stepsPerSecond),
                          String(format: "%.1f", r.busy), clip(Views.waitingOn(r.info), 20),
                          r.waitedNanos.map { StatsCommand.time($0) } ?? "", Views.location(r.info)])
        }
        lines += Views.table(table, rightAligned: [0, 3, 4, 6]).split(separator: "\n").map { String($0.prefix(width)) }
        return lines.map { String($0.prefix(width)) }
    }

    struct Document: Encodable {
        struct Loop: Encodable {
            var step: UInt64; var running: Bool; var seconds: Double
            var steps_per_s: Double; var polls_per_s: Double; var wakeups_per_s: Double
            var ready: Int; var futures_in_flight: Int; var poll_share: Double; var step_share: Double
        }
        struct Task: Encodable {
            var id: Int; var name: String; var state: String; var steps_per_s: Double; var busy_percent: Double
            var waiting_on: String?; var waited_ns: UInt64?; var `where`: String?
        }
        var loop: Loop
        var tasks: [Task]
        var lints: [String]
    }

    static func document(_ session: Session, _ snap: LoopSnapshot, _ before: TopReading, _ now: TopReading) -> Document {
        let elapsed = Double(max(now.at &- before.at, 1))
        let c = now.counters, b = before.counters
        func rate(_ a: UInt64, _ b: UInt64) -> Double { Double(a &- min(b, a)) / elapsed * 1e9 }
        let loop = Document.Loop(step: session.loop.stepCount, running: session.isRunningInBackground, seconds: elapsed / 1e9,
                                 steps_per_s: rate(c.steps, b.steps), polls_per_s: rate(c.polls, b.polls),
                                 wakeups_per_s: rate(c.wakes, b.wakes), ready: snap.ready.count,
                                 futures_in_flight: snap.pendingFutures,
                                 poll_share: Double(c.pollNanos &- min(b.pollNanos, c.pollNanos)) / elapsed,
                                 step_share: Double(c.stepNanos &- min(b.stepNanos, c.stepNanos)) / elapsed)
        let tasks = rows(snap, before, now, sort: "busy").map { r in
            Document.Task(id: r.info.id.rawValue, name: r.info.name, state: r.info.state.name, steps_per_s: r.stepsPerSecond,
                          busy_percent: r.busy, waiting_on: r.info.waitingOn, waited_ns: r.waitedNanos,
                          where: Views.location(r.info).isEmpty ? nil : Views.location(r.info))
        }
        return Document(loop: loop, tasks: tasks, lints: session.monitor.lints.map(\.line))
    }
}

/// `top`'s previous reading, for its rates: the feature's state in a session.
final class TopState: SessionExtension {
    var reading: TopReading?

    static func of(_ session: Session) -> TopState {
        session.state(TopState.self) { TopState() }
    }

    /// Rates are of one loop: a fresh one starts from its start.
    func loopReplaced(in session: Session, reset: Bool) {
        reading = nil
    }
}

extension TopReading {
    /// The reading at the session's start: zero counts, when the monitor began.
    init(start session: Session) {
        at = session.monitorStarted
        counters = LoopMonitor.Counters()
        tasks = [:]
    }
}
