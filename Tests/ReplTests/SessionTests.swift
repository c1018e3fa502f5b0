// Every command's happy and error paths, through a session with captured output.
import FibPack
import Foundation
@testable import Repl
import Runtime
import Testing
import TestSupport

/// A session as `corepl` makes it: the core commands and the fib pack.
func makeSession() throws -> (Session, CapturedOutput) {
    let (output, captured) = ReplOutput.capturing()
    let session = try Session(output: output)
    session.install(FibPack())
    return (session, captured)
}

extension Session {
    /// Executes and requires success.
    func must(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(execute(line), "command failed: \(line)", sourceLocation: sourceLocation)
    }
}

@Suite(.timeLimit(.minutes(2))) struct SessionTests {
    @Test func spawnOnlyQueuesAndStepSaysWhatHappened() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0")
        #expect(out.out.last?.hasPrefix("task 1 server 127.0.0.1:") == true)
        #expect(out.out.last?.hasSuffix("(pool thread:4, inline below 20, wait yield) → ready") == true)
        #expect(s.loop.stepCount == 0, "the loop starts paused")
        s.must("spawn request @1 30")
        s.must("step 3")
        let lines = out.out.suffix(3)
        #expect(lines.first?.hasPrefix("#1 task 1 (server 127.0.0.1:") == true)
        #expect(lines.first?.contains("started → waits recv fd") == true)
        #expect(lines.first?.contains("(accept)   FibServer.swift:") == true)
        #expect(lines.last?.hasPrefix("#3 poll(epoll) ") == true)
        s.must("run until 2 done")
        #expect(out.out.contains { $0.hasPrefix("task 2 request: fib(30) = 832040 in ") })
        s.must("expect task 2 done; expect task 2 result.last == 832040")
        s.must("expect output contains fib(30) = 832040")
        s.must("expect task 1 waiting recv; expect queue recv_wait contains 1")
    }

    @Test func unknownCommandsSuggestAndBadArgumentsShowUsage() throws {
        let (s, out) = try makeSession()
        #expect(!s.execute("sapwn server"))
        #expect(out.err.last == "error: unknown command 'sapwn'; did you mean 'spawn'?")
        #expect(!s.execute("step x"))
        #expect(out.err.contains { $0.contains("step takes a count or 'back [N]', not 'x'") })
        #expect(out.err.contains { $0.hasPrefix("  usage: step") })
        #expect(!s.execute("show 9"))
        #expect(out.err.last == "error: no task 9")
        #expect(!s.execute("spawn request @9 1"))
        #expect(out.err.last == "error: no task 9")
        #expect(!s.execute("spawn"))
        #expect(out.err.last?.hasPrefix("error: spawn what?") == true)
        s.must("spawn sleeper 1s")
        #expect(!s.execute("spawn request @1 1"))
        #expect(out.err.last == "error: task 1 (sleeper 1s) does not listen anywhere")
    }

    /// Only the built-in default computes small requests on the loop: a pool named with
    /// --pool or with `pool` sends every request to it, as in the seed, unless told.
    @Test func onlyTheDefaultPoolComputesSmallRequestsOnTheLoop() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0 --pool thread:4")
        #expect(out.out.last?.hasSuffix("(pool thread:4, wait yield) → ready") == true)
        s.must("spawn server 0 --pool thread:2 --inline-below 10")
        #expect(out.out.last?.hasSuffix("(pool thread:2, inline below 10, wait yield) → ready") == true)
        s.must("spawn server 0 --inline-below 0")
        #expect(out.out.last?.hasSuffix("(pool thread:4, wait yield) → ready") == true)
        s.must("pool")
        #expect(out.out.last == "new servers: pool thread:4, inline below 20, wait yield")
        s.must("pool thread:4")
        #expect(out.out.last == "new servers: pool thread:4, wait yield")
        s.must("spawn server 0")
        #expect(out.out.last?.hasSuffix("(pool thread:4, wait yield) → ready") == true)
    }

    @Test func absurdInputIsRefusedNotObeyed() throws {
        let (s, out) = try makeSession()
        #expect(!s.execute("step 999999999999"))
        #expect(out.err.last == "error: step takes a count from 1 to 1000000, got 999999999999")
        #expect(!s.execute("run 100h"))
        #expect(out.err.last == "error: '100h': longer than 24h")
        #expect(!s.execute("spawn counter -5"))
        #expect(!s.execute("spawn server 0 --inline-below -1"))
        #expect(!s.execute("spawn server 70000"))
        #expect(!s.execute("spawn server 0 --pool thread:100000"))
        #expect(out.err.last == "error: pool size must be a number from 1 to 64, got '100000'")
        #expect(!s.execute(String(repeating: "x", count: 20_000)))
        #expect(!s.execute("tasks\u{0}"))
        #expect(s.loop.liveTaskCount == 0)
    }

    @Test func aPortInUseIsRefusedWithItsReason() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0")
        let port = try #require(s.loop.taskInfo(TaskID(1))?.facts["address"]?.split(separator: ":").last)
        #expect(!s.execute("spawn server \(port)"))
        #expect(out.err.last == "error: 127.0.0.1:\(port): address already in use (EADDRINUSE)")
    }

    @Test func breakpointsStopAFreeRunAndContinueResumesIt() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0 --pool thread:1; spawn request @1 25 1")
        s.must("break on future")
        #expect(out.out.last == "breakpoint 1: any task that starts waiting on a future")
        s.must("run until 2 done")
        let hit = try #require(out.out.last)
        #expect(hit.hasPrefix("breakpoint 1 hit at #"))
        #expect(hit.contains("waits future 1 (pool)"))
        s.must("expect queue future_wait 1")
        s.must("breaks")
        #expect(out.out.last?.contains("hit 1 time)") == true)
        s.must("delete 1")
        #expect(!s.execute("delete 1"))
        s.must("continue")
        #expect(out.out.last?.hasPrefix("task 2 done after") == true)
        s.must("break 1; break on exit")
        #expect(!s.execute("break on nothing"))
        #expect(!s.execute("break"))
    }

    @Test func expectFailuresSayWhatWasExpectedAndFound() throws {
        let (s, out) = try makeSession()
        s.must("spawn counter 2")
        #expect(!s.execute("expect task 1 done"))
        #expect(out.err.last == "error: expected task 1 done, found ready")
        #expect(!s.execute("expect queue ready 0"))
        #expect(out.err.last == "error: expected ready to hold 0, found 1 [1]")
        #expect(!s.execute("expect output contains no-such-text"))
        #expect(out.err.last?.hasPrefix("error: expected output containing 'no-such-text', found none") == true)
        #expect(!s.execute("expect task 1 latency.median < 1"))
        #expect(out.err.last == "error: task 1 has no 'latency' figures yet")
        s.must("step")
        s.must("expect task 1 ready; expect queue ready >= 1")
        #expect(!s.execute("expect task 1 waiting recv"))
        #expect(out.err.last == "error: expected task 1 waiting recv, found ready")
        s.must("run")
        s.must("expect task 1 done; expect task 1 finished")
    }

    @Test func figuresCanBeCheckedAndMarkedAfresh() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0; spawn request @1 10 20 30")
        s.must("run until 2 done")
        s.must("expect task 2 result.count == 3; expect task 2 result.max == 832040; expect task 2 latency.max < 60")
        #expect(!s.execute("expect task 2 result.min > 100"))
        #expect(out.err.last == "error: expected task 2 result.min > 100, found 55 (over 3 values)")
        s.must("mark 2")
        #expect(!s.execute("expect task 2 result.count == 3"))
    }

    @Test func jsonViewsParseBack() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0; spawn sleeper 5s; step 2; break on exit")
        s.must("tasks --json")
        let tasks = try #require(JSONSerialization.jsonObject(with: Data(out.out.joined(separator: "\n").split(separator: "\n").drop { !$0.hasPrefix("[") }.joined(separator: "\n").utf8)) as? [[String: Any]])
        #expect(tasks.count == 2)
        #expect(tasks[1]["kind"] as? String == "sleeper")
        #expect(tasks[1]["queue"] as? String == "timers")
        // The keys of the first round's JSON (and the stamps' counts, since issue 12).
        #expect(Set(tasks[0].keys) == ["age_s", "busy_ms", "facts", "figures", "id", "kind", "name", "queue", "stamps",
                                       "state", "steps", "waiting_on", "where"])
        #expect((tasks[1]["waiting_on"] as? String)?.hasPrefix("sleep (") == true)
        let before = out.out.count
        s.must("queues --json")
        let q = try #require(JSONSerialization.jsonObject(with: Data(out.out[before...].joined(separator: "\n").utf8)) as? [String: Any])
        #expect((q["recv_wait"] as? [[String: Any]])?.count == 1)
        #expect((q["timers"] as? [[String: Any]])?.first?["task"] as? Int == 2)
        #expect(q["poller"] as? String == "epoll")
        #expect(Set(q.keys) == ["external", "future_wait", "joins", "parked", "pending_pool_work", "poller", "ready",
                                "recv_wait", "send_wait", "step", "timers"])
        #expect(Set((q["timers"] as? [[String: Any]])?.first?.keys.map { $0 } ?? []) == ["remaining_s", "task"])
        #expect(Set((q["recv_wait"] as? [[String: Any]])?.first?.keys.map { $0 } ?? []) == ["fd", "task"])
        let before2 = out.out.count
        s.must("show 2 --json")
        let t = try #require(JSONSerialization.jsonObject(with: Data(out.out[before2...].joined(separator: "\n").utf8)) as? [String: Any])
        #expect(t["name"] as? String == "sleeper 5s")
        let before3 = out.out.count
        s.must("breaks --json")
        let b = try #require(JSONSerialization.jsonObject(with: Data(out.out[before3...].joined(separator: "\n").utf8)) as? [[String: Any]])
        #expect(b.first?["on"] as? String == "exit")
    }

    @Test func theCoreKnowsNoFibUntilThePackIsInstalled() throws {
        let (output, out) = ReplOutput.capturing()
        let s = try Session(output: output)
        defer { s.shutdown() }
        #expect(!s.execute("spawn server 0"))
        #expect(out.err.last == "error: no task kind 'server'; use sleeper, counter, race (see 'help spawn')")
        #expect(!s.execute("pool"))
        s.must("spawn sleeper 1s; queues")
        #expect(!out.out.contains { $0.hasPrefix("pools") })
        s.install(FibPack())
        s.must("spawn server 0 --pool thread:2 --name srv; step; queues")
        #expect(out.out.contains("pools        task 2: thread:2 (0 running, 0 queued)"))
        s.must("show srv")
        #expect(out.out.contains("  pool work thread:2 (0 running, 0 queued)"))
        s.must("quit")
        #expect(out.out.last == "bye: cancelled 2 tasks, stopped 1 pool")
    }

    @Test func aTaskIsNamedTheSameWayEverywhere() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0 --name srv; spawn sleeper 30s; step 2")
        for form in ["2", "@2", "'#2'"] {
            let before = out.out.count
            s.must("show \(form)")
            #expect(out.out[before...].contains("task 2: sleeper 30s"), "show \(form)")
            s.must("mark \(form)")
            #expect(out.out.last == "task 2: a fresh window of figures")
            s.must("break \(form)")
            #expect(out.out.last?.hasSuffix("any step of task 2") == true)
        }
        s.must("spawn request @srv 1; spawn request @1 2")
        s.must("cancel @2")
        #expect(out.out.last == "task 2 (sleeper 30s) cancelled → ready, to end at its next step")
        s.must("delete 1; delete 2; delete 3; run until @2 done; expect task @2 cancelled")
        #expect(!s.execute("cancel @2"), "already ended")
        s.must("clear")
        #expect(out.out.last?.hasPrefix("forgot ") == true)
    }

    @Test func cancelClearResetPoolPollerWatch() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn sleeper 1h; step")
        s.must("cancel 1")
        s.must("step; expect task 1 cancelled")
        #expect(!s.execute("cancel 1"))
        s.must("clear")
        #expect(out.out.last == "forgot 1 finished task")
        s.must("pool process:2 --wait block")
        #expect(out.out.last == "new servers: pool process:2, wait block")
        s.must("poller select")
        #expect(s.loop.pollerKind == .select)
        #expect(!s.execute("poller kqueue"))
        s.must("watch on; spawn counter 1; run")
        #expect(out.out.contains { $0.hasPrefix("#") && $0.contains("counter 1") })
        s.must("spawn server 0 --pool thread:1")
        s.must("reset")
        #expect(out.out.last == "reset: cancelled 1 task, stopped 1 pool; a fresh loop, paused at #0")
        #expect(s.loop.snapshot().tasks.isEmpty)
        #expect(s.loop.pollerKind == .select, "settings survive a reset")
    }

    @Test func helpListsCommandsAndExplainsOne() throws {
        let (s, out) = try makeSession()
        s.must("help")
        #expect(out.out.contains { $0.contains("spawn") && $0.contains("Spawn a task") })
        s.must("help spawn server")
        #expect(out.out.contains { $0.contains("--pool") })
        s.must("step --help")
        #expect(out.out.contains { $0.hasPrefix("usage: step") })
        #expect(!s.execute("help nothing"))
    }

    @Test func aScriptThatSourcesItselfStopsAtTheNestingLimit() throws {
        let (s, out) = try makeSession()
        try withTemporaryDirectory("session") { dir in
            let file = dir + "/self.repl"
            try writeFile(dir, "self.repl", "source \(file)\n")
            #expect(!s.execute("source \(file)"))
            #expect(out.err.first == "\(file):1: source nested more than 64 deep (does a script source itself?)")
            #expect(out.err.count == 1, "reported once, not once per level")
        }
        #expect(!s.execute("source /no/such/file.repl"))
        #expect(out.err.last == "error: cannot read /no/such/file.repl: no such file")
    }

    @Test func saveWritesAScriptThatReplaysToTheSameState() throws {
        try withTemporaryDirectory("session") { dir in
            let file = dir + "/saved.repl"
            let (s, _) = try makeSession()
            s.must("echo the seed's demo, saved")
            s.must("spawn server 0 --pool thread:1; spawn request @1 12; run until 2 done")
            s.must("spawn counter 5; spawn sleeper 1h; step 3; cancel 4; tasks; break on spawn")
            s.must("save \(file)")
            let original = s.loop.snapshot().tasks.map { "\($0.id.rawValue) \($0.kind) \($0.state.name)" }
            s.shutdown()
            let text = try String(contentsOfFile: file, encoding: .utf8)
            #expect(!text.contains("tasks"), "views are not saved")
            #expect(text.contains("echo the seed's demo, saved"))
            let (replay, out) = try makeSession()
            defer { replay.shutdown() }
            #expect(replay.execute("source \(file)"), "\(out.err)")
            let replayed = replay.loop.snapshot().tasks.map { "\($0.id.rawValue) \($0.kind) \($0.state.name)" }
            #expect(replayed == original)
            #expect(replay.breakpoints.all.count == 1)
        }
    }
}
