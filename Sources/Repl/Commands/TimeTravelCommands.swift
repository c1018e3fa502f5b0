// Time travel at the prompt (docs/TIME-TRAVEL.md): `policy` chooses how a step picks the
// next task; the history the session keeps from its start lets `step back`, `goto` and
// `step` move through past steps, where `tasks`, `queues`, `show` and `expect` read the
// state of that step and anything that would change the loop is refused.
import ArgumentParser
import Runtime
import TimeTravel

extension Session {
    /// The most steps the history keeps by default.
    public static let defaultHistoryLimit = 100_000

    /// The state the views show: the step the session is at in the past, or the live loop.
    public func viewSnapshot() -> LoopSnapshot {
        if let k = pastStep, let snap = loop.snapshot(atStep: k) { return snap }
        return loop.snapshot()
    }

    /// Whether the views show a past step.
    public var isInThePast: Bool { pastStep != nil }

    /// Refuses a command that would change the loop while the session is in the past (one
    /// whose traits do not allow it there) — unless the session can be re-run exactly to
    /// that step (a session of simulated parts only), in which case it forks a new timeline
    /// there and lets the command run.
    func refuseInThePast(_ entry: CommandRegistry.Entry, _ command: any ReplCommand, as name: String) throws {
        guard let k = pastStep, !entry.traits.allowedInPast else { return }
        let now = loop.stepCount
        let head = "at #\(k), \(plural(Int(now - k), "step")) in the past: '\(name)' would change the loop"
        let back = "'goto now' returns to the present (#\(now))"
        guard entry.traits.changesOnlySimulatedParts(command, netSimulated: commandLog.netSimulated(before: k)) else {
            throw ReplError("\(head), and the past cannot be changed with it (\(registry.forkingSummary())); \(back)")
        }
        if let why = commandLog.whyNotForkable(upTo: k) {
            throw ReplError("\(head), and the past cannot be changed: \(why); \(back)")
        }
        try fork(at: k, head: head, back: back)
    }

    /// Re-runs the session to step `k` on a fresh loop — every command where it ran, every
    /// step with the clock readings it had — checks the state is the one the history shows,
    /// and goes on from there: a new timeline. The old one's later steps are gone.
    func fork(at k: UInt64, head: String, back: String) throws {
        guard let target = loop.snapshot(atStep: k) else { throw ReplError("\(head); #\(k) is not kept; \(back)") }
        let journal: Journal
        do {
            journal = try self.journal()
        } catch {
            throw ReplError("\(head), and the past cannot be re-run: \(error); \(back)")
        }
        let old = loop
        let fresh = try EventLoop(poller: old.pollerKind)
        fresh.finishedTaskLimit = old.finishedTaskLimit
        fresh.defaultPollTimeout = old.defaultPollTimeout
        let savedLog = commandLog, savedRecorded = recorded
        // Every command's output was seen when it first ran: the re-run prints nothing.
        let (failure, commands) = output.muting {
            setLoop(fresh)
            pastStep = nil
            defer {
                setLoop(old)
                pastStep = k
                commandLog = savedLog
                recorded = savedRecorded
            }
            fresh.startHistory(limit: Session.defaultHistoryLimit)
            return rerun(journal, through: k)
        }
        if let failure {
            discard(fresh)
            throw ReplError("\(head), and re-running the session to #\(k) \(failure); \(back)")
        }
        guard let rebuilt = fresh.snapshot(atStep: k), Self.sameState(rebuilt, target) else {
            discard(fresh)
            throw ReplError("\(head), and re-running the session to #\(k) did not give the state the history shows (it is not a pure function of its commands); \(back)")
        }
        commandLog.entries.removeAll { $0.step >= k }
        // `save` writes what leads here: the commands, with the steps between them.
        var script: [String] = []
        var at: UInt64 = 0
        for e in commandLog.entries {
            if e.step > at { script.append("step \(e.step - at)"); at = e.step }
            script.append(e.text)
        }
        if k > at { script.append("step \(k - at)") }
        recorded = script
        let oldEnd = old.stepCount
        replaceLoop(with: fresh)
        pastStep = nil
        output.line("forked a new timeline at #\(k) (re-ran \(plural(Int(k), "step")) and \(plural(commands, "command")); the old one went on to #\(oldEnd))")
    }

    private func discard(_ fresh: EventLoop) {
        for t in fresh.snapshot().tasks where !t.state.isFinished { fresh.cancel(t.id) }
        fresh.run(until: .deadline(fresh.now() &+ 1_000_000_000), pollTimeout: .milliseconds(5))
    }

    static func sameState(_ a: LoopSnapshot, _ b: LoopSnapshot) -> Bool {
        guard let x = try? JSONViews.encode(a), let y = try? JSONViews.encode(b),
              let tx = try? JSONViews.encode(a.tasks), let ty = try? JSONViews.encode(b.tasks) else { return false }
        return x == y && tx == ty
    }

    /// Moves the views to step `k` (the present when `k` is the newest step or later) and
    /// prints where they are.
    func travel(to k: UInt64) {
        let now = loop.stepCount
        if k >= now {
            pastStep = nil
            output.line("the present: #\(now)")
            return
        }
        pastStep = k
        output.line(describePast(k))
    }

    /// `#41 (3 steps back of #44): task 2 (writer) ran → waits send fd 8 (send)`
    func describePast(_ k: UInt64) -> String {
        let now = loop.stepCount
        let head = "#\(k) (\(plural(Int(now - k), "step")) back of #\(now))"
        guard k > 0 else { return "\(head): before the first step" }
        guard let snap = loop.snapshot(atStep: k) else { return "\(head): not kept" }
        guard let id = loop.historyTask(ofStep: k) else { return "\(head): a poll (or idle) step" }
        guard let t = snap.task(id) else { return "\(head): task \(id.rawValue) ran" }
        let after: String
        switch t.state {
        case .waiting: after = "waits " + Views.waitingOn(t)
        case .ready: after = "back to ready"
        default: after = t.state.name
        }
        return "\(head): task \(id.rawValue) (\(t.name)) ran → \(after)"
    }

    /// What the history holds, in a line.
    func historyLine() -> String {
        guard let s = loop.historyStatus else { return "history: off ('history on' keeps it from now on)" }
        let mb = Double(s.estimatedBytes) / 1e6
        return "history: #\(s.oldestStep)–#\(s.newestStep) kept (\(plural(s.stepsKept, "step")) of at most \(s.limit)), "
            + "\(plural(s.keyframes, "keyframe")), about \(Views.round1(mb)) MB"
    }
}

struct PolicyCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "How a step chooses the ready task: fifo (the seed's, default), lifo, or random [--seed N].",
        discussion: """
            Only the choice of the task a step runs changes: the ready queue keeps its order, \
            the waits and the poll are as before. 'random' draws from the whole ready queue \
            with a seeded generator: one seed, one sequence of choices. Without --seed a seed \
            is drawn from the clock and printed. With no argument: the policy now. \
            'corepl --seed N FILE' runs a script under 'random --seed N'; \
            'corepl --seeds 1-100 FILE' runs it once per seed and lists the seeds it fails with.
            """)

    @Argument(help: ArgumentHelp("fifo, lifo or random.", valueName: "policy"),
              completion: .list(["fifo", "lifo", "random"]))
    var kind: String?

    @Option(help: "The seed of 'random' (0 to 2^64-1).")
    var seed: UInt64?

    mutating func run(in session: Session) throws {
        guard let kind else { return session.output.line("policy \(session.loop.policy)") }
        let policy: SchedulingPolicy
        switch kind {
        case "fifo", "lifo":
            guard seed == nil else { throw ReplError("--seed goes with 'policy random'") }
            policy = kind == "fifo" ? .fifo : .lifo
        case "random":
            let s = seed ?? (monotonicNanos() % 1_000_000)
            policy = .random(seed: s)
            if seed == nil {
                session.loop.policy = policy
                return session.output.line("policy random --seed \(s) (drawn from the clock; 'policy random --seed \(s)' repeats it)")
            }
        default:
            throw ReplError("no policy '\(kind)'; use fifo, lifo or random [--seed N]")
        }
        session.loop.policy = policy
        session.output.line("policy \(policy)")
    }
}

struct HistoryCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "The history of the loop's state that 'step back' and 'goto' show: history [on [--limit N] | off].",
        discussion: """
            Every session keeps it from its start (at most \(Session.defaultHistoryLimit) steps; \
            the oldest go a keyframe's segment at a time). It records what each step changed \
            (the rows it touched, what it put in the ready queue), not a way to run the past \
            again. 'history off' forgets it and stops keeping it; 'history on' starts afresh. \
            It costs: a free-running loop steps about 2x slower with it, a loaded server \
            serves about a fifth fewer requests — turn it off for measuring sessions.
            """)

    @Argument(help: ArgumentHelp("on or off; none: what it holds.", valueName: "on|off"),
              completion: .list(["on", "off"]))
    var mode: String?

    @Option(help: "The most steps to keep (with 'on').")
    var limit: Int?

    mutating func run(in session: Session) throws {
        switch mode {
        case nil:
            guard limit == nil else { throw ReplError("--limit goes with 'history on'") }
        case "on"?:
            let n = limit ?? Session.defaultHistoryLimit
            guard (1...100_000_000).contains(n) else { throw ReplError("--limit takes 1 to 100000000 steps, got \(n)") }
            session.pastStep = nil
            session.loop.startHistory(limit: n)
        case "off"?:
            guard limit == nil else { throw ReplError("--limit goes with 'history on'") }
            session.pastStep = nil
            session.loop.stopHistory()
        case let other?:
            throw ReplError("history takes on or off, not '\(other)'")
        }
        session.output.line(session.historyLine())
    }
}

struct Goto: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the loop as it was after step #K ('goto now': the present).",
        discussion: """
            In the past, tasks, queues, show and expect read the state of that step (as \
            --json too); 'step' moves forward one recorded step, 'step back' one back. \
            Nothing that changes the loop runs there. Rows that packs add to the views \
            (pools) and lints are of the present and are left out.
            """)

    @Argument(help: ArgumentHelp("#K or K (a step number), or now.", valueName: "step"))
    var target: String

    mutating func run(in session: Session) throws {
        if target == "now" || target == "present" {
            return session.travel(to: session.loop.stepCount)
        }
        let digits = target.hasPrefix("#") ? String(target.dropFirst()) : target
        guard let k = UInt64(digits) else { throw ReplError("goto takes a step (#K or K) or 'now', not '\(target)'") }
        guard let status = session.loop.historyStatus else {
            throw ReplError("no history is kept ('history on' keeps it from now on)")
        }
        guard k <= session.loop.stepCount else {
            throw ReplError("#\(k) has not happened: the present is #\(session.loop.stepCount) ('step' or 'run' go on)")
        }
        guard k >= status.oldestStep else {
            throw ReplError("#\(k) is older than the history keeps: it begins at #\(status.oldestStep)")
        }
        session.travel(to: k)
    }
}

extension Step {
    /// `step back [N]`, or `step [N]` while in the past: moves through recorded steps.
    static func travel(_ session: Session, back: Bool, count: Int) throws {
        let now = session.loop.stepCount
        let at = session.pastStep ?? now
        guard let status = session.loop.historyStatus else {
            throw ReplError("no history is kept ('history on' keeps it from now on)")
        }
        if back {
            guard at > status.oldestStep else {
                throw ReplError("#\(at) is the oldest step the history keeps")
            }
            let k = at - min(UInt64(count), at - status.oldestStep)
            session.travel(to: k)
            return
        }
        for i in 0..<count {
            let k = at + UInt64(i) + 1
            if k >= now {
                session.travel(to: now)
                return
            }
            session.pastStep = k
            session.output.line(session.describePast(k))
        }
    }
}

struct ClockCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "clock",
        abstract: "The loop's clock: real (the default) or virtual [--step-cost DURATION].",
        discussion: """
            On the virtual clock every time the loop uses or shows — timers, sleep, \
            'run 2s', busy time, ages, waits, perf clients' figures, traces — reads the \
            loop's own clock. It advances by the step cost (default 10us) for every task \
            step, and when the loop would otherwise wait with nothing in flight on other \
            threads, it jumps straight to the next deadline (a sleeper's, or the end of \
            'run 2s'). So 'run 10s' with sleepers takes no real time, and a session of \
            tasks that only compute, yield, sleep and join shows the same times on every \
            run. Pool work takes a modelled time (the fib server's: 'pool --virtual-fib30'), \
            delivered in order of that time however long the real work takes, so sessions \
            with pools run the same way every time too. 'clock real' goes on from the \
            virtual time reached.
            """)

    @Argument(help: ArgumentHelp("real or virtual; none: the clock now.", valueName: "real|virtual"),
              completion: .list(["real", "virtual"]))
    var kind: String?

    @Option(help: ArgumentHelp("What a task step costs on the virtual clock (default 10us).", valueName: "duration"),
            transform: Parse.duration)
    var stepCost: Duration?

    mutating func run(in session: Session) throws {
        let loop = session.loop
        switch kind {
        case nil:
            guard stepCost == nil else { throw ReplError("--step-cost goes with 'clock virtual'") }
        case "real"?:
            guard stepCost == nil else { throw ReplError("--step-cost goes with 'clock virtual'") }
            loop.clock = .real
        case "virtual"?:
            if let stepCost {
                guard stepCost >= .zero && stepCost <= .seconds(10) else {
                    throw ReplError("--step-cost takes 0 to 10s, got \(DurationText.format(stepCost))")
                }
                loop.virtualStepCost = stepCost
            }
            loop.clock = .virtual
        case let other?:
            throw ReplError("no clock '\(other)'; use real or virtual")
        }
        session.output.line(Self.describe(loop))
    }

    static func describe(_ loop: EventLoop) -> String {
        if loop.clock == .virtual {
            return "clock virtual (a task step costs \(DurationText.format(loop.virtualStepCost)); idle waits jump ahead)"
        }
        let skipped = loop.clockSkippedNanos
        return skipped > 1_000_000 ? "clock real (\(DurationText.format(.nanoseconds(Int64(skipped)))) ahead of the process's, from virtual time)" : "clock real"
    }
}

/// What time travel adds to `queues` (the clock when virtual, the policy when not FIFO, the
/// simulated network once used): a built-in feature, through the hook packs use.
final class TimeTravelRows: SessionExtension {
    func queueRows(_ snapshot: LoopSnapshot, in session: Session) -> [(name: String, value: String)] {
        let loop = session.loop
        var rows: [(name: String, value: String)] = []
        if loop.clock == .virtual { rows.append(("clock", "virtual")) }
        if loop.policy != .fifo { rows.append(("policy", loop.policy.description)) }
        if let net = loop.networkSummary { rows.append(("net", net)) }
        return rows
    }
}

