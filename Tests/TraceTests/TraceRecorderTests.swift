// The recorder on a real loop: one record per step the loop took (a task's step, or a
// poll with what it woke), the tasks by name and kind, pool work on its worker, and the
// flows between them (a wake to the step it caused, a submission to the work, the work's
// completion to the poll that delivered it); a ring that keeps the last N; stop and start.
import Runtime
import Testing
import TestSupport
import Trace

@Suite(.timeLimit(.minutes(1))) struct TraceRecorderTests {
    @Test func everyStepAndPollOfARealLoopIsRecordedAsTheLoopTookIt() throws {
        let echo = try RecordedEcho()
        #expect(echo.reply == "gnip")
        let r = echo.recorder
        #expect(!r.isRecording)
        #expect(r.dropped == 0)
        // One record per step, in the loop's order, saying what the step was.
        #expect(r.events.compactMap(\.stepNumber) == echo.steps.map(\.number))
        let recorded = Dictionary(uniqueKeysWithValues: r.events.compactMap { e in e.stepNumber.map { ($0, e) } })
        for step in echo.steps {
            switch (step.kind, recorded[step.number]) {
            case (.ran(let s), .step(let record)?):
                #expect(record.task == s.task, "step #\(step.number)")
                #expect(record.start <= record.end)
                switch (s.outcome, record.outcome) {
                case (.waits(let w), .waits(let rw)): #expect(rw.wait == w, "step #\(step.number)")
                case (.exited(let e), .exited(let how)): #expect(how == e.description, "step #\(step.number)")
                default: Issue.record("step #\(step.number): ran \(s.outcome), recorded \(record.outcome)")
                }
            case (.polled(let p), .poll(let record)?):
                #expect(record.wakes.map(\.task) == p.wakes.map(\.task), "poll #\(step.number)")
                #expect(record.wakes.map(\.cause) == p.wakes.map(\.cause), "poll #\(step.number)")
            case (.idle, .poll(let record)?):
                #expect(record.wakes.isEmpty, "idle #\(step.number)")
            default:
                Issue.record("step #\(step.number): \(step.kind), recorded \(String(describing: recorded[step.number]))")
            }
        }
        // The tasks, finished; the server's first step waits in accept, at its line here.
        #expect(r.tasks[echo.server].map { [$0.name, $0.kind] } == ["server", "echo"])
        #expect(r.tasks[echo.client].map { [$0.name, $0.kind] } == ["client", "client"])
        #expect(r.tasks.values.allSatisfy { $0.finished })
        let first = try #require(echo.stepRecords.first { $0.task == echo.server })
        #expect(first.resumedFrom == nil, "it started")
        guard case .waits(let accept) = first.outcome else { Issue.record("\(first.outcome)"); return }
        #expect(accept.kind == "recv")
        #expect(accept.text.hasSuffix("(accept)"), "\(accept.text)")
        #expect(accept.location.hasPrefix("RecordedEcho.swift:"), "\(accept.location)")
        // The reply was computed on the pool's one worker.
        let work = try #require(echo.workRecords.first)
        #expect(echo.workRecords.count == 1)
        #expect((work.pool, work.worker, work.label, work.ok) == ("thread:1", 1, "reverse", true))
        #expect(r.workers.map(\.name) == ["thread:1 worker 1"])
    }

    @Test func flowsLeadFromAWakeToItsStepAndFromASubmissionToTheWorkAndBack() throws {
        let echo = try RecordedEcho()
        let steps = echo.stepRecords, polls = echo.pollRecords
        let work = try #require(echo.workRecords.first)
        // Every wake a poll made leads to the woken task's next step.
        var wakes = 0
        for poll in polls {
            #expect(poll.flowsOut.count == poll.wakes.count, "poll #\(poll.number): a flow per wake")
            for (flow, woken) in zip(poll.flowsOut, poll.wakes) {
                #expect(flow.kind == .wake)
                let next = steps.first { $0.task == woken.task && $0.number > poll.number }
                #expect(next?.flowsIn.contains { $0.id == flow.id } == true, "poll #\(poll.number)'s wake of task \(woken.task.rawValue)")
                wakes += 1
            }
        }
        #expect(wakes >= 2, "at least the connection and the future woke the server")
        // The server's step that submitted the work starts the work's submission flow.
        let submitFlow = try #require(work.flowIn)
        let submitter = try #require(steps.first { $0.flowsOut.contains { $0.id == submitFlow.id } })
        #expect(submitter.task == echo.server)
        #expect(submitFlow.kind == .submit)
        // The work's completion ends where its future woke the server.
        let doneFlow = try #require(work.flowOut)
        #expect(doneFlow.kind == .done)
        let delivered = try #require(polls.first { $0.flowsIn.contains { $0.id == doneFlow.id } })
        #expect(delivered.wakes.contains { $0.task == echo.server && isFuture($0.cause) }, "\(delivered.wakes.map(\.cause))")
    }

    @Test func theRingKeepsTheLastNEventsAndCountsTheRestDropped() throws {
        let loop = try EventLoop()
        let recorder = TraceRecorder(limit: 5)
        #expect(TraceRecorder(limit: 0).limit == 1, "at least one")
        recorder.start(on: loop)
        let t = loop.spawn(name: "spinner") { for _ in 0..<19 { try await loop.yield() } }
        #expect(loop.stepUntil { loop.state(t.id) == .done })
        let n = loop.stepCount
        #expect(n >= 20, "twenty steps of the task")
        #expect(recorder.events.compactMap(\.stepNumber) == Array((n - 4)...n))
        #expect(recorder.dropped == Int(n) - 5)
        guard case .step(let last)? = recorder.events.last, case .exited = last.outcome else {
            Issue.record("the last event is not the task's last step: \(String(describing: recorder.events.last))")
            return
        }
        #expect(last.task == t.id)
    }

    @Test func stopDetachesAndStartBeginsAfreshWithTheTasksAliveThen() throws {
        let loop = try EventLoop()
        let recorder = TraceRecorder()
        recorder.start(on: loop)
        let a = loop.spawn(name: "a", kind: "yielder") { for _ in 0..<10 { try await loop.yield() } }
        loop.step()
        loop.step()
        recorder.stop()
        #expect(!recorder.isRecording)
        #expect(recorder.events.count == 2)
        loop.step()
        #expect(recorder.events.count == 2, "nothing recorded after stop")
        recorder.start(on: loop)
        #expect(recorder.isRecording)
        #expect(recorder.events.isEmpty, "a new recording forgets the old one")
        let track = try #require(recorder.tasks[a.id], "a task alive when recording began")
        #expect((track.name, track.kind, track.stateAtStart, track.finished) == ("a", "yielder", "ready", false))
        loop.step()
        #expect(recorder.events.compactMap(\.stepNumber) == [4])
        recorder.stop()
        loop.run()
    }
}

private func isFuture(_ cause: WakeCause) -> Bool {
    if case .future = cause { return true }
    return false
}
