// The corepl executable as a user runs it: scripts, -c, stdin, --echo, --keep-going, exit
// statuses, FILE:LINE errors, JSON on stdout, and nothing left behind after quitting.
import Foundation
import Pools
import Runtime
import Testing
import TestSupport

/// The built corepl executable (next to the test bundle).
func coreplPath() throws -> String {
    try #require(ProcessPool.locate("corepl"), "corepl is not built")
}

struct Ran {
    var status: Int32
    var out: String
    var err: String
}

/// Runs corepl with `arguments` (and `stdin`), collecting its output; a corepl that has
/// not exited after `timeout` is killed and fails the test.
func corepl(_ arguments: [String], stdin: String? = nil, timeout: Duration = .seconds(120)) throws -> Ran {
    let r = try runChild(try coreplPath(), arguments, stdin: stdin, timeout: timeout)
    return Ran(status: r.status, out: r.out, err: r.err)
}

@Suite(.serialized, .timeLimit(.minutes(5))) struct CommandLineTests {
    @Test func traceRecordsAWholeScript() throws {
        try withTemporaryDirectory("cli") { dir in
            let f = try writeFile(dir, "traced.repl", """
                spawn server 0 --pool thread:2 --name server
                spawn request @server 21 --name r
                run until r done
                """)
            let out = dir + "/traced.json"
            let r = try corepl([f, "--trace", out])
            #expect(r.status == 0, "\(r.err)")
            let trace = try ParsedTrace(file: out)
            // One event per step, poll and piece of pool work: each is one complete event.
            #expect(r.err == "trace: wrote \(trace.phase("X").count) events to \(out) (open it in ui.perfetto.dev)\n")
            #expect(trace.phase("X").contains { $0["name"] as? String == "fib(21)" })
            #expect(trace.phase("M").contains { ParsedTrace.args($0)["name"] as? String == "task 1: server (server)" })
            // The trace is written even when the script fails (it shows how it got there).
            let bad = try writeFile(dir, "traced-bad.repl", "spawn counter 2\nrun until idle\nexpect task 1 failed\n")
            let r2 = try corepl([bad, "--trace", out])
            #expect(r2.status == 1)
            #expect(try ParsedTrace(file: out).phase("X").map { $0["name"] as? String } == ["start → yield", "yield → yield", "yield → done"])
        }
    }

    @Test func aPassingScriptExitsZero() throws {
        try withTemporaryDirectory("cli") { dir in
            let f = try writeFile(dir, "ok.repl", """
                # a comment
                spawn server 0
                spawn request @1 36
                run until 2 done
                expect task 2 done
                expect output contains 14930352
                """)
            let r = try corepl([f])
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out.contains("task 2 request: fib(36) = 14930352"))
            #expect(r.err.isEmpty)
        }
    }

    @Test func theFirstFailingLineStopsTheScriptWithFileAndLine() throws {
        try withTemporaryDirectory("cli") { dir in
            let f = try writeFile(dir, "fail.repl", "spawn counter 1\nexpect task 1 done\necho not reached\n")
            let r = try corepl([f])
            #expect(r.status == 1)
            #expect(r.err == "\(f):2: expected task 1 done, found ready\n")
            #expect(r.out == "task 1 counter 1 → ready\n", "nothing after the failing line")
        }
    }

    @Test func keepGoingReportsEveryFailingLineAndStillExitsOne() throws {
        try withTemporaryDirectory("cli") { dir in
            let f = try writeFile(dir, "keep.repl", "expect queue ready 5\nbogus\necho reached\n")
            let r = try corepl(["--keep-going", f])
            #expect(r.status == 1)
            #expect(r.err == "\(f):1: expected ready to hold 5, found 0 []\n\(f):2: unknown command 'bogus'; 'help' lists the commands\n")
            #expect(r.out == "reached\n")
        }
    }

    @Test func inlineCommandsAndEcho() throws {
        let r = try corepl(["--echo", "-c", "spawn counter 2; run; expect task 1 done"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.hasPrefix("> spawn counter 2\ntask 1 counter 2 → ready\n> run\n"))
        let bad = try corepl(["-c", "step; nonsense"])
        #expect(bad.status == 1)
        #expect(bad.err.hasPrefix("-c:2: unknown command 'nonsense'"))
    }

    @Test func jsonGoesToStdoutAloneAndParses() throws {
        let r = try corepl(["-c", "spawn sleeper 1h; step; tasks --json"])
        #expect(r.status == 0)
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false)
        let json = lines.drop { !$0.hasPrefix("[") }.joined(separator: "\n")
        let tasks = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(tasks.first?["waiting_on"] as? String != nil)
        let only = try corepl(["-c", "queues --json"])
        #expect((try? JSONSerialization.jsonObject(with: Data(only.out.utf8))) != nil, "stdout is one JSON document: \(only.out)")
    }

    @Test func pipedStdinIsReadLineByLineLikeAScript() throws {
        let r = try corepl([], stdin: "spawn counter 1\nrun\nexpect task 1 done\nexpect task 1 failed\necho not-reached\n")
        #expect(r.status == 1)
        #expect(r.err == "<stdin>:4: expected task 1 failed, found done\n")
        #expect(!r.out.contains("not-reached"))
    }

    /// SIGTERM interrupts the free run a piped session is in; the session reads on, and
    /// ends at the end of its input (it spun at full CPU on the standard library's
    /// readLine instead, for ever).
    @Test func aSignalledPipedSessionStillEndsAtTheEndOfItsInput() throws {
        let child = try ChildProcess(try coreplPath(), [])
        child.write("spawn server 0 --pool inline\nrun\n")
        _ = try child.waitForLine(containing: "server 127.0.0.1:")
        // (Until the free run has begun, a signal interrupts nothing: send it again.)
        var interrupted = false
        for _ in 0..<30 where !interrupted {
            kill(child.pid, SIGTERM)
            interrupted = (try? child.waitForLine(containing: "interrupted after", timeout: .seconds(1))) != nil
                || child.errors.contains("interrupted after")
        }
        try #require(interrupted, "\(child.output)\(child.errors)")
        child.write("echo after the signal\n")
        _ = try child.waitForLine(containing: "after the signal")
        child.closeInput()
        #expect(try child.waitForExit(timeout: .seconds(20)) == 0, "\(child.output)\(child.errors)")
    }

    @Test func quittingLeavesNothingListeningAndNoWorkerProcesses() throws {
        // Every process this corepl starts inherits the mark in its environment: /proc
        // shows which are its workers, also once they outlive it.
        let mark = "COREPL_TEST_MARK=\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let child = try ChildProcess(try coreplPath(), [], environment: [mark])
        child.write("spawn server 0 --pool process:2\nstep 2\necho workers-up\n")
        try child.waitForLine(containing: "workers-up")
        let workers = try processes(withEnvironment: mark).filter { $0.pid != child.pid }
        #expect(workers.map(\.command) == ["corepl-worker", "corepl-worker"], "\(workers)")
        #expect(workers.allSatisfy { $0.ppid == child.pid }, "\(workers)")
        child.write("show 1 --json\nquit\necho not reached\n")
        child.closeInput()
        #expect(try child.waitForExit() == 0, "\(child.errors)")
        let out = child.output
        #expect(!out.contains("not reached"))
        let lines = out.split(separator: "\n").drop { !$0.hasPrefix("{") }
        let json = lines.prefix { $0 != "}" }.joined(separator: "\n") + "\n}"
        let show = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let address = try #require((show["facts"] as? [String: String])?["address"])
        // Nothing accepts on the port any more.
        let loop = try EventLoop()
        let refused = Box<String>("")
        let t = loop.spawn(name: "probe") {
            do { _ = try await AsyncSocket.connect(on: loop, to: try SocketAddress(parsing: address)) } catch { refused.value = "\(error)" }
        }
        loop.run(until: .taskDone(t.id))
        #expect(refused.value.contains("ECONNREFUSED"))
        // No process of that corepl's is left, orphaned or not (a zombie is not alive).
        #expect(try processes(withEnvironment: mark).filter { $0.state != "Z" }.isEmpty)
    }

    @Test func serveRunsUntilSIGTERMAndAPortInUseExitsOne() throws {
        let server = try ChildProcess(try coreplPath(), ["serve", "0", "--pool", "thread:2"])
        let line = try server.waitForLine(containing: "listening on")
        #expect(line.hasPrefix("listening on 127.0.0.1:"))
        let port = try #require(line.split(separator: ":").last.flatMap { UInt16(String($0).trimmingWhitespace()) })
        let busy = try corepl(["serve", String(port)])
        #expect(busy.status == 1)
        #expect(busy.err == "corepl: 127.0.0.1:\(port): address already in use (EADDRINUSE)\n")
        let client = try corepl(["-c", "spawn request \(port) 30; run until 1 done; expect task 1 done"])
        #expect(client.status == 0, "\(client.err)")
        server.signal(SIGTERM)
        #expect(try server.waitForExit(timeout: .seconds(30)) == 0)
    }

    @Test func badUsageOfTheExecutableExits64() throws {
        let r = try corepl(["--no-such-flag"])
        #expect(r.status == 64)
    }
}
