// Stepping: one step runs exactly one task to its next suspension, FIFO, like the seed's
// `tasks.popleft(); next(task)`.
import Runtime
import Synchronization
import Testing
import TestSupport

/// Collects what tasks did, in order (tasks run on the loop thread only).
final class Trace: @unchecked Sendable {
    var lines: [String] = []
    func add(_ s: String) { lines.append(s) }
}

@Suite(.timeLimit(.minutes(2))) struct SteppingTests {
    /// A step shows the tasks it spawned, not those spawned in the steps of a free run
    /// before it that nobody described (the monitor no longer makes every step described).
    @Test func aStepShowsOnlyItsOwnSpawnsAfterAFreeRun() throws {
        let loop = try EventLoop()
        loop.spawn(name: "parent") {
            loop.spawn(name: "child") {}
            while true { try await loop.yield() }
        }
        _ = loop.run(until: .steps(3))
        let step = loop.step()
        #expect(step.taskStep?.task.rawValue == 1)
        #expect(step.taskStep?.spawned == [], "the child was spawned in the free run's first step")
        // A step that spawns shows it.
        let spawner = loop.spawn(name: "spawner") { loop.spawn(name: "late child") {} }
        while loop.snapshot().ready.first != spawner.id { loop.step() }
        #expect(loop.step().taskStep?.spawned.map(\.rawValue) == [spawner.id.rawValue + 1])
    }

    @Test func threeTasksInterleaveInFIFOOrderOneStepAtATime() throws {
        let loop = try EventLoop()
        let trace = Trace()
        for name in ["a", "b", "c"] {
            loop.spawn(name: name) {
                for i in 0..<3 {
                    trace.add("\(name)\(i)")
                    try await loop.yield()
                }
            }
        }
        #expect(loop.snapshot().ready.map(\.rawValue) == [1, 2, 3])
        #expect(trace.lines.isEmpty, "spawn only queues: nothing runs until a step")

        let first = loop.step()
        #expect(trace.lines == ["a0"])
        let step = try #require(first.taskStep)
        #expect(step.task == TaskID(1))
        #expect(step.resumedFrom == nil)
        guard case .waits(let wait) = step.outcome else { Issue.record("expected a wait"); return }
        #expect(wait.reason == .yield)
        #expect(wait.location.fileName == "SteppingTests.swift")
        #expect(loop.snapshot().ready.map(\.rawValue) == [2, 3, 1])

        loop.step()
        loop.step()
        #expect(trace.lines == ["a0", "b0", "c0"])
        let fourth = try #require(loop.step().taskStep)
        #expect(fourth.resumedFrom?.reason == .yield)
        for _ in 0..<5 { loop.step() }
        #expect(trace.lines == ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"])
        // Each task ends at its fourth step.
        let ends = (0..<3).map { _ in loop.step().taskStep }
        #expect(ends.map { $0?.task.rawValue } == [1, 2, 3])
        for e in ends {
            guard case .exited(.done)? = e?.outcome else { Issue.record("expected done: \(String(describing: e))"); continue }
        }
        #expect(loop.liveTaskCount == 0)
        #expect(loop.snapshot().tasks.map(\.steps) == [4, 4, 4])
        #expect(loop.stepCount == 12)
    }
}
