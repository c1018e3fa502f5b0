// Pictures of the loop over time: the Chrome trace JSON of a scripted session, the
// terminal timeline of a stepped session (golden), and the SVG.
import FibPack
import Foundation
import FoundationXML
@testable import Repl
import Runtime
import Testing
import TestSupport
import Trace

/// A trace file's events, parsed.
struct ParsedTrace {
    var events: [[String: Any]]
    var other: [String: Any]

    init(file: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        events = try #require(root["traceEvents"] as? [[String: Any]])
        other = root["otherData"] as? [String: Any] ?? [:]
    }

    func phase(_ ph: String) -> [[String: Any]] { events.filter { $0["ph"] as? String == ph } }

    static func ts(_ e: [String: Any]) -> Double { (e["ts"] as? NSNumber)?.doubleValue ?? -1 }
    static func dur(_ e: [String: Any]) -> Double { (e["dur"] as? NSNumber)?.doubleValue ?? -1 }
    static func track(_ e: [String: Any]) -> String { "\(e["pid"] ?? "?")/\(e["tid"] ?? "?")" }
    static func args(_ e: [String: Any]) -> [String: Any] { e["args"] as? [String: Any] ?? [:] }

    /// Every flow id has one "s" and one "f", each inside a complete event of its track.
    func checkFlows(sourceLocation: SourceLocation = #_sourceLocation) -> (starts: Int, kinds: Set<String>) {
        let complete = phase("X")
        func enclosed(_ e: [String: Any]) -> Bool {
            let t = Self.ts(e), track = Self.track(e)
            return complete.contains { x in
                Self.track(x) == track && Self.ts(x) <= t && t <= Self.ts(x) + Self.dur(x)
            }
        }
        var starts: [Int: [String: Any]] = [:], ends: [Int: [String: Any]] = [:]
        for e in phase("s") { starts[(e["id"] as! NSNumber).intValue] = e }
        for e in phase("f") { ends[(e["id"] as! NSNumber).intValue] = e }
        #expect(Set(starts.keys) == Set(ends.keys), "every flow has both ends", sourceLocation: sourceLocation)
        for (id, s) in starts {
            #expect(enclosed(s), "flow \(id) starts inside a slice", sourceLocation: sourceLocation)
            if let f = ends[id] {
                #expect(enclosed(f), "flow \(id) ends inside a slice", sourceLocation: sourceLocation)
                #expect(Self.ts(s) <= Self.ts(f), "flow \(id) goes forward in time", sourceLocation: sourceLocation)
                #expect(s["name"] as? String == f["name"] as? String)
            }
        }
        return (starts.count, Set(starts.values.compactMap { $0["name"] as? String }))
    }
}

@Suite(.serialized, .timeLimit(.minutes(2))) struct TraceTests {
    @Test func theTraceOfAScriptedSessionHoldsTracksStepsPollsAndFlows() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("trace record")
        #expect(out.out.suffix(2) == ["recording from step #1: the last 100000 events are kept ('trace save FILE.json', 'timeline')",
                                      "  (a ring of \(100_000 * TraceRecorder.bytesPerEvent / 1_000_000) MB, allocated now; --limit N keeps fewer)"])
        s.must("spawn server 0 --pool thread:2 --name server")
        s.must("spawn request @server 20 22 --name client")
        s.must("run until client done")
        try withTemporaryDirectory("trace") { dir in
            let file = dir + "/trace.json"
            s.must("trace save \(file)")
            #expect(out.out.last?.hasSuffix("to \(file): open it in ui.perfetto.dev or chrome://tracing") == true)
            let trace = try ParsedTrace(file: file)
            #expect(trace.other["dropped_events"] as? Int == 0)

            // Tracks: one per task, named with its id, name and kind; the poll track; workers.
            let names = trace.phase("M").filter { $0["name"] as? String == "thread_name" }
                .map { ParsedTrace.args($0)["name"] as? String ?? "" }
            #expect(names.contains("task 1: server (server)"))
            #expect(names.contains("task 2: client (request)"))
            #expect(names.contains { $0.hasPrefix("task 3: handler 127.0.0.1:") && $0.hasSuffix("(handler)") })
            #expect(names.contains("poll (the loop's select)"))
            #expect(names.contains("thread:2 worker 1") || names.contains("thread:2 worker 2"))

            // A complete event per step, naming the waits and the source location.
            let steps = trace.phase("X").filter { $0["cat"] as? String == "step" }
            #expect(steps.count == Int(s.loop.stepCount) - trace.phase("X").filter { $0["cat"] as? String == "poll" }.count)
            let handlerWaitsFuture = steps.first { ParsedTrace.args($0)["suspended_on"] as? String == "future 1 (fib(20))" }
            let h = try #require(handlerWaitsFuture, "the handler's step that submits fib(20)")
            #expect(ParsedTrace.args(h)["resumed_from"] as? String == "recv fd \(try handlerFD(s)) (recv)")
            #expect((ParsedTrace.args(h)["where"] as? String)?.hasPrefix("FibServer.swift:") == true)
            #expect(h["name"] as? String == "recv → future")

            // An instant per poll, with the fds that woke and how long it blocked.
            let polls = trace.phase("i")
            #expect(polls.count == trace.phase("X").filter { $0["cat"] as? String == "poll" }.count)
            #expect(polls.contains { (ParsedTrace.args($0)["fds"] as? [Int])?.isEmpty == false })
            #expect(polls.allSatisfy { ParsedTrace.args($0)["blocked_us"] is NSNumber })

            // Pool work on a worker track, with flows from the submit and to the wake.
            let work = trace.phase("X").filter { $0["cat"] as? String == "pool" }
            #expect(Set(work.compactMap { $0["name"] as? String }) == ["fib(20)", "fib(22)"])
            #expect(work.allSatisfy { $0["pid"] as? Int == 2 })
            let flows = trace.checkFlows()
            #expect(flows.kinds == ["wake", "submit", "done"])
            #expect(flows.starts >= 6)
        }
    }

    /// The fd of the handler task's connection, from its current wait (`recv fd N`).
    func handlerFD(_ s: Session) throws -> Int32 {
        let handler = try #require(s.loop.snapshot().tasks.first { $0.kind == "handler" })
        let text = try #require(handler.waitingOn)
        let words = text.split(separator: " ")  // recv fd N (recv)
        return try #require(Int32(words[2]))
    }

    @Test func aRecordingKeepsTheLastNEventsAndSaysHowManyItDropped() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("trace record --limit 40")
        s.must("spawn counter 100")
        s.must("spawn counter 100")
        s.must("run until idle")
        s.must("trace")
        #expect(out.out.last == "recording, 40 events (40 steps, 2 tasks, 0 pool workers), 162 dropped, limit 40")
        try withTemporaryDirectory("trace") { dir in
            let file = dir + "/ring.json"
            s.must("trace save \(file)")
            let trace = try ParsedTrace(file: file)
            #expect(trace.other["dropped_events"] as? Int == 162)
            #expect(trace.phase("X").count == 40)
            _ = trace.checkFlows()
            // Saving goes on while recording; stopping keeps what was recorded.
            s.must("trace stop")
            #expect(out.out.last == "stopped, 40 events (40 steps, 2 tasks, 0 pool workers), 162 dropped, limit 40")
            #expect(!s.execute("trace stop"))
            #expect(out.err.last == "error: not recording")
        }
    }

    @Test func theTimelineOfASteppedSession() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn counter 2 --name early")
        s.must("step")
        s.must("trace record")
        s.must("spawn counter 3")
        s.must("spawn counter 1")
        s.must("step 9")
        var seen = out.out.count
        s.must("timeline")
        // early yields, is spawned before the recording; then the ready queue turns
        // round: early, counter 3, counter 1, … ; the loop polls when nothing is left.
        #expect(Array(out.out[seen...]) == [
            "timeline: steps #2–#10 (9 of 9 recorded)",
            "            #2",
            "poll                .",
            "1 early     █··█",
            "2 counter 3 ·█··█·██",
            "3 counter 1 ··█··█",
            Timeline.legend,
        ])
        seen = out.out.count
        s.must("timeline 3")
        #expect(out.out[seen] == "timeline: steps #8–#10 (3 of 9 recorded)")
    }

    @Test func theSVGHasOneLanePerTask() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("trace record")
        s.must("spawn counter 3 --name a")
        s.must("spawn counter 2 --name b")
        s.must("spawn sleeper 5ms")
        s.must("run until idle")
        try withTemporaryDirectory("trace") { dir in
            for axis in ["", " --time"] {
                let file = dir + (axis.isEmpty ? "/timeline.svg" : "/timeline-time.svg")
                s.must("timeline --svg \(file)\(axis) --title \"a <b> & c\"")
                #expect(out.out.last == "wrote \(s.loop.stepCount) steps and 3 lanes to \(file)")
                let lanes = try SVGLanes(file: file)
                #expect(lanes.tasks == ["1", "2", "3"], "one lane per task")
                #expect(lanes.pollLanes == 1)
                #expect(lanes.texts.joined().contains("a <b> & c"))
            }
        }
    }

    @Test func badRequestsSayWhatToDo() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        #expect(!s.execute("timeline"))
        #expect(out.err.last == "error: nothing recorded: 'trace record' starts recording; then step or run, and 'timeline' draws it")
        try withTemporaryDirectory("trace") { dir in
            #expect(!s.execute("trace save \(dir)/x.json"))
            #expect(out.err.last == "error: nothing recorded: 'trace record' starts recording")
            #expect(!FileManager.default.fileExists(atPath: dir + "/x.json"), "nothing written")
        }
        #expect(!s.execute("trace begin"))
        #expect(out.err.last == "error: no trace action 'begin'; use record, stop or save")
        #expect(!s.execute("trace stop --limit 3"))
        #expect(!s.execute("trace record --limit 0"))
        s.must("trace record")
        #expect(!s.execute("timeline --time"))
        #expect(out.err.last == "error: --time draws the SVG's x axis in wall-clock time: use it with --svg FILE")
        #expect(!s.execute("timeline 0"))
        s.must("timeline")
        #expect(out.out.last == "no steps recorded")
        #expect(!s.execute("trace save /dev/null/x.json"))
        #expect(out.err.last?.hasPrefix("error: cannot write /dev/null/x.json") == true)
        // A reset stops the recording of the old loop; what it holds stays.
        s.must("spawn counter 1")
        s.must("run until idle")
        s.must("reset")
        s.must("trace")
        #expect(out.out.last?.hasPrefix("stopped, ") == true)
    }
}

/// The lanes of a timeline SVG, read with an XML parser (so the file is well-formed XML).
final class SVGLanes: NSObject, XMLParserDelegate {
    var tasks: [String] = []
    var pollLanes = 0
    var texts: [String] = []
    private var inText = false

    init(file: String) throws {
        super.init()
        let parser = try #require(XMLParser(contentsOf: URL(fileURLWithPath: file)))
        parser.delegate = self
        #expect(parser.parse(), "well-formed XML: \(String(describing: parser.parserError))")
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if name == "g", let c = attributes["class"], c.split(separator: " ").contains("lane") {
            if let t = attributes["data-task"] { tasks.append(t) } else if c.contains("poll") { pollLanes += 1 }
        }
        inText = name == "text"
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { texts.append(string) }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        inText = false
    }
}
