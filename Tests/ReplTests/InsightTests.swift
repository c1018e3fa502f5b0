// Being told what is wrong: each lint fires on a case that causes it; stats count what a
// stepped session did; top's frame (golden, with its clock readings masked).
import FibPack
import Foundation
import Insight
@testable import Repl
import Runtime
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(2))) struct InsightTests {
    @Test func aLongInlineStepIsABlockedLoop() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        // fib(34) on the loop: ~30 ms in release, ~100 ms here; the default threshold is 50 ms.
        s.must("lint slow-step 20ms")
        s.must("spawn server 0 --pool inline --name server")
        s.must("spawn request @server 34 --name client")
        s.must("run until client done")
        s.must("expect lint blocked-loop")
        let handler = try #require(s.loop.snapshot().tasks.first { $0.kind == "handler" })
        s.must("expect lint blocked-loop \(handler.id.rawValue)")
        let warning = try #require(out.out.first { $0.hasPrefix("warning: [blocked-loop] task \(handler.id.rawValue) (handler 127.0.0.1:") })
        #expect(warning.contains(" held the loop for "))
        #expect(warning.contains(" between FibServer.swift:"))
        #expect(warning.hasSuffix(": run it in a pool and yield on the future"))
        #expect(out.out.filter { $0.hasPrefix("warning: [blocked-loop] task \(handler.id.rawValue) ") }.count == 1, "printed once")
        // tasks and show carry it too.
        s.must("tasks")
        #expect(out.out.contains { $0.hasPrefix("lint: [blocked-loop] task \(handler.id.rawValue) ") })
        s.must("show \(handler.id.rawValue)")
        #expect(out.out.last?.hasPrefix("  lint      [blocked-loop] task \(handler.id.rawValue) ") == true)
        #expect(!s.execute("expect no lints"))
        #expect(out.err.last?.hasPrefix("error: expected no lints, found ") == true)
        // Off and cleared, nothing is found.
        s.must("lint off blocked-loop")
        s.must("lint clear")
        s.must("spawn request @server 34 --name again")
        s.must("run until again done")
        #expect(!s.execute("expect lint blocked-loop client"))
        #expect(out.err.last == "error: expected lint blocked-loop about task 2, found none")
        s.must("expect no lints")
    }

    @Test func aLostWakeUpIsALateWake() throws {
        let (s, _) = try makeSession()
        defer { s.shutdown() }
        // The first round's bug, on purpose: pool results reach the loop only when its poll
        // times out (1 s here), not when they are ready.
        s.loop.dropsWakeUps = true
        // A long poll timeout, and a fib long enough for the loop to be asleep in poll when
        // it completes: the result then waits for the timeout.
        s.pollTimeout = .seconds(1)
        s.must("spawn server 0 --pool thread:2 --name server")
        s.must("spawn request @server 34 --name client")
        s.must("run until client done")
        s.loop.dropsWakeUps = false
        if !s.execute("expect lint late-wake") { Issue.record("lints: \(s.monitor.lints.map(\.line)), counters \(s.monitor.counters)") }
        let lint = try #require(s.monitor.lints.first { $0.kind == .lateWake })
        #expect(lint.message.contains("after future 1 (fib(34)) completed"), "\(lint.message)")
        #expect(lint.message.contains("while the loop slept in poll for"))
        #expect(lint.message.contains("a lost wake-up?"))

        // With the wake-ups working, the same request is never late.
        let (t, _) = try makeSession()
        defer { t.shutdown() }
        t.pollTimeout = .seconds(1)
        t.must("spawn server 0 --pool thread:2 --name server")
        t.must("spawn request @server 10 10 10 --name client")
        t.must("run until client done")
        t.must("expect no lints")
    }

    @Test func closingAnFdUnderAWaiter() throws {
        let (s, _) = try makeSession()
        defer { s.shutdown() }
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { Glibc.close(fds[1]) }
        let loop = s.loop
        let fd = fds[0]
        loop.spawn(name: "reader", kind: "test") { try await loop.readable(fd) }
        loop.spawn(name: "closer", kind: "test") { loop.close(fd) }
        s.must("run until idle")
        s.must("expect lint closed-fd reader")
        let lint = try #require(s.monitor.lints.first)
        #expect(lint.message.hasPrefix("task 1 (reader) was waiting on fd \(fd) (recv fd \(fd)) at InsightTests.swift:"))
        #expect(lint.message.hasSuffix("when it was closed under it: cancel the task before closing its fd, or let it close the fd itself"))
    }

    @Test func workWhoseTaskWasCancelledIsAnOrphanFuture() throws {
        let (s, _) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0 --pool thread:2 --name server")
        s.must("spawn request @server 32 --name client")
        s.must("break on future fib(32)")
        s.must("run until client done")
        let handler = try #require(s.loop.snapshot().tasks.first { $0.kind == "handler" })
        s.must("expect task \(handler.id.rawValue) waiting future")
        s.must("delete 1")
        s.must("cancel \(handler.id.rawValue)")
        s.must("run 2s")
        s.must("expect lint orphan-future \(handler.id.rawValue)")
        let lint = try #require(s.monitor.lints.first { $0.kind == .orphanFuture })
        #expect(lint.message.hasPrefix("future 1 (fib(32)) completed, but task \(handler.id.rawValue) (handler 127.0.0.1:"))
        #expect(lint.message.contains("which awaited it, had ended"))
    }

    @Test func aTaskThatOnlyYieldsNeverYields() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("lint never-yields 50")
        s.must("spawn counter 100 --name spinner")
        s.must("spawn counter 10 --name brief")
        s.must("run until idle")
        s.must("expect lint never-yields spinner")
        #expect(!s.execute("expect lint never-yields brief"))
        #expect(out.out.contains { $0.hasPrefix("warning: [never-yields] task 1 (spinner) ran 50 steps in a row without waiting on anything at SpawnCommands.swift:") })
        s.must("lints")
        // Counted at 50 and 100 steps in a row: the worst is in the message.
        #expect(out.out.last?.contains("[never-yields] task 1 (spinner) ran 100 steps in a row") == true, "the worst case, \(out.out.last ?? "")")
        #expect(out.out.last?.hasSuffix("(×2)") == true)
    }

    @Test func tasksJoiningEachOtherDeadlock() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        let loop = s.loop
        let other = Box<TaskID?>(nil)
        let a = loop.spawn(name: "a", kind: "test") { _ = try await loop.join(other.value!) }
        other.value = loop.spawn(name: "b", kind: "test") { _ = try await loop.join(a.id) }.id
        s.must("step 3")
        s.must("expect lint deadlock")
        #expect(out.out.contains("warning: [deadlock] every task waits and nothing can wake any of them (2 tasks): a cycle: task 1 joins task 2 joins task 1"))
        s.must("lint off deadlock")
        s.must("lint")
        #expect(out.out.last == "lints: slow-step 50ms, late-wake 20ms, never-yields 10000 steps; off: deadlock")
        #expect(!s.execute("lint off sloppy"))
        #expect(out.err.last == "error: no lint 'sloppy'; use blocked-loop, descheduled, late-wake, closed-fd, orphan-future, never-yields, deadlock or all")
        #expect(!s.execute("expect lint sloppy"))
    }

    @Test func statsCountWhatASteppedSessionDid() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn counter 10 --name ten")
        s.must("spawn counter 5 --name five")
        s.must("spawn sleeper 20ms --name nap")
        s.must("run until idle")
        var seen = out.out.count
        s.must("stats --json")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(out.out[seen...].joined(separator: "\n").utf8)) as? [String: Any])
        let figures = try #require(doc["figures"] as? [String: [String: Any]])
        // 11 + 6 steps of the counters, 2 of the sleeper.
        #expect(figures["step"]?["count"] as? Int == 19)
        #expect(figures["wait sleep"]?["count"] as? Int == 1)
        let napped = try #require(figures["wait sleep"]?["p50_ns"] as? Int)
        #expect(napped >= 20_000_000, "the sleeper waited its 20 ms")
        seen = out.out.count
        s.must("stats ten")
        let rows = out.out[seen...].flatMap { $0.split(separator: "\n") }
        let stepRow = try #require(rows.first { $0.hasPrefix("step") })
        #expect(stepRow.split(separator: " ")[1] == "11", "\(rows)")
        s.must("stats --reset")
        seen = out.out.count
        s.must("stats --json")
        let fresh = try #require(try JSONSerialization.jsonObject(with: Data(out.out[seen...].joined(separator: "\n").utf8)) as? [String: Any])
        #expect((fresh["figures"] as? [String: [String: Any]])?["step"]?["count"] as? Int == 0)
        #expect(!s.execute("stats nobody"))
    }

    @Test func topPrintsOneFrame() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn counter 3 --name c")
        s.must("spawn sleeper 10s --name nap")
        s.must("step 4")
        let seen = out.out.count
        s.must("top --once")
        // Clock readings masked: rates, shares and durations.
        // (A machine busy enough to stall a step may add a lints line: not what this checks.)
        let frame = out.out[seen...].flatMap { $0.split(separator: "\n").map(String.init) }.filter { !$0.hasPrefix("lints ") }.map { line in
            line.replacingOccurrences(of: #"[0-9]+(\.[0-9]+)?(ns|us|ms|s|%)?"#, with: "N", options: .regularExpression)
                .replacingOccurrences(of: " +", with: " ", options: .regularExpression)
                // The cut at 80 columns moves with the widths of the numbers.
                .replacingOccurrences(of: #"SpawnCommands\S*$"#, with: "SpawnCommands…", options: .regularExpression)
        }
        // (Column widths follow the numbers: runs of spaces are compared as one.)
        let header = [
            "top — #N paused, over N s",
            "loop N steps/s, N polls/s, N wake-ups/s; time in poll N, in steps N",
            "queues ready N, futures in flight N",
            "id name state steps/s busy% waiting on for where",
        ]
        // Cut at the width of the output (80 columns when not on a terminal).
        let c = " N c ready N N —"
        let nap = " N nap waiting N N sleep (N s left) N SpawnCommands…"
        #expect(frame == header + [c, nap] || frame == header + [nap, c], "\(frame)")
        let seenJSON = out.out.count
        s.must("top --once --json")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(out.out[seenJSON...].joined(separator: "\n").utf8)) as? [String: Any])
        let tasks = try #require(doc["tasks"] as? [[String: Any]])
        #expect(Set(tasks.compactMap { $0["name"] as? String }) == ["c", "nap"])
        #expect((doc["loop"] as? [String: Any])?["step"] as? Int == 4)
        #expect(!s.execute("top --sort size"))
        #expect(!s.execute("top --json"))
    }
}
