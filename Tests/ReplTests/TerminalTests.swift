// The interactive front end on a real pseudo-terminal: python3's pty module drives corepl
// and checks what the terminal shows (see pty_session.py for each check).
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

    @Test func completionOffersCommandsTasksAddressesPoolsAndFiles() {
        let tasks: Completer.Tasks = [(1, "server", true), (2, "perf2", false)]
        let r = CommandRegistry.builtIn
        #expect(Completer.complete("que", registry: r, tasks: tasks).candidates == ["queues"])
        #expect(Completer.complete("s", registry: r, tasks: tasks).candidates.contains("spawn"))
        #expect(Completer.complete("spawn pe", registry: r, tasks: tasks).candidates == ["perf1", "perf2"])
        #expect(Completer.complete("spawn perf2 @", registry: r, tasks: tasks).candidates == ["@1"])
        #expect(Completer.complete("spawn server 0 --pool pro", registry: r, tasks: tasks).candidates == ["process", "process:2", "process:4"])
        #expect(Completer.complete("show ", registry: r, tasks: tasks).candidates.contains("2"))
        #expect(Completer.complete("step; cancel 1", registry: r, tasks: tasks).candidates == ["1"])
        let files = Completer.complete("source Pack", registry: r, tasks: tasks, files: { prefix in
            ["Package.swift", "README.md"].filter { $0.hasPrefix(prefix) }
        })
        #expect(files.candidates == ["Package.swift"])
        #expect(Completer.commonPrefix(["process", "process:2"]) == "process")
    }
}
