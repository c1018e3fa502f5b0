// A replay ends, and agrees with its recording (docs/TIME-TRAVEL.md, section 6): sessions
// with real sockets are recorded here, their journals saved, and `corepl replay` run on
// them as a user would, as a child process that must exit within its time limit with its
// verdict. A replay whose journal ends with pool work in flight must not wait for it on a
// clock that no longer moves; a client's deadline is read where the journal keeps it; a
// client on a thread of its own is answered from the journal, not run again.
import FibPack
import FibService
import Foundation
import Glibc
import Repl
import Pools
import Runtime
import TimeTravel
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
                let clients = s.loop.snapshot().tasks.filter { $0.kind == "perf1" || $0.kind == "perf2" }
                #expect(clients.count == 2 && clients.allSatisfy { !$0.state.isFinished },
                        "the clients were still running when the journal was saved: \(clients.map { "\($0.name) \($0.state.name)" })")
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

    /// What another thread hands over is delivered at the drain of the inbox that took
    /// it, in a replay too. Here a call is in the inbox before a poll step: the step's
    /// first drain takes it, and its poll then reports the wake-up channel, whose drain
    /// finds nothing; a completion that arrives after is delivered at the next poll step.
    /// The replay's completion arrives early, before the first of those poll steps, and is
    /// still delivered at the second (it used to be delivered at the first, at the wake-up
    /// channel's drain: the journal did not say which drain took it, and a replay of a
    /// session with clients on threads or pools diverged now and then).
    @Test func aCompletionFromAnotherThreadIsDeliveredAtTheDrainThatTookIt() throws {
        func onAnotherThread(_ body: @escaping @Sendable () -> Void) {
            let t = OSThread(name: "other", body)
            t.start()
            t.join()
        }
        func run(_ loop: EventLoop, completionArrivesEarly early: Bool) -> [String] {
            let f = loop.makeFuture(of: Int.self, label: "b")
            loop.spawn(name: "t") { _ = try await f.get() }
            var steps: [String] = []
            func step() {
                let e = loop.step(timeout: .zero)
                if let t = e.taskStep {
                    steps.append("#\(e.number) task \(t.task.rawValue) ran")
                } else {
                    steps.append("#\(e.number) poll: woke [\(e.pollReport?.wakes.map { "\($0.task.rawValue)" }.joined(separator: ", ") ?? "")]")
                }
            }
            step()  // the task waits on the future
            onAnotherThread { loop.execute {} }
            if early { onAnotherThread { f.succeed(1) } }
            step()  // first drain: the call; the wake-up channel's: nothing
            if !early { onAnotherThread { f.succeed(1) } }
            step()  // first drain: the completion
            step()  // the task runs to its end
            return steps
        }
        let loop = try EventLoop()
        loop.startRecordingInputs()
        let recorded = run(loop, completionArrivesEarly: false)
        #expect(recorded == ["#1 task 1 ran", "#2 poll: woke []", "#3 poll: woke [1]", "#4 task 1 ran"], "\(recorded)")
        let inputs = try #require(loop.recordedInputs)
        for _ in 0..<3 {
            let again = try EventLoop()
            again.startReplaying(inputs)
            let replayed = run(again, completionArrivesEarly: true)
            #expect(again.replayDivergence == nil, "\(again.replayDivergence ?? "")")
            #expect(replayed == recorded)
        }
    }

    /// A client on a thread of its own that cannot connect closes its socket once: it used
    /// to close the number again as it went away, and so close whatever another thread had
    /// just opened with it (beside a refused client, the others failed with EBADF now and
    /// then, and a recorded session then differed from what the test expected of it).
    @Test func aRefusedThreadClientClosesNoOtherThreadsFD() throws {
        let refused = try SocketAddress(port: 1)
        let done = Locked(false)
        let refuser = OSThread(name: "refused") {
            for _ in 0..<20_000 where !done.withLock({ $0 }) {
                _ = try? BlockingClient(address: refused).request(ns: [1], output: { _ in }, record: { _, _ in })
            }
            done.withLock { $0 = true }
        }
        refuser.start()
        var closedUnderUs = 0
        var rounds = 0
        while !done.withLock({ $0 }) {
            rounds += 1
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else { continue }
            for _ in 0..<50 { if fcntl(fds[0], F_GETFD) == -1 || fcntl(fds[1], F_GETFD) == -1 { break } }
            if fcntl(fds[0], F_GETFD) == -1 || fcntl(fds[1], F_GETFD) == -1 { closedUnderUs += 1 }
            close(fds[0])
            close(fds[1])
            if closedUnderUs > 0 { done.withLock { $0 = true } }
        }
        refuser.join()
        #expect(closedUnderUs == 0, "another thread closed this thread's fd (\(rounds) rounds)")
    }
}
