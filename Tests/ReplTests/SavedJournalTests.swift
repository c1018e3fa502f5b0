// A journal saved by an older build still replays (docs/TIME-TRAVEL.md, section 6): the
// fixture Fixtures/fib-session-4a49f37.journal.json was written by a release corepl built
// at commit 4a49f37, before the pools moved out of Runtime, from the session in
// Fixtures/fib-session-4a49f37.repl — a fib server on a thread pool, a fib(25) request,
// perf1 and perf2 on real sockets. `corepl replay` of this build must answer every outside
// input from it and take every step as recorded.
import Foundation
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(2))) struct SavedJournalTests {
    /// The fixture, found next to this file (the test target excludes the folder).
    static let journal = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fib-session-4a49f37.journal.json").path

    /// What the replay says when every step agreed with the journal.
    static var verdict: String {
        "replayed 44 steps and 5 commands from \(journal), answering every outside input from the journal: every step as recorded"
    }

    @Test func theFixtureIsAJournalOfTheFormatItWasSavedIn() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.journal))
        #expect(data.count < 16 * 1024, "the fixture is meant to be small: \(data.count) bytes")
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["format"] as? String == "corepl-journal 2")
        #expect(json["stepCount"] as? Int == 44)
    }

    /// Replayed as a user would, it agrees with its recording step for step and exits 0.
    @Test func aJournalSavedBeforeTheRefactoringReplays() throws {
        let r = try runChild(try coreplPath(), ["replay", Self.journal], timeout: .seconds(60))
        #expect(r.status == 0, "exit status \(r.status): \(r.out) \(r.err)")
        #expect(r.out.split(separator: "\n").last.map(String.init) == Self.verdict, "\(r.out) \(r.err)")
    }

    /// With --echo, the replay shows what the session's tasks printed, from the journal's
    /// inputs (the port the listener got, the server's reply bytes, the clock readings): the
    /// recorded port, the request's fib(25) and perf1's first latency, as recorded.
    @Test func itsEchoShowsTheRecordedReplies() throws {
        let r = try runChild(try coreplPath(), ["replay", "--echo", Self.journal], timeout: .seconds(60))
        #expect(r.status == 0, "exit status \(r.status): \(r.out) \(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("task 1 server at 127.0.0.1:43449 ") }, "\(r.out)")
        #expect(lines.contains("task 2 request: fib(25) = 75025 in 6.9 ms"), "\(r.out)")
        #expect(lines.contains("task 3 perf1: 0.0069"), "\(r.out)")
        #expect(lines.last == Self.verdict, "\(r.out) \(r.err)")
    }
}
