// `expect …`: assertions that turn a session into a test. A failed expectation is a script
// error that says what was expected and what was found.
import ArgumentParser
import Insight
import Runtime
import TimeTravel

struct Expect: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the loop's state; a script fails here if it does not hold.",
        discussion: """
            expect task TASK waiting [recv|send|future|sleep|yield|join|external|HOST_QUEUE]
            expect task TASK ready|running|waiting|done|failed|cancelled|finished
            expect task TASK FIGURE.STAT OP NUMBER   e.g. reqs_per_sec.min < 100, latency.median < 0.01
            expect task TASK FIGURE.STAT OP [FACTOR *] TASK2 FIGURE.STAT
              e.g. expect task pair latency.median < 1.5 * solo latency.median
              STAT: count min max mean median p90 p99 first last sum; OP: < <= > >= == !=
            expect task TASK replies during TASK2 OP NUMBER | [FACTOR *] before
              TASK's replies from TASK2's first request out to its last reply in, against
              the same length of time just before ('during TASK2' shows both), e.g.
              expect task perf2 replies during long < 0.02 * before   (starved)
              expect task perf2 replies during long >= 0.1 * before  (kept being served)
              A comparison with 'before' needs replies before the window: with none, there
              is nothing to compare with, and the expectation fails saying so.
            expect queue ready|recv_wait|send_wait|future_wait|timers|HOST_QUEUE [OP] N
            expect queue QUEUE contains TASK
            expect output contains TEXT
              TEXT (as typed, spaces included) appears in a result line printed since the
              last 'reset': task output, command replies, warnings. Never in an echoed
              command line (--echo), an 'echo' narration or an error message.
            expect no lints                the monitor found nothing wrong with the program (see
                                           'lints'; 'descheduled', a busy machine, is not counted)
            expect lint KIND [TASK]        it found KIND (blocked-loop, late-wake, closed-fd,
                                           orphan-future, never-yields, deadlock), about TASK
            expect gil WHO FIGURE OP NUMBER | OP [FACTOR *] [WHO2] FIGURE
              the GIL's use since 'mark --gil' (or since it was made). WHO: loop, pool (every
              pool thread together), all (every thread) or one thread (pool-1); FIGURE: held,
              waited (seconds), waits (how many times it waited), e.g.
              expect gil all waited > 0.2 * pool held    (threads queueing for the lock)
              expect gil all waited < 0.05 * pool held   (one client: nobody to queue behind)
            """)

    @Argument(parsing: .captureForPassthrough, help: "What to check (see above).",
              completion: .list(["task", "queue", "output", "gil", "lint", "lints", "no", "held", "waited", "waits", "contains", "waiting", "ready", "running", "done", "failed",
                                 "cancelled", "finished", "recv_wait", "send_wait", "future_wait", "timers"]))
    var words: [String] = []

    mutating func run(in session: Session) throws {
        do {
            try check(in: session)
        } catch let e as ReplError {
            // Under a seeded policy, say how to get this very run again.
            guard case .random(let seed) = session.loop.policy else { throw e }
            var how = "policy random --seed \(seed)"
            if case .script(let file, _) = session.origin { how = "corepl --seed \(seed) \(file)" }
            throw ReplError("\(e.description)\n(under policy random --seed \(seed): reproduce with \(how))")
        }
    }

    private func check(in session: Session) throws {
        let w = words
        switch w.first {
        case "task"?: try expectTask(Array(w.dropFirst()), session)
        case "queue"?: try expectQueue(Array(w.dropFirst()), session)
        case "gil"?: try expectGIL(Array(w.dropFirst()), session)
        case "no"? where w == ["no", "lints"]:
            // `descheduled` is a fact about the machine (the loop thread waited for a CPU),
            // not about the program: a busy machine must not fail a script's checks.
            let lints = session.monitor.lints.filter { $0.kind != .descheduled }
            guard lints.isEmpty else {
                throw ReplError("expected no lints, found \(lints.count): \(lints.map(\.line).joined(separator: "; "))")
            }
        case "lint"?:
            try expectLint(Array(w.dropFirst()), session)
        case "output"? where w.count >= 3 && w[1] == "contains":
            // The raw text after "output contains" (spacing and quotes survive).
            let text = Tokenizer.restText(of: Tokenizer.restText(of: session.current.rest))
            guard session.output.transcriptContains(text) else {
                let last = session.output.lastLines(3)
                let found = last.isEmpty ? "no result line at all since the session began or its last reset"
                    : "none; last lines: \(last.map { "'\($0)'" }.joined(separator: ", "))"
                throw ReplError("expected output containing '\(text)', found \(found)")
            }
        default:
            throw ReplError("usage: expect task … | expect queue … | expect output contains TEXT | expect no lints | expect lint KIND [TASK] | expect gil … (see 'help expect')")
        }
    }

    private func expectTask(_ w: [String], _ session: Session) throws {
        guard w.count >= 2 else { throw ReplError("usage: expect task TASK STATE | expect task TASK FIGURE.STAT OP NUMBER") }
        let info = try session.task(w[0])
        let label = "task \(info.id.rawValue)"
        let found = "found \(info.state)"
        if w[1] == "replies" {
            try expectReplies(info, Array(w.dropFirst(2)), session)
            return
        }
        if w[1].contains(".") {
            let usage = "usage: expect task TASK FIGURE.STAT OP NUMBER | OP [FACTOR *] TASK2 FIGURE.STAT"
            guard w.count >= 4 else { throw ReplError(usage) }
            let (value, count) = try Expect.figure(w[1], of: info)
            let rhs = try Expect.factored(Array(w.dropFirst(3)))
            let limit: Double
            var detail = ""
            switch rhs.rest.count {
            case 0 where rhs.factor == nil:
                throw ReplError(usage)
            case 0:
                limit = rhs.factor!
            case 2:
                let other = try session.task(rhs.rest[0])
                let (otherValue, _) = try Expect.figure(rhs.rest[1], of: other)
                limit = (rhs.factor ?? 1) * otherValue
                detail = "; task \(other.id.rawValue) \(rhs.rest[1]) is \(Views.fmt(otherValue))"
            default:
                throw ReplError(usage)
            }
            guard try Expect.compare(value, w[2], limit) else {
                throw ReplError("expected \(label) \(w[1]) \(w[2]) \(w.dropFirst(3).joined(separator: " ")), found \(Views.fmt(value)) (over \(plural(count, "value"))\(detail))")
            }
            return
        }
        let want = w[1]
        let holds: Bool
        switch want {
        case "waiting":
            guard w.count <= 3 else { throw ReplError("usage: expect task TASK waiting [REASON] (one reason: recv, send, future, sleep, yield, join, external or a host queue)") }
            if w.count == 3 {
                guard case .waiting(let wait) = info.state else { holds = false; break }
                holds = wait.reason.kind == w[2]
            } else {
                holds = info.state.name == "waiting"
            }
        case "finished":
            guard w.count == 2 else { throw ReplError("usage: expect task TASK finished") }
            holds = info.state.isFinished
        case "ready", "running", "done", "failed", "cancelled":
            guard w.count == 2 else { throw ReplError("usage: expect task TASK \(want)") }
            holds = info.state.name == want
        default:
            throw ReplError("no state '\(want)'; use ready, running, waiting [REASON], done, failed, cancelled or finished")
        }
        guard holds else {
            throw ReplError("expected \(label) \(w.dropFirst().joined(separator: " ")), \(found)")
        }
    }

    /// `expect task T replies during T2 OP (NUMBER | [FACTOR *] before)`.
    private func expectReplies(_ info: TaskInfo, _ w: [String], _ session: Session) throws {
        let usage = "usage: expect task TASK replies during TASK2 OP NUMBER | OP [FACTOR *] before"
        guard w.count >= 3, w[0] == "during" else { throw ReplError(usage) }
        let subject = try session.task(w[1])
        let window = try InFlightWindow(of: subject, in: session)
        if let gone = window.endedBefore(info) { throw ReplError(window.endedLine(info, gone)) }
        let (during, before, _) = window.replies(of: info, in: session)
        let rhs = try Expect.factored(Array(w.dropFirst(3)))
        let limit: Double
        switch rhs.rest {
        case ["before"]:
            // Nothing before the window: every comparison with it would hold or fail for
            // no reason worth a test (during >= 0 * 0).
            guard before > 0 else {
                throw ReplError("no replies before task \(subject.id.rawValue)'s requests: task \(info.id.rawValue) had none in "
                    + "the \(formatSeconds(window.seconds)) s before them, so there is nothing to compare with "
                    + "(it got \(during) during them)")
            }
            limit = (rhs.factor ?? 1) * before
        case [] where rhs.factor != nil: limit = rhs.factor!
        default: throw ReplError(usage)
        }
        guard try Expect.compare(Double(during), w[2], limit) else {
            throw ReplError("expected task \(info.id.rawValue) replies during task \(subject.id.rawValue) \(w[2]) "
                + "\(w.dropFirst(3).joined(separator: " ")), found \(during) in \(formatSeconds(window.seconds)) s "
                + "(\(Views.fmt(before.rounded())) in the same time before)")
        }
    }

    /// A task's `FIGURE.STAT`, and how many values it is over.
    static func figure(_ text: String, of info: TaskInfo) throws -> (Double, Int) {
        let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw ReplError("'\(text)' is not FIGURE.STAT (e.g. latency.median)") }
        let (figure, stat) = (parts[0], parts[1])
        guard let values = info.figures[figure], !values.isEmpty else {
            let known = info.figures.keys.sorted()
            throw ReplError("task \(info.id.rawValue) has no '\(figure)' figures yet\(known.isEmpty ? "" : " (it has \(known.joined(separator: ", ")))")")
        }
        return (try statistic(stat, of: values), values.count)
    }

    /// `[FACTOR *] REST...` (also written `0.5*before`): the factor, if any, and the rest.
    /// A lone number comes back as the factor with nothing after it.
    static func factored(_ words: [String]) throws -> (factor: Double?, rest: [String]) {
        let parts = words.joined(separator: " ").split(separator: "*", maxSplits: 1, omittingEmptySubsequences: false)
        let head = parts[0].split(separator: " ").map(String.init)
        if parts.count == 2 {
            guard head.count == 1, let factor = Double(head[0]) else {
                throw ReplError("expected a number before '*', got '\(String(parts[0]).trimmingWhitespace())'")
            }
            let rest = parts[1].split(separator: " ").map(String.init)
            guard !rest.isEmpty else { throw ReplError("expected something after '\(head[0]) *' to multiply") }
            return (factor, rest)
        }
        if head.count == 1, let n = Double(head[0]) { return (n, []) }
        return (nil, head)
    }

    /// `expect lint KIND [TASK]`.
    private func expectLint(_ w: [String], _ session: Session) throws {
        guard (1...2).contains(w.count) else { throw ReplError("usage: expect lint KIND [TASK]") }
        guard let kind = LintKind(rawValue: w[0]) else {
            throw ReplError("no lint '\(w[0])'; use \(LintKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let task = try w.count == 2 ? session.task(w[1]).id : nil
        let lints = session.monitor.lints
        guard lints.contains(where: { $0.kind == kind && (task == nil || $0.task == task) }) else {
            let found = lints.isEmpty ? "none" : lints.map(\.line).joined(separator: "; ")
            throw ReplError("expected lint \(kind.rawValue)\(task.map { " about task \($0.rawValue)" } ?? ""), found \(found)")
        }
    }

    /// `expect gil WHO FIGURE OP NUMBER | OP [FACTOR *] [WHO2] FIGURE`.
    private func expectGIL(_ w: [String], _ session: Session) throws {
        let usage = "usage: expect gil WHO FIGURE OP NUMBER | OP [FACTOR *] [WHO2] FIGURE (WHO: loop, pool, all, pool-1…; FIGURE: held, waited, waits)"
        guard w.count >= 4 else { throw ReplError(usage) }
        guard let (gil, marked) = session.gilSinceMark() else {
            throw ReplError("no GIL: no pool computes under one (start one with 'pool thread:4 --gil' or 'spawn server --gil')")
        }
        let value = try Expect.gilFigure(w[0], w[1], gil)
        let rhs = try Expect.factored(Array(w.dropFirst(3)))
        let limit: Double
        var detail = ""
        switch rhs.rest.count {
        case 0 where rhs.factor != nil:
            limit = rhs.factor!
        case 1, 2:
            let (who, figure) = rhs.rest.count == 2 ? (rhs.rest[0], rhs.rest[1]) : (w[0], rhs.rest[0])
            let other = try Expect.gilFigure(who, figure, gil)
            limit = (rhs.factor ?? 1) * other
            detail = "; \(who) \(figure) \(Self.gilText(other, figure))"
        default:
            throw ReplError(usage)
        }
        guard try Expect.compare(value, w[2], limit) else {
            throw ReplError("expected gil \(w.joined(separator: " ")), found \(Self.gilText(value, w[1]))\(detail) "
                + "(\(marked ? "since mark --gil" : "since the GIL was made"))")
        }
    }

    /// One figure of the GIL's use: seconds held or waited, or how many waits, by `who`
    /// (`loop`, `pool` for every pool thread together, or one thread's name).
    static func gilFigure(_ who: String, _ figure: String, _ gil: GILSnapshot) throws -> Double {
        let parties: [GILSnapshot.Waits]
        switch who {
        case "pool": parties = gil.waits.filter { $0.name.hasPrefix("pool-") }
        case "loop": parties = gil.waits.filter { $0.name == "loop" }
        case "all": parties = gil.waits
        default:
            parties = gil.waits.filter { $0.name == who }
            guard !parties.isEmpty else {
                let known = ["loop", "pool", "all"] + gil.waits.map(\.name).filter { $0 != "loop" }
                throw ReplError("no thread '\(who)' has used the GIL; use \(known.joined(separator: ", "))")
            }
        }
        switch figure {
        case "held": return Double(parties.reduce(0) { $0 + $1.heldNanos }) / 1e9
        case "waited": return Double(parties.reduce(0) { $0 + $1.nanos }) / 1e9
        case "waits": return Double(parties.reduce(0) { $0 + $1.count })
        default: throw ReplError("no GIL figure '\(figure)'; use held, waited or waits")
        }
    }

    private static func gilText(_ value: Double, _ figure: String) -> String {
        figure == "waits" ? Views.fmt(value) : "\(Views.fmt(value)) s"
    }

    private func expectQueue(_ w: [String], _ session: Session) throws {
        guard w.count >= 2 else { throw ReplError("usage: expect queue QUEUE [OP] N | expect queue QUEUE contains TASK") }
        let snap = session.viewSnapshot()
        let members: [TaskID]
        switch w[0] {
        case "ready": members = snap.ready
        case "recv_wait": members = snap.recvWait.map(\.task)
        case "send_wait": members = snap.sendWait.map(\.task)
        case "future_wait": members = snap.futureWait.map(\.task)
        case "timers": members = snap.timers.map(\.task)
        default:
            // A host's own wait queue (see EventLoop.park).
            let parked = snap.parked.filter { $0.queue == w[0] }
            let known = Set(snap.parked.map(\.queue)).sorted()
            guard !parked.isEmpty || session.extensions.contains(where: { $0.waitQueues.contains(w[0]) }) else {
                throw ReplError("no queue '\(w[0])'; use ready, recv_wait, send_wait, future_wait, timers\(known.isEmpty ? "" : " or " + known.joined(separator: ", "))")
            }
            members = parked.map(\.task)
        }
        let listed = "[\(members.map { String($0.rawValue) }.joined(separator: ", "))]"
        if w[1] == "contains" {
            guard w.count == 3 else { throw ReplError("usage: expect queue QUEUE contains TASK") }
            let t = try session.task(w[2])
            guard members.contains(t.id) else {
                throw ReplError("expected \(w[0]) to contain task \(t.id.rawValue), found \(listed)")
            }
            return
        }
        guard w.count <= 3 else { throw ReplError("usage: expect queue QUEUE [OP] N | expect queue QUEUE contains TASK") }
        let (op, number) = w.count == 3 ? (w[1], w[2]) : ("==", w[1])
        guard let n = Double(number) else { throw ReplError("'\(number)' is not a number") }
        guard try Expect.compare(Double(members.count), op, n) else {
            throw ReplError("expected \(w[0]) \(op == "==" ? "to hold" : op) \(number), found \(members.count) \(listed)")
        }
    }

    static func statistic(_ name: String, of values: [Double]) throws -> Double {
        let s = Stats(values)
        switch name {
        case "count": return s.count
        case "min": return s.min
        case "max": return s.max
        case "mean", "avg": return s.mean
        case "median", "p50": return s.median
        case "p90": return s.percentile(90)
        case "p99": return s.percentile(99)
        case "first": return values.first ?? 0
        case "last": return values.last ?? 0
        case "sum": return s.sum
        default: throw ReplError("no statistic '\(name)'; use count, min, max, mean, median, p90, p99, first, last or sum")
        }
    }

    static func compare(_ a: Double, _ op: String, _ b: Double) throws -> Bool {
        switch op {
        case "<": return a < b
        case "<=": return a <= b
        case ">": return a > b
        case ">=": return a >= b
        case "==", "=": return a == b
        case "!=": return a != b
        default: throw ReplError("no comparison '\(op)'; use <, <=, >, >=, == or !=")
        }
    }
}
