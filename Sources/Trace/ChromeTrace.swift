// A recording as a Chrome trace-event JSON document, which ui.perfetto.dev and
// chrome://tracing open: `{"traceEvents": [...]}` with
// - process 1 "loop": track 0 for polls, one track per task (named by `thread_name`
//   metadata: "task 3: handler 127.0.0.1:5555 (handler)");
// - process 2 "pools": one track per pool worker;
// - a complete event ("X", ts/dur in µs) per step and per piece of pool work;
// - an instant ("i") per poll with the fds that woke and how long it blocked, and one per
//   fault of the simulated network (a lost segment, a reset) on the poll track;
// - flows ("s" then "f", one id): a wake to the step it caused, a submission to the work,
//   the work's completion to the wake. Only flows whose both ends were kept are written.
// Written by hand (no Foundation encoder): it is one pass over the ring, and the key order
// stays readable.
import Runtime

/// Chrome trace-event JSON from a `TraceRecorder`.
public enum ChromeTrace {
    static let loopPid = 1
    static let poolPid = 2
    static let pollTid = 0

    /// The whole document.
    public static func json(of recorder: TraceRecorder) -> String {
        var w = JSONWriter()
        let origin = recorder.origin
        func us(_ t: UInt64) -> String { micros(t, from: origin) }
        func dur(_ a: UInt64, _ b: UInt64) -> String { micros(b >= a ? b - a : 0, from: 0) }

        // Which flow ids have both ends kept.
        var starts = Set<UInt64>(), ends = Set<UInt64>()
        for e in recorder.events {
            switch e {
            case .step(let s):
                for f in s.flowsOut { starts.insert(f.id) }
                for f in s.flowsIn { ends.insert(f.id) }
            case .poll(let p):
                for f in p.flowsOut { starts.insert(f.id) }
                for f in p.flowsIn { ends.insert(f.id) }
            case .work(let k):
                if let f = k.flowOut { starts.insert(f.id) }
                if let f = k.flowIn { ends.insert(f.id) }
            case .net:
                break
            }
        }
        let complete = starts.intersection(ends)

        w.raw("{\"displayTimeUnit\":\"ms\",\"otherData\":{")
        w.raw("\"producer\":\"corepl\",\"events_kept\":\(recorder.events.count),")
        w.raw("\"dropped_events\":\(recorder.dropped),\"limit\":\(recorder.limit),")
        w.raw("\"note\":")
        w.string(recorder.dropped == 0 ? "every event since 'trace record' is here"
                 : "the oldest \(recorder.dropped) events were dropped to keep the last \(recorder.limit)")
        w.raw("},\n\"traceEvents\":[\n")

        // Tracks.
        w.event(["\"ph\":\"M\"", "\"name\":\"process_name\"", "\"pid\":\(loopPid)", "\"args\":{\"name\":\"loop\"}"])
        w.event(["\"ph\":\"M\"", "\"name\":\"process_sort_index\"", "\"pid\":\(loopPid)", "\"args\":{\"sort_index\":1}"])
        w.event(["\"ph\":\"M\"", "\"name\":\"thread_name\"", "\"pid\":\(loopPid)", "\"tid\":\(pollTid)",
                 "\"args\":{\"name\":\"poll (the loop's select)\"}"])
        for t in recorder.tasks.values.sorted(by: { $0.id.rawValue < $1.id.rawValue }) {
            w.event(["\"ph\":\"M\"", "\"name\":\"thread_name\"", "\"pid\":\(loopPid)", "\"tid\":\(t.id.rawValue)",
                     "\"args\":{\"name\":\(JSONWriter.quoted("task \(t.id.rawValue): \(t.name) (\(t.kind))")),"
                        + "\"id\":\(t.id.rawValue),\"task\":\(JSONWriter.quoted(t.name)),\"kind\":\(JSONWriter.quoted(t.kind))}"])
            w.event(["\"ph\":\"M\"", "\"name\":\"thread_sort_index\"", "\"pid\":\(loopPid)", "\"tid\":\(t.id.rawValue)",
                     "\"args\":{\"sort_index\":\(t.id.rawValue)}"])
        }
        if !recorder.workers.isEmpty {
            w.event(["\"ph\":\"M\"", "\"name\":\"process_name\"", "\"pid\":\(poolPid)", "\"args\":{\"name\":\"pools\"}"])
            w.event(["\"ph\":\"M\"", "\"name\":\"process_sort_index\"", "\"pid\":\(poolPid)", "\"args\":{\"sort_index\":2}"])
            let order = recorder.workers.indices.sorted {
                (recorder.workers[$0].pool, recorder.workers[$0].worker) < (recorder.workers[$1].pool, recorder.workers[$1].worker)
            }
            for (rank, i) in order.enumerated() {
                w.event(["\"ph\":\"M\"", "\"name\":\"thread_name\"", "\"pid\":\(poolPid)", "\"tid\":\(i + 1)",
                         "\"args\":{\"name\":\(JSONWriter.quoted(recorder.workers[i].name))}"])
                w.event(["\"ph\":\"M\"", "\"name\":\"thread_sort_index\"", "\"pid\":\(poolPid)", "\"tid\":\(i + 1)",
                         "\"args\":{\"sort_index\":\(rank + 1)}"])
            }
        }

        func inside(_ f: Flow, _ start: UInt64, _ end: UInt64) -> Flow {
            var g = f
            g.at = min(max(f.at, start) + 1, max(end, start))
            return g
        }
        func flow(_ f: Flow, phase: String, pid: Int, tid: Int) {
            guard complete.contains(f.id) else { return }
            var fields = ["\"ph\":\"\(phase)\"", "\"name\":\"\(f.kind.rawValue)\"", "\"cat\":\"flow\"", "\"id\":\(f.id)",
                          "\"pid\":\(pid)", "\"tid\":\(tid)", "\"ts\":\(us(f.at))"]
            if phase == "f" { fields.append("\"bp\":\"e\"") }
            w.event(fields)
        }

        for e in recorder.events {
            switch e {
            case .step(let s):
                var args = ["\"step\":\(s.number)"]
                args.append("\"resumed_from\":" + (s.resumedFrom.map { JSONWriter.quoted($0.text) } ?? "\"(started)\""))
                if let err = s.resumedWithError { args.append("\"resumed_with\":\(JSONWriter.quoted(err))") }
                let name: String
                switch s.outcome {
                case .waits(let wait):
                    args.append("\"suspended_on\":\(JSONWriter.quoted(wait.text))")
                    if !wait.location.isEmpty { args.append("\"where\":\(JSONWriter.quoted(wait.location))") }
                    name = "\(s.resumedFrom?.kind ?? "start") → \(wait.kind)"
                case .exited(let how):
                    args.append("\"exited\":\(JSONWriter.quoted(how))")
                    name = "\(s.resumedFrom?.kind ?? "start") → \(how)"
                }
                w.event(["\"ph\":\"X\"", "\"name\":\(JSONWriter.quoted(name))", "\"cat\":\"step\"",
                         "\"pid\":\(loopPid)", "\"tid\":\(s.task.rawValue)", "\"ts\":\(us(s.start))",
                         "\"dur\":\(dur(s.start, s.end))", "\"args\":{\(args.joined(separator: ","))}"])
                // An "f" binds to the slice around it: a hair after the slice's start.
                for f in s.flowsIn { flow(inside(f, s.start, s.end), phase: "f", pid: loopPid, tid: s.task.rawValue) }
                for f in s.flowsOut { flow(f, phase: "s", pid: loopPid, tid: s.task.rawValue) }
            case .poll(let p):
                let woke = p.wakes.map { "\($0.cause) → task \($0.task.rawValue)" }
                var args = ["\"step\":\(p.number)", "\"blocked_us\":\(dur(0, p.blockedNanos))",
                            "\"woke\":[\(woke.map(JSONWriter.quoted).joined(separator: ","))]"]
                if let note = p.note { args.append("\"note\":\(JSONWriter.quoted(note))") }
                w.event(["\"ph\":\"X\"", "\"name\":\"\(p.wakes.isEmpty ? "poll (idle)" : "poll")\"", "\"cat\":\"poll\"",
                         "\"pid\":\(loopPid)", "\"tid\":\(pollTid)", "\"ts\":\(us(p.start))",
                         "\"dur\":\(dur(p.start, p.end))", "\"args\":{\(args.joined(separator: ","))}"])
                let fds = p.fds.map { String($0) }.joined(separator: ",")
                w.event(["\"ph\":\"i\"", "\"s\":\"t\"",
                         "\"name\":\(JSONWriter.quoted(p.wakes.isEmpty ? "woke nothing" : "woke " + woke.joined(separator: ", ")))",
                         "\"cat\":\"poll\"", "\"pid\":\(loopPid)", "\"tid\":\(pollTid)", "\"ts\":\(us(p.end))",
                         "\"args\":{\"fds\":[\(fds)],\"blocked_us\":\(dur(0, p.blockedNanos)),\"tasks_woken\":\(p.wakes.count)}"])
                for f in p.flowsIn { flow(f, phase: "f", pid: loopPid, tid: pollTid) }
                for f in p.flowsOut { flow(f, phase: "s", pid: loopPid, tid: pollTid) }
            case .work(let k):
                w.event(["\"ph\":\"X\"", "\"name\":\(JSONWriter.quoted(k.label))", "\"cat\":\"pool\"",
                         "\"pid\":\(poolPid)", "\"tid\":\(k.track)", "\"ts\":\(us(k.start))",
                         "\"dur\":\(dur(k.start, k.end))",
                         "\"args\":{\"future\":\(k.future.rawValue),\"pool\":\(JSONWriter.quoted(k.pool)),\"ok\":\(k.ok)}"])
                if let f = k.flowIn { flow(inside(f, k.start, k.end), phase: "f", pid: poolPid, tid: k.track) }
                if var f = k.flowOut {
                    // The "s" must lie inside the work's slice too: a hair before its end.
                    f.at = k.end > k.start ? k.end - 1 : k.end
                    flow(f, phase: "s", pid: poolPid, tid: k.track)
                }
            case .net(let n):
                // On the poll track: the network is what the loop's select watches.
                var args = ["\"fd\":\(n.fd)"]
                if let p = n.peer { args.append("\"peer\":\(p)") }
                w.event(["\"ph\":\"i\"", "\"s\":\"t\"", "\"name\":\(JSONWriter.quoted(n.description))", "\"cat\":\"net\"",
                         "\"pid\":\(loopPid)", "\"tid\":\(pollTid)", "\"ts\":\(us(n.at))", "\"args\":{\(args.joined(separator: ","))}"])
            }
        }
        w.raw("\n]}\n")
        return w.text
    }

    /// Microseconds from `origin`, with nanosecond digits (`12.345`); negative before it.
    static func micros(_ t: UInt64, from origin: UInt64) -> String {
        let negative = t < origin
        let n = negative ? origin - t : t - origin
        let frac = n % 1000
        let fracText = frac < 10 ? "00\(frac)" : frac < 100 ? "0\(frac)" : "\(frac)"
        return "\(negative ? "-" : "")\(n / 1000).\(fracText)"
    }
}

/// Just enough of a JSON writer: events one per line, strings escaped.
struct JSONWriter {
    private(set) var text = ""
    private var first = true

    mutating func raw(_ s: String) { text += s }

    mutating func string(_ s: String) { text += Self.quoted(s) }

    /// One object of the `traceEvents` array, from its `"key":value` fields.
    mutating func event(_ fields: [String]) {
        if !first { text += ",\n" }
        first = false
        text += "{" + fields.joined(separator: ",") + "}"
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
