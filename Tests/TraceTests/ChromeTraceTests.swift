// A recording as Chrome trace-event JSON: it parses; every recorded step, poll and piece
// of pool work is one complete event on its track; tracks are named after their tasks and
// workers; each flow kept has both ends; names that need escaping survive the trip.
import Foundation
import Runtime
import Testing
import TestSupport
import Trace

/// The document's `traceEvents`, and its `otherData`.
private func parse(_ json: String) throws -> (events: [[String: Any]], other: [String: Any]) {
    let root = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    return (try #require(root["traceEvents"] as? [[String: Any]]), root["otherData"] as? [String: Any] ?? [:])
}

private func number(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }

@Suite(.timeLimit(.minutes(1))) struct ChromeTraceTests {
    @Test func everyRecordedStepPollAndWorkIsACompleteEventOnItsTrack() throws {
        let echo = try RecordedEcho()
        let (events, other) = try parse(ChromeTrace.json(of: echo.recorder))
        #expect(number(other["events_kept"]) == echo.recorder.events.count)
        #expect(number(other["dropped_events"]) == 0)
        #expect(other["producer"] as? String == "corepl")

        let complete = events.filter { $0["ph"] as? String == "X" }
        func slices(_ cat: String) -> [[String: Any]] { complete.filter { $0["cat"] as? String == cat } }
        // A task's steps on the loop process (pid 1), on the task's own track, by number.
        let steps = slices("step").map { e in
            (number(e["tid"]), number((e["args"] as? [String: Any])?["step"]), number(e["pid"]))
        }
        #expect(steps.map(\.0) == echo.stepRecords.map { Int($0.task.rawValue) })
        #expect(steps.map(\.1) == echo.stepRecords.map { Int($0.number) })
        #expect(steps.allSatisfy { $0.2 == 1 })
        // Polls on track 0 of the loop; the work on the pools process (pid 2).
        let polls = slices("poll")
        #expect(polls.count == echo.pollRecords.count)
        #expect(polls.allSatisfy { number($0["pid"]) == 1 && number($0["tid"]) == 0 })
        let work = slices("pool")
        #expect(work.count == 1)
        #expect(work.first?["name"] as? String == "reverse")
        #expect(number(work.first?["pid"]) == 2)
        // Times are microseconds from the recording's start, and durations never negative.
        #expect(complete.allSatisfy { (($0["dur"] as? NSNumber)?.doubleValue ?? -1) >= 0 })

        // Tracks named after what runs on them.
        let names = events.filter { $0["ph"] as? String == "M" && $0["name"] as? String == "thread_name" }
            .compactMap { ($0["args"] as? [String: Any])?["name"] as? String }
        #expect(Set(names) == ["poll (the loop's select)", "task \(echo.server.rawValue): server (echo)",
                               "task \(echo.client.rawValue): client (client)", "thread:1 worker 1"])
    }

    @Test func eachFlowHasAStartAndAnEndOfTheSameKind() throws {
        let echo = try RecordedEcho()
        let (events, _) = try parse(ChromeTrace.json(of: echo.recorder))
        var starts: [Int: String] = [:], ends: [Int: String] = [:]
        for e in events {
            guard let id = number(e["id"]), let name = e["name"] as? String else { continue }
            switch e["ph"] as? String {
            case "s": starts[id] = name
            case "f": ends[id] = name
            default: break
            }
        }
        #expect(!starts.isEmpty)
        #expect(starts == ends, "every flow written has both ends, and they agree on its kind")
        #expect(Set(starts.values) == ["wake", "submit", "done"])
    }

    @Test func namesThatNeedEscapingSurviveTheTrip() throws {
        let loop = try EventLoop()
        let recorder = TraceRecorder()
        recorder.start(on: loop)
        let name = "say \"hi\"\\ \n\t\u{1}é ✓"
        let t = loop.spawn(name: name, kind: "odd") {}
        #expect(loop.stepUntil { loop.state(t.id) == .done })
        recorder.stop()
        let (events, _) = try parse(ChromeTrace.json(of: recorder))
        let track = events.first { ($0["args"] as? [String: Any])?["kind"] as? String == "odd" }
        #expect((track?["args"] as? [String: Any])?["task"] as? String == name)
    }
}
