// The tutorial's starvation contrasts (docs/TUTORIAL.md §2, §4, §8) typed as a person types
// them: a second at the prompt between commands (`sleep 1s` pauses wall-clock time while
// the loop stays paused). The examples run the same commands back to back; here the
// answers must come out the same, which they only do if the time the loop stood paused
// counts nowhere — not in `during`'s windows, not in a request's latency, not in perf2's
// rates — and pool work stands still with the loop. (Before loop time excluded pauses, §2
// read "1 reply during, 1 before — ratio 1.0", §4 "ratio 0.0001" and §8 "ratio 39".)
import Foundation
@testable import Repl
import Runtime
import Testing

@Suite(.serialized, .timeLimit(.minutes(5))) struct TypedByHandTests {
    /// Executes each line with a second of wall-clock time at the prompt before it.
    static func type(_ s: Session, _ lines: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for line in lines {
            s.must("sleep 1s", sourceLocation: sourceLocation)
            s.must(line, sourceLocation: sourceLocation)
        }
    }

    /// A task's latest value of `figure`.
    static func last(_ s: Session, _ task: String, _ figure: String) throws -> Double {
        try #require(try s.task(task).figures[figure]?.last)
    }

    @Test func section2InlineFibStarvesPerf2() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        Self.type(s, [
            "spawn server 0 --pool inline --name server",
            "spawn perf2 @server --thread --name perf2",
            "run 1s",
            "spawn request @server 40 --name long",
            // A look around before running it: the prompt's pause is then longer than
            // fib(40) takes, so the time before it was all spent paused.
            "tasks",
            "queues",
            "run until long done",
            "during long",
        ])
        #expect(out.out.contains { $0.contains("fib(40) = 102334155") })
        s.must("expect task perf2 replies during long < 0.02 * before")
    }

    @Test func section4YieldingOnThePoolKeepsServing() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        Self.type(s, [
            "spawn server 0 --pool thread:4 --wait yield --name server",
            "spawn perf2 @server --thread --name perf2",
            "run 1s",
            "spawn request @server 40 --name long",
            "break on future fib(40)",
            "run until long done",
        ])
        let stopped = monotonicNanos()
        // At the breakpoint, fib(40) has just gone to the pool: the pool must not compute
        // it while the loop stands here, or perf2 would have nothing to be served during.
        Self.type(s, ["queues", "delete 1"])
        s.must("sleep 1s")
        s.must("continue")
        let wall = Double(monotonicNanos() - stopped) / 1e9
        #expect(out.out.contains { $0.contains("fib(40) = 102334155") })
        s.must("sleep 1s")
        s.must("during long")
        s.must("expect task perf2 replies during long >= 0.1 * before")
        // The request's latency is the time the loop ran: three seconds at the prompt are
        // not in it.
        let latency = try Self.last(s, "long", "latency")
        #expect(latency < wall - 2.5, "fib(40) took \(latency) s of loop time; \(wall) s passed, 3 s of it at the prompt")
        // perf2 was served all along: no second of loop time without replies, and none
        // printed for the seconds the loop stood at the prompt.
        #expect(!out.out.contains { $0.hasSuffix(" 0 reqs/sec") }, "\(out.out.filter { $0.contains("reqs/sec") })")
    }

    @Test func section8TheGILStarvesPerf2Again() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        Self.type(s, [
            "spawn server 0 --pool thread:4 --gil --name gil",
            "spawn perf2 @gil --thread --name gil-perf2",
            "run 1s",
            "spawn request @gil 40 --name gil-long",
            "run until gil-long done",
            "run 500ms",
            "during gil-long",
        ])
        #expect(out.out.contains { $0.contains("fib(40) = 102334155") })
        s.must("expect task gil-perf2 replies during gil-long < 0.1 * before")
    }
}
