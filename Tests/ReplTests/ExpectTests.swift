// `expect` can fail: its output check reads only results (never the script's own words),
// a comparison with "before" needs something before, and no form ignores a word.
import Foundation
@testable import Repl
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct ExpectTests {
    @Test func outputContainsIgnoresEchoedCommandsAndNarration() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.echo = true
        s.must("echo narrated NEVER-A-RESULT")
        #expect(out.out.contains("> echo narrated NEVER-A-RESULT"), "the echo is printed")
        #expect(out.out.contains("narrated NEVER-A-RESULT"), "the narration is printed")
        // Neither the echoed command lines nor the narration count as results.
        #expect(!s.execute("expect output contains NEVER-A-RESULT"))
        #expect(out.err.last == "error: expected output containing 'NEVER-A-RESULT', found no result line at all since the session began or its last reset")
        #expect(!s.execute("expect output contains narrated"))
        // A command's reply does.
        s.must("spawn counter 2 --name tally")
        #expect(out.out.last == "task 1 tally → ready")
        s.must("expect output contains task 1 tally → ready")
        #expect(!s.execute("expect output contains task 1 tally → done"))
        #expect(out.err.last == "error: expected output containing 'task 1 tally → done', found none; last lines: 'task 1 tally → ready'")
    }

    @Test func outputContainsLooksOnlySinceTheLastReset() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn counter 2 --name before-reset")
        s.must("expect output contains before-reset")
        s.must("reset")
        #expect(out.out.last?.hasPrefix("reset: cancelled 1 task") == true)
        #expect(!s.execute("expect output contains before-reset"))
        // What reset itself replied is the new loop's output.
        s.must("expect output contains reset: cancelled 1 task")
    }

    @Test func repliesComparedWithBeforeNeedRepliesBefore() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn sleeper 10s")
        s.must("spawn sleeper 10s")
        s.must("spawn sleeper 10s")
        let pinger = try #require(s.loop.stamps(for: TaskID(1)))
        let long = try #require(s.loop.stamps(for: TaskID(2)))
        let steady = try #require(s.loop.stamps(for: TaskID(3)))
        // Task 2's request is in flight from t0 + 1 s to t0 + 2 s; task 1 replies only during
        // it, task 3 once before it (half a second after it began: scaled, 2 a second) and once
        // during it.
        let t0 = monotonicNanos() - 5_000_000_000
        long.add(Stamp.sent, at: t0 + 1_000_000_000)
        long.add(Stamp.replied, at: t0 + 2_000_000_000)
        pinger.add(Stamp.replied, at: t0 + 1_500_000_000)
        steady.add(Stamp.replied, at: t0 + 500_000_000)
        steady.add(Stamp.replied, at: t0 + 1_500_000_000)
        let noBaseline = "error: no replies before task 2's requests: task 1 had none in the 1.0000 s before them, so there is nothing to compare with (it got 1 during them)"
        // Each of these held before, against a baseline of 0 (1 >= 0.1 * 0).
        for form in [">= 0.1 * before", "> before", "< 2 * before"] {
            #expect(!s.execute("expect task 1 replies during 2 \(form)"), "\(form)")
            #expect(out.err.last == noBaseline, "\(form)")
        }
        // An absolute count needs no baseline.
        s.must("expect task 1 replies during 2 == 1")
        // With a reply before the window, the comparison is made.
        s.must("expect task 3 replies during 2 >= 0.5 * before")
        #expect(!s.execute("expect task 3 replies during 2 > before"))
        #expect(out.err.last == "error: expected task 3 replies during task 2 > before, found 1 in 1.0000 s (2 in the same time before)")
    }

    /// Every form refuses a word it does not use (each of these passed before, the extra
    /// word ignored), with its usage.
    @Test func noFormIgnoresAWord() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn sleeper 10s --name nap; step")
        s.must("expect task nap waiting sleep")
        s.must("expect queue timers 1")
        for (line, error) in [
            ("expect task nap waiting sleep recv", "usage: expect task TASK waiting [REASON] (one reason: recv, send, future, sleep, yield, join, external or a host queue)"),
            ("expect task nap waiting recv sleep", "usage: expect task TASK waiting [REASON] (one reason: recv, send, future, sleep, yield, join, external or a host queue)"),
            ("expect task nap ready now", "usage: expect task TASK ready"),
            ("expect task nap finished yet", "usage: expect task TASK finished"),
            ("expect queue timers == 1 2", "usage: expect queue QUEUE [OP] N | expect queue QUEUE contains TASK"),
            ("expect queue timers contains nap nap", "usage: expect queue QUEUE contains TASK"),
            ("expect no lints at all", "usage: expect task … | expect queue … | expect output contains TEXT | expect no lints | expect lint KIND [TASK] | expect gil … (see 'help expect')"),
            ("expect lint blocked-loop nap nap", "usage: expect lint KIND [TASK]"),
        ] {
            #expect(!s.execute(line), "\(line)")
            #expect(out.err.last == "error: \(error)", "\(line)")
        }
        for v in [1.0, 2, 3] { s.loop.record(v, as: "latency", for: TaskID(1)) }
        s.must("expect task nap latency.max < 5")
        #expect(!s.execute("expect task nap latency.max < 5 *"))
        #expect(out.err.last == "error: expected something after '5 *' to multiply")
        #expect(!s.execute("expect task nap latency.max < 5 nap"))
        #expect(out.err.last == "error: no task 5")
        #expect(!s.execute("expect task nap latency.max < 2 * nap latency.max extra"))
        #expect(out.err.last == "error: usage: expect task TASK FIGURE.STAT OP NUMBER | OP [FACTOR *] TASK2 FIGURE.STAT")
    }

    @Test func helpSaysWhatOutputContainsSearches() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("help expect")
        let help = out.out.joined(separator: "\n")
        #expect(help.contains("appears in a result line printed since the"))
        #expect(help.contains("Never in an echoed"))
        #expect(help.contains("nothing to compare with"))
    }
}
