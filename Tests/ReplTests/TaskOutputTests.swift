// What clients print, and how much of it reaches the screen: `--quiet` clients print
// nothing and record their figures all the same; under `output limit N` each task shows at
// most N lines a second, the rest are summed up in one line and kept in the transcript,
// and a request's replies always show. The interactive prompt sets a limit; scripts do not.
import FibPack
import Foundation
@testable import Repl
import Runtime
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(3))) struct TaskOutputTests {
    /// The lines a session showed from task `id` of `kind` (`task 2 perf1: …`).
    private func shown(_ out: CapturedOutput, _ id: Int, _ kind: String) -> [String] {
        out.out.filter { $0.hasPrefix("task \(id) \(kind): ") }
    }

    @Test func quietClientsPrintNothingAndRecordTheirFigures() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0 --name srv")
        s.must("spawn perf1 @srv --n 1 --duration 150ms --quiet --name p1")
        #expect(out.out.last == "task 2 p1 (quiet) → ready")
        s.must("spawn perf2 @srv --duration 350ms --quiet --name p2")
        s.must("spawn request @srv 20 21 --quiet --name r")
        s.must("spawn perf1 @srv --n 1 --duration 150ms --thread --quiet --name t1")
        s.must("spawn perf2 @srv --duration 350ms --thread --quiet --name t2")
        s.must("spawn request @srv 20 21 --thread --quiet --name tr")
        for task in ["p1", "p2", "r", "t1", "t2", "tr"] { s.must("run until \(task) done") }
        // Not one line of a client: `task N perf1: 0.0003`, `task N perf2: 9812 reqs/sec`,
        // `task N request: fib(20) = 6765 in 1.2 ms`.
        let printed = out.out.filter { $0.contains(#/^task \d+ (perf1|perf2|request): /#) }
        #expect(printed.isEmpty, "\(printed.prefix(3))")
        // The figures are recorded all the same, for show, expect and during.
        s.must("expect task p1 latency.count > 0; expect task t1 latency.count > 0")
        s.must("expect task p2 reqs_per_100ms.count > 0; expect task t2 reqs_per_100ms.count > 0")
        s.must("expect task p2 reqs_per_100ms.sum > 0; expect task t2 reqs_per_100ms.sum > 0")
        s.must("expect task r result.last == 10946; expect task tr result.last == 10946")
        s.must("expect task r latency.count == 2; expect task tr latency.count == 2")
        s.must("show p1")
        // One value or many: a loaded machine can answer only one request in 150 ms.
        #expect(out.out.contains { $0.hasPrefix("  latency: ") && $0.contains(#/ values?; min /#) })
    }

    @Test func aLimitHoldsBackClientLinesAndSumsThemUp() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        #expect(s.output.taskLineLimit == nil, "a script shows every line unless it sets a limit")
        // The limiter's clock stands still: no line is let through for time passing.
        s.output.limiter.setClock { 1_000_000_000 }
        s.must("output limit 3")
        #expect(out.out.last == "task lines: at most 3 lines a second from each task shown, the rest summed up ('output limit off' shows every line)")
        s.must("spawn server 0")
        s.must("spawn perf1 @1 --n 1 --duration 100ms --name p1")
        s.must("spawn request @1 1 1 1 1 1 --name r")
        s.must("run until p1 done")
        s.must("run until r done")
        // The transcript (what 'expect output contains' reads) keeps every line, shown or not.
        let lines = s.output.lastLines(ReplOutput.transcriptLimit).filter { $0.hasPrefix("task 2 perf1: ") }
        #expect(lines.count > 3, "perf1 replied more often than the limit lets through")
        s.must("expect task p1 latency.count == \(lines.count)")
        #expect(shown(out, 2, "perf1") == Array(lines.prefix(3)), "the first three show, the rest are held back")
        // A request's replies always show.
        #expect(shown(out, 3, "request").count == 5)
        // One line says what was held back, once the command is over (the first summary
        // says how to change the limit).
        let summary = "… \(TaskLineLimiter.grouped(lines.count - 3)) lines from task 2 (perf1) held back; 'show 2' has its figures"
        #expect(out.out.filter { $0.hasPrefix("… ") } == [summary + " (each task shows at most 3 lines a second; 'output limit N' or 'output limit off' changes it)"])
        // The summary is narration: no expectation can be met by it.
        #expect(!s.execute("expect output contains held back"))
        s.must("output limit off")
        s.must("spawn perf1 @1 --n 1 --duration 50ms --name p2")
        let p2 = try #require(out.out.last?.split(separator: " ").dropFirst().first.flatMap { Int($0) })
        s.must("run until p2 done")
        #expect(shown(out, p2, "perf1").count > 3)
        s.must("expect task p2 latency.count == \(shown(out, p2, "perf1").count)")
        #expect(out.out.filter { $0.hasPrefix("… ") }.count == 1, "with no limit nothing is held back")
    }

    @Test func theLimiterLetsABurstThroughThenOneLineAtATime() {
        let now = Locked<UInt64>(0)
        let limiter = TaskLineLimiter(clock: { now.withLock { $0 } })
        let perf1 = TaskID(7)
        #expect(limiter.admit(task: perf1, label: "perf1").show, "no limit: every line shows")
        limiter.perSecond = 2
        #expect((0..<5).map { _ in limiter.admit(task: perf1, label: "perf1").show } == [true, true, false, false, false])
        #expect(limiter.admit(task: TaskID(8), label: "perf2").show, "each task has its own allowance")
        now.withLock { $0 = 500_000_000 }  // half a second: one more line's worth
        #expect(limiter.admit(task: perf1, label: "perf1").show)
        #expect(!limiter.admit(task: perf1, label: "perf1").show)
        #expect(limiter.holding)
        // Summed up once lines have been held for the summary period (or when forced).
        #expect(limiter.flush(force: false) == nil)
        now.withLock { $0 = TaskLineLimiter.summaryPeriod }
        #expect(limiter.flush(force: false) == "… 4 lines from task 7 (perf1) held back; 'show 7' has its figures (each task shows at most 2 lines a second; 'output limit N' or 'output limit off' changes it)")
        #expect(!limiter.holding)
        #expect(limiter.flush(force: true) == nil, "nothing held since")
        // Several tasks in one line; a summary that is due comes with the next line.
        for _ in 0..<1834 { _ = limiter.admit(task: perf1, label: "perf1") }
        for _ in 0..<5 { _ = limiter.admit(task: TaskID(9), label: "perf1") }  // 2 show
        now.withLock { $0 += TaskLineLimiter.summaryPeriod }
        let next = limiter.admit(task: TaskID(9), label: "perf1")
        #expect(next.summary == "… 1,835 lines held back: 1,832 from task 7 (perf1), 3 from task 9 (perf1); 'show TASK' has their figures")
        #expect(next.show, "the period refilled task 9's allowance")
        #expect(TaskLineLimiter.grouped(1_234_567) == "1,234,567" && TaskLineLimiter.grouped(999) == "999")
    }

    @Test func theInteractivePromptLimitsClientLinesAndScriptsDoNot() throws {
        let (terminalOutput, fd) = try Terminal.makeOutput()
        defer { close(fd) }
        #expect(terminalOutput.taskLineLimit == ReplOutput.defaultTaskLineLimit)
        #expect(ReplOutput.capturing().0.taskLineLimit == nil)
        #expect(ReplOutput.standard().taskLineLimit == nil)
    }

    @Test func aClientFloodIsHeldBackOnARealTerminal() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("pty_output.py").path
        let r = try runChild("/usr/bin/env", ["python3", script, try coreplPath()], timeout: .seconds(120))
        let text = r.out + r.err
        #expect(r.status == 0, "\(text)")
        #expect(text.contains("all checks passed"))
    }
}
