// `net sim` at the prompt: a session with the fib server, in-loop clients and faults on
// the simulated network and the virtual clock is a pure function of its script — the
// same output (times, fds and ports included) and the same trace every run; it forks a
// timeline from the past and replays from its journal step for step. Clients that would
// need real sockets are refused with the reason.
import FibPack
import Foundation
import Repl
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct NetSimTests {
    static let script = """
        clock virtual
        net sim
        spawn server 0
        spawn request @1 20 --name r
        watch on; run until idle; watch off
        spawn perf2 @1 --name p
        net fault delay 2ms
        net fault drop 20% --seed 9
        spawn perf1 @1 --n 22 --name q
        trace record
        run 1500ms
        tasks; queues
        """

    static func run(seed: UInt64, traceFile: String) throws -> [String] {
        var runner = ReplRunner { $0.install(FibPack()) }
        runner.seed = seed
        let r = try runner.run(commands: script + "\ntrace save \(traceFile)")
        #expect(r.status == 0, "\(r.errors)")
        return r.output.filter { !$0.hasPrefix("wrote ") }
    }

    @Test func aSessionOfInLoopPartsIsAPureFunctionOfItsScriptAndSeed() throws {
        let dir = NSTemporaryDirectory() + "corepl-netsim-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Self.run(seed: 2, traceFile: dir + "/a.json")
        let b = try Self.run(seed: 2, traceFile: dir + "/b.json")
        #expect(a == b)
        #expect(a.contains("task 1 server 127.0.0.1:30000 (pool thread:4, inline below 20, wait yield) → ready"), "\(a)")
        #expect(a.contains("task 2 request: fib(20) = 6765 in 0.1 ms"), "\(a)")
        // The faults show: a lost segment costs perf1 a retransmission (200 ms).
        #expect(a.contains { $0.hasPrefix("task 5 perf1: 0.2") }, "\(a)")
        #expect(a.contains { $0.hasPrefix("net          simulated: ") && $0.contains("faults: delay 2ms, drop 20% (retransmit after 200ms, seed 9)") && $0.contains(" lost, 0 reset") })
        let ta = try String(contentsOfFile: dir + "/a.json", encoding: .utf8)
        let tb = try String(contentsOfFile: dir + "/b.json", encoding: .utf8)
        #expect(ta == tb)
        #expect(ta.contains("\"cat\":\"net\""), "lost segments are in the trace")
        #expect(ta.contains("\"name\":\"net: lost "))
        let c = try Self.run(seed: 3, traceFile: dir + "/c.json")
        #expect(c != a, "another seed, another interleaving")
    }

    @Test func clientsThatNeedRealSocketsAreRefusedWithTheReason() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("net")
        #expect(out.out.last == "net real (the kernel's sockets; 'net sim' simulates them)")
        #expect(!s.execute("net fault delay 1ms"))
        #expect(out.err.last == "error: faults are the simulated network's: 'net sim' first")
        s.must("net sim; spawn server 0")
        #expect(!s.execute("spawn perf2 @1 --thread"))
        #expect(out.err.last == "error: 127.0.0.1:30000 is on the simulated network ('net sim'), which a client on a thread of its own cannot reach: drop --thread to run the client on the loop")
        #expect(!s.execute("spawn perf2 127.0.0.1:25000 --thread"))
        #expect(out.err.last?.contains("a client on a thread of its own would use real sockets") == true)
        #expect(!s.execute("net fault drop 150%"))
        #expect(out.err.last == "error: 'net fault drop' takes a percentage from 0% to 100%, got '150%'")
        #expect(!s.execute("net fault reset 7"))
        #expect(out.err.last?.hasPrefix("error: fd 7 is no connected simulated socket") == true)
        #expect(!s.execute("net loud"))
        #expect(!s.execute("net sim now"))
        #expect(!s.execute("net real --seed 3"))
        // An in-loop client to an address nothing simulated listens on: refused, and why.
        s.must("spawn request 127.0.0.1:25000 1 --name lost; run until idle")
        let lost = try s.task("lost")
        #expect("\(lost.state)".contains("connection refused"), "\(lost.state)")
        s.must("net fault delay 3ms; net fault off")
        #expect(out.out.last == "net faults: none")
        s.must("net real")
        #expect(out.out.last == "net real: new sockets are the kernel's")
        s.must("net")
        #expect(out.out.last?.hasPrefix("net real (simulated sockets left: 1): ") == true, "\(out.out.last ?? "")")
    }

    /// Under net sim the fib server and its clients are simulated parts: a change in the
    /// past forks a timeline, and the journal replays step for step.
    @Test func aServerSessionForksFromThePastAndReplaysExactly() throws {
        let d = NSTemporaryDirectory() + "corepl-netsim-j-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: d) }
        let (s, out) = try makeSession()
        s.must("clock virtual; net sim; net fault delay 1ms")
        s.must("spawn server 0; spawn request @1 20 --name r; spawn perf1 @1 --n 18 --name p")
        s.must("run 50ms")
        let end = s.loop.stepCount
        var past: [String] = []
        for k in 0..<10 {
            s.must("goto \(k)")
            past.append(try ForkTests.state(s))
        }
        s.must("goto 10")
        s.must("spawn request @1 5 --name late")
        #expect(out.out.suffix(2).first?.hasPrefix("forked a new timeline at #10 (re-ran 10 steps and ") == true, "\(out.out.suffix(3))")
        #expect(out.out.suffix(2).first?.hasSuffix("the old one went on to #\(end))") == true)
        #expect(s.loop.stepCount == 10)
        for k in 0..<10 {
            s.must("goto \(k)")
            #expect(try ForkTests.state(s) == past[k], "#\(k) of the new timeline is #\(k) of the old")
        }
        s.must("goto now; run 20ms")
        #expect(try s.task("late").state == .done)
        s.must("journal save \(d)/j.json")
        s.shutdown()
        for _ in 0..<2 {
            let r = try runChild(try coreplPath(), ["replay", "\(d)/j.json"], timeout: .seconds(30))
            #expect(r.status == 0, "\(r.err)")
            #expect(r.out.contains("every step as recorded"), "\(r.out)")
        }
    }

    /// 'net real' after 'net sim': what the server does next uses real sockets, so the
    /// past before it can no longer be re-run.
    @Test func realSocketsAfterNetRealStillBlockAFork() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("clock virtual; net sim; spawn counter 3 --name c; net real; spawn server 0; step 4")
        s.must("goto 2")
        #expect(!s.execute("spawn counter 1"))
        #expect(out.err.last?.contains("'spawn server 0' at #0 uses real parts") == true, "\(out.err.last ?? "")")
    }
}
