// Commands that move the loop: step, run, continue, pause; breakpoints; cancel, reset;
// and the loop's settings (poller, watch).
import ArgumentParser
import Runtime

/// How long a free run goes on.
enum RunRequest: Sendable, Equatable {
    /// Until pause, Ctrl-C, a breakpoint, or no task left.
    case forever
    case duration(Duration)
    /// Until the ready queue is empty and no timer or pool work is pending.
    case idle
    case taskDone(TaskID)
}

extension Session {
    /// The largest N of `step N`.
    static let maxSteps = 1_000_000

    func names() -> (TaskID) -> String? {
        let loop = self.loop
        return { loop.taskName($0) }
    }

    /// The loop limit for a request, from now.
    func limit(for request: RunRequest) -> EventLoop.RunLimit {
        switch request {
        case .forever: return .noTasks
        case .duration(let d): return .deadline(loop.now() &+ d.clampedNanoseconds)
        case .idle: return .idle
        case .taskDone(let t): return .taskDone(t)
        }
    }

    /// Free-runs the loop as `request` says, in the foreground, stopping at breakpoints;
    /// prints why it stopped.
    func freeRun(_ request: RunRequest) {
        lastRun = request
        _ = drive(BackgroundRun(limit: limit(for: request), firstStep: loop.stepCount, started: loop.now()), yieldWhen: nil)
    }

    /// Runs toward `run`'s limit. With `yieldWhen`, returns false (quietly) as soon as it
    /// holds, so a front end can run commands and call again; otherwise runs to the end,
    /// prints why it stopped, and returns true.
    func drive(_ run: BackgroundRun, yieldWhen: (() -> Bool)?) -> Bool {
        var hit: Breakpoint?
        var yielded = false
        let names = self.names()
        let output = self.output
        let breaks = BreakpointState.of(self)
        let checkBreaks = !breaks.list.all.isEmpty
        let stopWhen: ((StepEvent) -> Bool)? = (checkBreaks || yieldWhen != nil) ? { [unowned self] event in
            if checkBreaks, let b = breaks.list.match(event, futureLabel: self.loop.futureLabel) {
                hit = b
                return true
            }
            if let yieldWhen, yieldWhen() {
                yielded = true
                return true
            }
            return false
        } : nil
        let onStep: ((StepEvent) -> Void)? = watch ? { event in output.line(Views.step(event, names: names)) } : nil
        let outcome = loop.run(until: run.limit, pollTimeout: pollTimeout, stopWhen: stopWhen, onStep: onStep)
        if yielded && hit == nil { return false }
        let steps = loop.stepCount - run.firstStep
        let took = Views.round2(Double(loop.now() &- run.started) / 1e9)
        let summary = "\(plural(Int(steps), "step")) in \(took) s, now at #\(loop.stepCount)"
        switch outcome {
        case .idle:
            output.line("idle after \(summary): nothing ready, no timer or pool work pending")
        case .deadline:
            output.line("ran \(summary)")
        case .taskDone(let t):
            let state = loop.taskInfo(t)?.state.description ?? "done"
            output.line("task \(t.rawValue) \(state) after \(summary)")
        case .noTasksLeft:
            output.line("no task left after \(summary)")
        case .stopRequested:
            output.line("\(isInterrupted ? "interrupted" : "paused") after \(summary)")
        case .matched(let event):
            let b = hit.map { "breakpoint \($0.id)" } ?? "breakpoint"
            output.line("\(b) hit at " + Views.step(event, names: names))
        case .stepLimit:
            output.line("stopped after \(summary)")
        }
        return true
    }
}

/// A free run in progress: its limit (fixed when it began), and where it began (for its
/// summary).
struct BackgroundRun: Sendable {
    let limit: EventLoop.RunLimit
    let firstStep: UInt64
    let started: UInt64
}

struct Step: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Perform N scheduler steps (default 1), one line each; 'step back [N]' shows the loop N steps ago.",
        discussion: """
            A step runs the head of the ready queue (the task the policy chooses: see \
            'policy') until its next suspension or, when nothing is ready, polls once \
            (waiting at most the poll timeout) and moves woken tasks to ready. In inline and \
            block modes one step lasts as long as the computation in it.

            'step back [N]' moves the views N steps into the past (from the history every \
            session keeps; see 'history' and 'goto'): tasks, queues, show and expect then \
            read that step's state. There 'step [N]' moves forward through the recorded \
            steps up to the present; nothing runs until you are back in the present.
            """)

    // (`.allUnrecognized` keeps `-3` a word, for the count's own message.)
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("How many steps (default 1), or 'back [N]'.", valueName: "N | back [N]"),
              completion: .list(["back"]))
    var words: [String] = []

    @Option(parsing: .unconditional, help: ArgumentHelp("Longest a polling step waits when nothing is ready (e.g. 100ms).", valueName: "duration"),
            transform: Parse.duration)
    var timeout: Duration?

    mutating func run(in session: Session) throws {
        let usage = "usage: step [N] [--timeout DURATION] | step back [N]"
        var w = try Parse.words(words, usage: usage)
        let back = w.first == "back"
        if back { w.removeFirst() }
        let name = back ? "step back" : "step"
        guard w.count <= 1 else { throw ReplError("\(name) takes one count\n\(usage)") }
        let count: Int
        if let text = w.first {
            guard let n = Int(text) else {
                throw ReplError("\(name) takes a count\(back ? "" : " or 'back [N]'"), not '\(text)'\n\(usage)")
            }
            count = n
        } else {
            count = 1
        }
        guard count >= 1 else { throw ReplError("\(name) takes a count of 1 or more, got \(count)") }
        guard count <= Session.maxSteps else {
            throw ReplError("\(name) takes a count from 1 to \(Session.maxSteps), got \(count)")
        }
        if back || session.isInThePast {
            session.navigatedHistory = true
            return try Step.travel(session, back: back, count: count)
        }
        let t = timeout ?? session.pollTimeout
        let names = session.names()
        for _ in 0..<count {
            if session.isInterrupted {
                session.output.line("interrupted")
                return
            }
            let event = session.loop.step(timeout: t)
            session.output.line(Views.step(event, names: names))
        }
    }
}

struct Run: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Free-run the loop: run [DURATION | until idle | until TASK done] [&].",
        discussion: """
            Bare 'run' lasts until pause, Ctrl-C, a breakpoint, or until no task is left. \
            'until idle' stops when the ready queue is empty and no timer or pool work is \
            pending (tasks may still wait on sockets). Every run returns once no task is left. \
            A trailing '&' runs in the background while the prompt stays usable ('pause' stops it).
            """)

    // (`.allUnrecognized` keeps `-5s` a word, for the duration's own message.)
    @Argument(parsing: .allUnrecognized, help: "DURATION (3, 500ms, 2s), or 'until idle', or 'until TASK done'; '&' last for the background.",
              completion: .list(["until", "idle", "done", "&"]))
    var words: [String] = []

    static let usage = "usage: run [DURATION | until idle | until TASK done] [&]"

    mutating func run(in session: Session) throws {
        var w = try Parse.words(words, usage: Run.usage)
        let background = w.last == "&"
        if background { w.removeLast() }
        let request = try Run.request(w, session)
        if background {
            try session.startBackground(request)
        } else {
            session.freeRun(request)
        }
    }

    static func request(_ words: [String], _ session: Session) throws -> RunRequest {
        switch words.count {
        case 0:
            return .forever
        case 1 where words[0] != "until":
            return .duration(try duration(words[0]))
        case 2 where words[0] == "until" && words[1] == "idle":
            return .idle
        case 3 where words[0] == "until" && words[2] == "done":
            return .taskDone(try task(words[1], session))
        case 4 where words[0] == "until" && words[1] == "task" && words[3] == "done":
            return .taskDone(try task(words[2], session))
        case _ where words[0] == "until":
            throw ReplError("run: 'until' goes with 'idle' or 'TASK done', got '\(words.joined(separator: " "))'\n\(usage)")
        default:
            // `run 5 parsecs`, `run 2 s`: one duration, written as one word.
            throw ReplError("run: '\(words.joined(separator: " "))' is not a duration: use a number with ns, us, ms, s, m or h "
                + "in one word (3, 500ms, 2s, 1m), 'until idle' or 'until TASK done'\n\(usage)")
        }
    }

    /// `words[0]` as the duration of `run DURATION`, or why it is none.
    private static func duration(_ text: String) throws -> Duration {
        if Parse.isNegativeNumber(text) { throw ReplError("run: '\(text)' is negative: a duration is 0 or more (3, 500ms, 2s, 1m)") }
        do {
            return try DurationText.parse(text)
        } catch {
            guard error.reason.hasPrefix("expected") else { throw error }  // ("'48h': longer than 24h")
            throw ReplError("run: '\(text)' is not a duration: use a number with ns, us, ms, s, m or h (3, 500ms, 2s, 1m), "
                + "'until idle' or 'until TASK done'")
        }
    }

    private static func task(_ text: String, _ session: Session) throws -> TaskID {
        guard let t = TaskArgument(argument: text) else { throw ReplError("usage: run until TASK done") }
        return try t.resolve(in: session).id
    }
}

struct Continue: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "continue",
        abstract: "Resume the last free run (after a breakpoint or a pause).")

    @Argument(help: "'&' to continue in the background.", completion: .list(["&"]))
    var background: String?

    mutating func run(in session: Session) throws {
        let request = session.lastRun ?? .forever
        switch background {
        case nil: session.freeRun(request)
        case "&"?: try session.startBackground(request)
        default: throw ReplError("usage: continue [&]")
        }
    }
}

struct Pause: ReplCommand {
    static let configuration = CommandConfiguration(abstract: "Pause a free run (the loop stops after its current step).")

    mutating func run(in session: Session) throws {
        if session.background != nil {
            session.background = nil
            session.output.line("paused at #\(session.loop.stepCount)")
        } else {
            session.output.line("the loop is already paused, at #\(session.loop.stepCount)")
        }
    }
}

struct Break: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop free runs at a task's steps or at an event: break TASK | break on EVENT.",
        discussion: """
            EVENT is one of: \(BreakEvent.allCases.map(\.rawValue).joined(separator: ", ")).
            'break on future LABEL' stops only where a task starts waiting on a future for LABEL,
            e.g. 'break on future fib(40)' (the labels show in 'queues').
            """)

    @Argument(help: ArgumentHelp("TASK, or 'on' before an EVENT.", valueName: "task"), completion: .list(["on"]))
    var task: TaskArgument

    @Argument(help: "After 'on': the event.", completion: .list(Parse.list(BreakEvent.self)), transform: Parse.choice("event"))
    var event: BreakEvent?

    @Argument(help: "After 'on future': the future's label (e.g. fib(40)).")
    var label: String?

    mutating func run(in session: Session) throws {
        let target: BreakTarget
        switch (task.text, event, label) {
        case ("on", .future?, let label?):
            target = .future(label: label)
        case ("on", let e?, nil):
            target = .event(e)
        case ("on", _?, _?):
            throw ReplError("only 'break on future' takes a label")
        case ("on", nil, _):
            throw ReplError("break on what? use \(Parse.words(BreakEvent.self))")
        case (_, nil, nil):
            target = .task(try task.resolve(in: session).id)
        case (_, _, _):
            throw ReplError("usage: break TASK | break on \(BreakEvent.allCases.map(\.rawValue).joined(separator: "|")) | break on future LABEL")
        }
        let b = session.breakpoints.add(target)
        session.output.line("breakpoint \(b.id): \(b.description)")
    }
}

struct Breaks: ReplCommand {
    static let configuration = CommandConfiguration(abstract: "List breakpoints.")

    @Flag(help: "One JSON document.")
    var json = false

    mutating func run(in session: Session) throws {
        let all = session.breakpoints.all
        if json {
            session.output.line(try JSONViews.encode(all.map { JSONViews.Breakpoint(id: $0.id, on: $0.onText, hits: $0.hits) }))
        } else if all.isEmpty {
            session.output.line("no breakpoints")
        } else {
            for b in all { session.output.line("\(b.id)  \(b.onText.padding(8)) \(b.description) (hit \(plural(b.hits, "time")))") }
        }
    }
}

struct Delete: ReplCommand {
    static let configuration = CommandConfiguration(abstract: "Delete breakpoint N.")

    @Argument(help: "The breakpoint's number (see 'breaks').")
    var id: Int

    mutating func run(in session: Session) throws {
        guard session.breakpoints.delete(id) else { throw ReplError("no breakpoint \(id)") }
        session.output.line("deleted breakpoint \(id)")
    }
}

struct Cancel: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel a task: it leaves its wait queue and resumes with CancellationError.")

    @Argument(help: ArgumentHelp("The task.", valueName: "task"))
    var task: TaskArgument

    mutating func run(in session: Session) throws {
        let info = try task.resolve(in: session)
        guard session.loop.cancel(info.id) else { throw ReplError("task \(info.id.rawValue) has already ended (\(info.state))") }
        session.output.line("task \(info.id.rawValue) (\(info.name)) cancelled → ready, to end at its next step")
    }
}

struct Reset: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Cancel everything, close every socket, stop the pools, and start a fresh loop.",
        discussion: """
            A fresh start: the new loop is at #0, on the real clock, with the fifo policy \
            and the real network (the poller and the session's settings stay). Its history, \
            its journal and the commands a fork re-runs begin with it: 'step back' reaches \
            #0 of the fresh loop and no further, 'journal save' writes only what followed \
            the last reset (so that 'corepl replay' replays it), and a session of \
            simulated parts after a reset forks in its past whatever ran before. 'history \
            off' and 'journal off' stay off, and 'history on --limit N' keeps its limit.
            """)

    mutating func run(in session: Session) throws {
        let counts = try session.resetLoop()
        session.output.line("reset: \(Session.summary(counts)); a fresh loop, paused at #0")
    }
}

struct Poller: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or switch the poller: epoll, poll, or select (the seed's; fds below 1024 only).")

    @Argument(help: "The backend.", completion: .list(Parse.list(PollerKind.self)), transform: Parse.choice("poller"))
    var kind: PollerKind?

    mutating func run(in session: Session) throws {
        if let kind { try session.loop.setPoller(kind) }
        session.output.line("poller \(session.loop.pollerKind)")
    }
}

struct Watch: ReplCommand {
    static let configuration = CommandConfiguration(abstract: "Print every step while running: watch on|off.")

    @Argument(help: "Whether to watch.", completion: .list(Parse.list(OnOff.self)), transform: Parse.choice("mode"))
    var mode: OnOff?

    mutating func run(in session: Session) throws {
        if let mode { session.watch = mode == .on }
        session.output.line("watch \(session.watch ? "on" : "off")")
    }
}
