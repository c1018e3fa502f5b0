// The interactive front end on a real pseudo-terminal: python3's pty module drives corepl
// and checks what the terminal shows (see pty_session.py for each check).
import FibPack
import Foundation
@testable import Repl
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct TerminalTests {
    @Test func aSessionTypedOnARealTerminalBehaves() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("pty_session.py").path
        // pty_session.py waits for text on the terminal (each wait has its own deadline);
        // the whole session is bounded too.
        let r = try runChild("/usr/bin/env", ["python3", script, try coreplPath()], timeout: .seconds(240))
        let text = r.out + r.err
        #expect(r.status == 0, "\(text)")
        #expect(text.contains("all checks passed"))
    }

    @Test func theTutorialTypedWithPausesTeachesWhatTheExamplesDo() throws {
        // §2, §4 and §8 typed at the prompt a second apart (see pty_typed_tutorial.py):
        // perf2's ratio of replies during fib(40) to the time before must come out as in
        // the examples, however long the loop stood paused between commands.
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("pty_typed_tutorial.py").path
        let r = try runChild("/usr/bin/env", ["python3", script, try coreplPath()], timeout: .seconds(240))
        let text = r.out + r.err
        #expect(r.status == 0, "\(text)")
        #expect(text.contains("all checks passed"))
    }

    @Test func completionOffersCommandsTasksAddressesPoolsAndFiles() throws {
        let tasks: Completer.Tasks = [(1, "server", true), (2, "perf2", false)]
        let (session, _) = try makeSession()
        let r = session.registry
        #expect(Completer.complete("que", registry: r, tasks: tasks).candidates == ["queues"])
        #expect(Completer.complete("s", registry: r, tasks: tasks).candidates.contains("spawn"))
        #expect(Completer.complete("spawn pe", registry: r, tasks: tasks).candidates == ["perf1", "perf2"])
        #expect(Completer.complete("spawn perf2 @", registry: r, tasks: tasks).candidates == ["@1", "@server"])
        // Where a task is taken, `@` completes every task, keeping the `@`.
        #expect(Completer.complete("show @", registry: r, tasks: tasks).candidates == ["@1", "@2", "@perf2", "@server"])
        #expect(Completer.complete("show @p", registry: r, tasks: tasks).candidates == ["@perf2"])
        #expect(Completer.complete("run until @", registry: r, tasks: tasks).candidates == ["@1", "@2", "@perf2", "@server"])
        #expect(Completer.complete("spawn server 0 --pool pro", registry: r, tasks: tasks).candidates == ["process", "process:2", "process:4"])
        #expect(Completer.complete("show ", registry: r, tasks: tasks).candidates.contains("2"))
        #expect(Completer.complete("step; cancel 1", registry: r, tasks: tasks).candidates == ["1"])
        let files = Completer.complete("source Pack", registry: r, tasks: tasks, files: { prefix in
            ["Package.swift", "README.md"].filter { $0.hasPrefix(prefix) }
        })
        #expect(files.candidates == ["Package.swift"])
        #expect(Completer.commonPrefix(["process", "process:2"]) == "process")
        // Everything after the command name comes from the command's definition.
        #expect(Completer.complete("watch o", registry: r, tasks: tasks).candidates == ["off", "on"])
        #expect(Completer.complete("poller ", registry: r, tasks: tasks).candidates == ["epoll", "poll", "select"])
        #expect(Completer.complete("break on f", registry: r, tasks: tasks).candidates == ["fail", "future"])
        #expect(Completer.complete("step --t", registry: r, tasks: tasks).candidates == ["--timeout"])
        #expect(Completer.complete("spawn server --w", registry: r, tasks: tasks).candidates == ["--wait"])
        #expect(Completer.complete("pool --wait ", registry: r, tasks: tasks).candidates == ["block", "yield"])
        #expect(Completer.complete("run until ", registry: r, tasks: tasks).candidates.contains("1"))
        #expect(Completer.complete("tasks --", registry: r, tasks: tasks).candidates == ["--json"])
        // A core session without the fib pack knows no fib kinds.
        let core = try Session(output: ReplOutput.capturing().0)
        #expect(Completer.complete("spawn ", registry: core.registry, tasks: []).candidates == ["counter", "race", "sleeper"])
    }
}
