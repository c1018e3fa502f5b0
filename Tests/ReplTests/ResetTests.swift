// `reset` is a fresh start (docs/TIME-TRAVEL.md): the history, the journal and the
// timeline of commands that forks and replays re-run begin with the fresh loop, so that a
// session with a reset in it replays from its journal and forks in its past.
import FibPack
import Foundation
@testable import Repl
import Runtime
import TimeTravel
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(3))) struct ResetTests {
    /// Real sockets before and after the reset: the journal holds the fresh loop's
    /// commands, steps and inputs only, and `corepl replay` agrees with every step.
    @Test func aJournalAfterAResetHoldsWhatFollowedItAndReplays() throws {
        try withTemporaryDirectory("reset") { dir in
            let (s, out) = try makeSession()
            defer { s.shutdown() }
            s.must("spawn server 0 --pool inline --name srv; spawn request @srv 5 --name r1; run until r1 done")
            s.must("reset")
            s.must("spawn server 0 --pool inline --name srv; spawn request @srv 6 --name r2; run until r2 done")
            s.must("journal save \(dir)/j.json")
            #expect(out.out.last?.hasPrefix("wrote 2 commands and \(s.loop.stepCount) steps to ") == true, "\(out.out.last ?? "")")
            let journal = try Journal(contentsOf: dir + "/j.json")
            #expect(journal.commands.map(\.text) == ["spawn server 0 --pool inline --name srv", "spawn request @srv 6 --name r2"])
            #expect(journal.commands.allSatisfy { $0.step == 0 }, "typed at #0 of the fresh loop")
            #expect(journal.stepCount == s.loop.stepCount)
            #expect(journal.steps.first?.step == 1)
            let r = try runChild(try coreplPath(), ["replay", dir + "/j.json"], timeout: .seconds(60))
            #expect(r.status == 0, "exit status \(r.status): \(r.err)")
            #expect(r.out.contains("replayed \(s.loop.stepCount) steps and 2 commands from "), "\(r.out)")
            #expect(r.out.contains("answering every outside input from the journal: every step as recorded"), "\(r.out) \(r.err)")
        }
    }

    /// Real parts before the reset fix nothing of the fresh loop's past: a session of
    /// simulated parts after it forks a new timeline there.
    @Test func aVirtualSessionAfterAResetForksInItsPast() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0 --pool inline; spawn counter 2; step 3")
        s.must("reset")
        s.must("clock virtual; spawn counter 3 --name b; run until idle")
        let end = s.loop.stepCount
        s.must("goto 2")
        s.must("spawn counter 2 --name extra")
        #expect(out.out.suffix(2).first == "forked a new timeline at #2 (re-ran 2 steps and 2 commands; the old one went on to #\(end))",
                "\(out.out.suffix(3)) \(out.err.suffix(1))")
        #expect(s.pastStep == nil)
        #expect(try s.task("extra").state == .ready)
        s.must("run until idle; expect task extra done; expect task b done")
    }

    /// The history and the journal begin afresh as they were set: off stays off, a limit stays.
    @Test func historyAndJournalSettingsSurviveAReset() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn counter 3; step 2; history off; journal off; reset")
        #expect(s.loop.historyStatus == nil, "history off stays off")
        #expect(s.loop.inputRecordingStatus == nil, "journal off stays off")
        s.must("history on --limit 10; journal on")
        #expect(out.out.last == "journal: recording outside inputs")
        s.must("spawn counter 3; step 2; reset")
        #expect(s.loop.historyStatus?.limit == 10)
        #expect(s.loop.historyStatus?.newestStep == 0)
        #expect(s.loop.inputRecordingStatus?.inputs == 0)
        s.must("spawn counter 2; step 1; step back")
        #expect(s.pastStep == 0)
        #expect(!s.execute("step back"), "the fresh loop's #0 is as far back as it goes")
    }
}
