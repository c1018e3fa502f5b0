// `expect …`: assertions that turn a session into a test. A failed expectation is a script
// error that says what was expected and what was found.
import ArgumentParser
import Runtime

struct Expect: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the loop's state; a script fails here if it does not hold.",
        discussion: """
            expect task TASK waiting [recv|send|future|sleep|yield|join|external|HOST_QUEUE]
            expect task TASK ready|running|waiting|done|failed|cancelled|finished
            expect task TASK FIGURE.STAT OP NUMBER   e.g. reqs_per_sec.min < 100, latency.median < 0.01
              STAT: count min max mean median p90 p99 first last sum; OP: < <= > >= == !=
            expect queue ready|recv_wait|send_wait|future_wait|timers|HOST_QUEUE [OP] N
            expect queue QUEUE contains TASK
            expect output contains TEXT
            """)

    @Argument(parsing: .captureForPassthrough, help: "What to check (see above).",
              completion: .list(["task", "queue", "output", "contains", "waiting", "ready", "running", "done", "failed",
                                 "cancelled", "finished", "recv_wait", "send_wait", "future_wait", "timers"]))
    var words: [String] = []

    mutating func run(in session: Session) throws {
        let w = words
        switch w.first {
        case "task"?: try expectTask(Array(w.dropFirst()), session)
        case "queue"?: try expectQueue(Array(w.dropFirst()), session)
        case "output"? where w.count >= 3 && w[1] == "contains":
            // The raw text after "output contains" (spacing and quotes survive).
            let text = Tokenizer.restText(of: Tokenizer.restText(of: session.current.rest))
            guard session.output.transcriptContains(text) else {
                throw ReplError("expected output containing '\(text)', found none; last lines: \(session.output.lastLines(3).map { "'\($0)'" }.joined(separator: ", "))")
            }
        default:
            throw ReplError("usage: expect task … | expect queue … | expect output contains TEXT (see 'help expect')")
        }
    }

    private func expectTask(_ w: [String], _ session: Session) throws {
        guard w.count >= 2 else { throw ReplError("usage: expect task TASK STATE | expect task TASK FIGURE.STAT OP NUMBER") }
        let info = try session.task(w[0])
        let label = "task \(info.id.rawValue)"
        let found = "found \(info.state)"
        if w[1].contains(".") {
            guard w.count == 4 else { throw ReplError("usage: expect task TASK FIGURE.STAT OP NUMBER") }
            let parts = w[1].split(separator: ".", maxSplits: 1).map(String.init)
            let (figure, stat) = (parts[0], parts[1])
            guard let values = info.figures[figure], !values.isEmpty else {
                let known = info.figures.keys.sorted()
                throw ReplError("\(label) has no '\(figure)' figures yet\(known.isEmpty ? "" : " (it has \(known.joined(separator: ", ")))")")
            }
            let value = try Expect.statistic(stat, of: values)
            guard let limit = Double(w[3]) else { throw ReplError("'\(w[3])' is not a number") }
            guard try Expect.compare(value, w[2], limit) else {
                throw ReplError("expected \(label) \(w[1]) \(w[2]) \(w[3]), found \(Views.fmt(value)) (over \(plural(values.count, "value")))")
            }
            return
        }
        let want = w[1]
        let holds: Bool
        switch want {
        case "waiting":
            if w.count == 3 {
                guard case .waiting(let wait) = info.state else { holds = false; break }
                holds = Expect.reasonName(wait.reason) == w[2]
            } else {
                holds = info.state.name == "waiting"
            }
        case "finished":
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

    private func expectQueue(_ w: [String], _ session: Session) throws {
        guard w.count >= 2 else { throw ReplError("usage: expect queue QUEUE [OP] N | expect queue QUEUE contains TASK") }
        let snap = session.loop.snapshot()
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
            guard !parked.isEmpty || session.knownQueues.contains(w[0]) else {
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
        let (op, number) = w.count == 3 ? (w[1], w[2]) : ("==", w[1])
        guard let n = Double(number) else { throw ReplError("'\(number)' is not a number") }
        guard try Expect.compare(Double(members.count), op, n) else {
            throw ReplError("expected \(w[0]) \(op == "==" ? "to hold" : op) \(number), found \(members.count) \(listed)")
        }
    }

    static func reasonName(_ r: WaitReason) -> String {
        switch r {
        case .recv: return "recv"
        case .send: return "send"
        case .future: return "future"
        case .sleep: return "sleep"
        case .yield: return "yield"
        case .join: return "join"
        case .external: return "external"
        case .custom(let queue, _): return queue
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
