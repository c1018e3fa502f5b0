// What a new user meets first (issue 28, item 6): `corepl --help` lists every option,
// `corepl replay --echo` shows the session it replays, and a number out of range is refused
// with what was wrong with it — not "Unknown option '-3'".
import Foundation
@testable import Repl
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(3))) struct FirstUseTests {
    /// The options of `corepl [FILE…]`, which is how corepl is run.
    static let replOptions = ["-c <c>", "-i ", "--echo", "--keep-going", "--trace <out.json>", "--seed <N>", "--seeds <A-B>"]

    @Test func theFirstHelpPageListsEveryOptionOfTheRepl() throws {
        for asked in ["--help", "-h", "help"] {
            let r = try corepl([asked])
            #expect(r.status == 0, "\(asked): \(r.err)")
            let lines = r.out.split(separator: "\n").map(String.init)
            // Each option on a line of its own under OPTIONS, with its help; the usage says
            // how to run scripts, and the subcommands are still listed.
            for option in Self.replOptions {
                #expect(lines.contains { $0.hasPrefix("  " + option) }, "corepl \(asked) does not list \(option):\n\(r.out)")
            }
            #expect(lines.contains { $0.hasPrefix("USAGE: corepl [<files> ...] ") }, "\(r.out)")
            #expect(lines.contains { $0.hasPrefix("  replay ") } && lines.contains { $0.hasPrefix("  serve ") }, "\(r.out)")
        }
    }

    @Test func replayEchoShowsTheReplayedCommandsAndTheirOutput() throws {
        try withTemporaryDirectory("first-use") { dir in
            let journal = dir + "/session.json"
            let recorded = try corepl(["-c", "spawn server 0 --name srv; spawn request @srv 20 --name r; run until r done; journal save \(journal)"])
            #expect(recorded.status == 0, "\(recorded.err)")
            let plain = try corepl(["replay", journal])
            #expect(plain.status == 0, "\(plain.err)")
            #expect(plain.out.split(separator: "\n").map(String.init).last?.hasPrefix("replayed ") == true, "\(plain.out)")
            #expect(!plain.out.contains("fib(20)"), "without --echo a replay prints only its verdict:\n\(plain.out)")
            let echoed = try corepl(["replay", "--echo", journal])
            #expect(echoed.status == 0, "\(echoed.err)")
            let lines = echoed.out.split(separator: "\n").map(String.init)
            // The commands as typed, what they printed, and what the tasks printed as the
            // steps ran again (the port is the recorded one: the journal answered the bind).
            #expect(lines.first == "> spawn server 0 --name srv", "\(echoed.out)")
            #expect(lines.contains("> spawn request @srv 20 --name r"), "\(echoed.out)")
            #expect(lines.contains { $0.hasPrefix("task 2 request: fib(20) = 6765 in ") }, "\(echoed.out)")
            #expect(lines.last?.hasPrefix("replayed ") == true && lines.last?.hasSuffix("every step as recorded") == true, "\(echoed.out)")
        }
    }

    /// A negative number was "Unknown option '-3'"; `run 5 parsecs` was a bare usage line.
    @Test func numbersOutOfRangeSayWhatIsWrong() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        func refused(_ line: String, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(!s.execute(line), "\(line) succeeded", sourceLocation: sourceLocation)
            #expect(out.err.last(where: { !$0.hasPrefix("  ") }) == "error: " + message, sourceLocation: sourceLocation)
        }
        refused("step -3", "step takes a count of 1 or more, got -3")
        refused("step 0", "step takes a count of 1 or more, got 0")
        refused("step back -2", "step back takes a count of 1 or more, got -2")
        refused("step --timeout -1s", "'-1s' is negative: a duration is 0 or more, such as 3, 500ms, 2s or 1m")
        refused("step --bogus", "unknown option '--bogus'")
        refused("run -5s", "run: '-5s' is negative: a duration is 0 or more (3, 500ms, 2s, 1m)")
        refused("run 5 parsecs", "run: '5 parsecs' is not a duration: use a number with ns, us, ms, s, m or h in one word (3, 500ms, 2s, 1m), 'until idle' or 'until TASK done'")
        refused("run 5parsecs", "run: '5parsecs' is not a duration: use a number with ns, us, ms, s, m or h (3, 500ms, 2s, 1m), 'until idle' or 'until TASK done'")
        refused("run until 3", "run: 'until' goes with 'idle' or 'TASK done', got 'until 3'")
        s.must("net sim")
        refused("net fault delay -1ms", "'net fault delay' takes a duration from 0 to 60s (0, 5ms, 1s), got '-1ms'")
        refused("net fault delay 5 ms", "'net fault delay' takes one value, got '5 ms'")
        refused("net fault drop -5%", "'net fault drop' takes a percentage from 0% to 100%, got '-5%'")
        // Every other command: the number is named, not taken for an option.
        refused("timeline -5", "timeline takes no negative number, got -5")
        refused("delete -1", "delete takes no negative number, got -1")
        refused("sleep -1s", "sleep takes no negative number, got -1s")
        refused("policy random --seed -1", "policy takes no negative number, got -1")
        refused("spawn counter -4", "spawn counter takes no negative number, got -4")
        // Still usable: a run and a step with a timeout.
        s.must("net fault delay 5ms; step 2 --timeout 1ms; run 10ms")
        #expect(out.err.allSatisfy { !$0.contains("Unknown option") }, "\(out.err)")
    }
}
