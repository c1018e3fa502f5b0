// A replay ends, and agrees with its recording (docs/TIME-TRAVEL.md, section 6): sessions
// with real sockets are recorded here, their journals saved, and `corepl replay` run on
// them as a user would, as a child process that must exit within its time limit with its
// verdict. A replay whose journal ends with pool work in flight must not wait for it on a
// clock that no longer moves; a client's deadline is read where the journal keeps it; a
// client on a thread of its own is answered from the journal, not run again.
import FibPack
import Foundation
import Repl
import Runtime
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct ReplayEndsTests {
    /// Runs `lines` in a fresh session (real sockets; `spawn server 0`, so `@1` is its
    /// address), lets `check` look at it, saves its journal to `file`; returns its steps.
    static func record(_ lines: [String], to file: String, sourceLocation: SourceLocation = #_sourceLocation,
                       check: (Session) throws -> Void = { _ in }) throws -> UInt64 {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        for line in lines { s.must(line, sourceLocation: sourceLocation) }
        try check(s)
        s.must("journal save \(file)", sourceLocation: sourceLocation)
        #expect(out.out.last?.hasPrefix("wrote ") == true, "\(out.out.last ?? "")", sourceLocation: sourceLocation)
        return s.loop.stepCount
    }

    /// `corepl replay FILE`, which must exit within `timeout` (a replay that does not end
    /// is killed, and the test fails with what it printed).
    static func replay(_ file: String, timeout: Duration = .seconds(60)) throws -> (status: Int32, out: String, err: String) {
        try runChild(try coreplPath(), ["replay", file], timeout: timeout)
    }

    /// Expects a replay of `steps` steps that agreed with its journal, and exited 0.
    static func expectAgreed(_ r: (status: Int32, out: String, err: String), steps: UInt64,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 0, "exit status \(r.status): \(r.err)", sourceLocation: sourceLocation)
        #expect(r.out.contains("replayed \(steps) steps and "), "\(r.out)", sourceLocation: sourceLocation)
        #expect(r.out.contains("answering every outside input from the journal: every step as recorded"),
                "\(r.out) \(r.err)", sourceLocation: sourceLocation)
    }

    /// The state of the first task of `kind`.
    static func state(_ s: Session, kind: String) -> String? {
        s.loop.snapshot().tasks.first { $0.kind == kind }?.state.name
    }

    /// A loaded session — perf1's fib(25) on the server's thread pool, perf2 ping-pong,
    /// and a fib(38) that is still on the pool when the journal is saved — replays, prints
    /// its verdict and exits 0, every time: once the verdict is in, the replay stops
    /// answering from the journal, whose inputs and clock have run out, and its shutdown
    /// waits for the pool in real time (it used to spin there, the journal's clock
    /// standing still, for the completion the journal never delivers). The same journal
    /// changed at a late step exits 1, as promptly.
    @Test func aLoadedSessionsReplayPrintsItsVerdictAndExits() throws {
        try withTemporaryDirectory("replay-ends") { d in
            let steps = try Self.record(["spawn server 0", "spawn perf1 @1 --n 25", "spawn perf2 @1",
                                         "spawn request @1 38", "run 200ms"],
                                        to: "\(d)/j.json") { s in
                #expect(Self.state(s, kind: "perf1") == "waiting" && Self.state(s, kind: "perf2") != "failed",
                        "the clients were still running when the journal was saved")
                #expect(s.loop.snapshot().pendingFutures > 0, "pool work was in flight when the journal was saved")
            }
            for _ in 0..<2 {
                Self.expectAgreed(try Self.replay("\(d)/j.json"), steps: steps)
            }
            var changed = try Journal(contentsOf: "\(d)/j.json")
            let late = changed.steps.count - 3
            changed.steps[late].ran = 99
            try JSONEncoder().encode(changed).write(to: URL(fileURLWithPath: "\(d)/changed.json"))
            let r = try Self.replay("\(d)/changed.json")
            #expect(r.status == 1, "\(r.out) \(r.err)")
            #expect(r.err.contains("replay diverged at #\(changed.steps[late].step): the journal has task 99 ran"), "\(r.err)")
        }
    }

    /// perf2 with a duration, which ends within the session: its deadline is read in its
    /// first step, where the journal keeps the reading, so the replay's perf2 ends at the
    /// same step (it used to be read at spawn, outside any step, and the replay's perf2
    /// ended at once: "diverged at #5: … this run task 2 ran → done").
    @Test func perf2WithADurationReplaysAsRecorded() throws {
        try withTemporaryDirectory("replay-ends") { d in
            let steps = try Self.record(["spawn server 0", "spawn perf2 @1 --duration 300ms", "run 800ms"],
                                        to: "\(d)/j.json") { s in
                #expect(Self.state(s, kind: "perf2") == "done", "perf2's duration passed within the session")
            }
            Self.expectAgreed(try Self.replay("\(d)/j.json"), steps: steps)
        }
    }

    /// perf1 with a duration (fib(22) on the pool), and a request beside it: as perf2's.
    @Test func perf1WithADurationReplaysAsRecorded() throws {
        try withTemporaryDirectory("replay-ends") { d in
            let steps = try Self.record(["spawn server 0", "spawn perf1 @1 --n 22 --duration 300ms",
                                         "spawn request @1 20 21", "run 800ms"],
                                        to: "\(d)/j.json") { s in
                #expect(Self.state(s, kind: "perf1") == "done", "perf1's duration passed within the session")
                #expect(Self.state(s, kind: "request") == "done")
            }
            Self.expectAgreed(try Self.replay("\(d)/j.json"), steps: steps)
        }
    }

    /// Clients on threads of their own, with durations (their deadlines are their
    /// threads'): how each thread ended is an outside input, so the replay — which opens
    /// no socket, and so runs no client thread — has each client end where it ended (it
    /// used to run the threads again, which found no server: "this run task 2 ran →
    /// failed"). One still running when the journal was saved, and one that failed, too.
    @Test func clientsOnThreadsOfTheirOwnReplayAsRecorded() throws {
        try withTemporaryDirectory("replay-ends") { d in
            let steps = try Self.record(["spawn server 0", "spawn perf2 @1 --thread --duration 300ms --name p2",
                                         "spawn perf1 @1 --n 22 --thread --duration 300ms --name p1",
                                         "spawn request @1 20 --thread --name r", "spawn perf1 127.0.0.1:1 --thread --name refused",
                                         "spawn perf2 @1 --thread --name open", "run 1s"],
                                        to: "\(d)/j.json") { s in
                let tasks = s.loop.snapshot().tasks
                func state(_ name: String) -> String? { tasks.first { $0.name == name }?.state.name }
                #expect(state("p2") == "done" && state("p1") == "done" && state("r") == "done", "\(tasks.map { "\($0.name) \($0.state.name)" })")
                #expect(state("refused") == "failed")
                #expect(state("open") == "waiting")
            }
            Self.expectAgreed(try Self.replay("\(d)/j.json"), steps: steps)
        }
    }
}
