// The journal of outside inputs: a loop that records them can be run again on a fresh
// loop that answers every socket call, poll and clock reading from the journal — the same
// steps, the same bytes, no kernel socket — and a program that asks for something else is
// told where.
import Glibc
import Runtime
@testable import TimeTravel
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct InputRecordingTests {
    /// An echo over real loopback with a sleep in it; returns what each step did and what
    /// the client got back.
    static func echo(on loop: EventLoop, port: UInt16 = 0, flip: Bool = false) throws -> (steps: [String], got: String) {
        let listener = try AsyncSocket.listen(on: loop, port: port)
        let got = Box("")
        loop.spawn(name: "server") {
            let c = try await listener.accept()
            let data = try await c.recv(max: 100)
            try await loop.sleep(for: .milliseconds(20))
            try await c.send(all: data.reversed())
            c.close()
        }
        loop.spawn(name: "client") {
            let s = try await AsyncSocket.connect(on: loop, to: listener.localAddress!)
            if flip { _ = try await s.recv(max: 100) }  // a different program: reads first
            try await s.send(all: Array("hello".utf8))
            got.value = String(decoding: try await s.recv(max: 100), as: UTF8.self)
            s.close()
        }
        var steps: [String] = []
        for _ in 0..<200 {
            if loop.snapshot().tasks.allSatisfy({ $0.state.isFinished }) { break }
            let e = loop.step(timeout: .seconds(1))
            if let r = e.pollReport {
                steps.append("poll: " + r.wakes.map { "\($0.task.rawValue) \($0.cause)" }.joined(separator: ", "))
            } else if let t = e.taskStep {
                steps.append("task \(t.task.rawValue) → \(t.outcome)")
            }
            if loop.replayDivergence != nil { break }
        }
        listener.close()
        return (steps, got.value)
    }

    @Test func aRecordedLoopReplaysStepForStepWithoutTheKernel() throws {
        let loop = try EventLoop()
        loop.startRecordingInputs()
        let original = try Self.echo(on: loop)
        let inputs = try #require(loop.recordedInputs)
        #expect(original.got == "olleh")
        #expect(inputs.inputs.contains { if case .recv(_, let b?) = $0 { return b == Array("hello".utf8) } else { return false } })
        #expect(!inputs.clock.isEmpty, "the sleep's deadline and the polls read the clock")
        guard case .listen(_, let address)? = inputs.inputs.first else { Issue.record("the first input is the listen"); return }
        let port = try SocketAddress(parsing: address).port
        // Hold the port meanwhile: a replay that bound it would fail.
        let holder = try AsyncSocket.listen(on: try EventLoop(), port: port)
        defer { holder.close() }
        for _ in 0..<3 {
            let again = try EventLoop()
            again.startReplaying(inputs)
            let replayed = try Self.echo(on: again, port: port)
            #expect(again.replayDivergence == nil)
            #expect(replayed.steps == original.steps)
            #expect(replayed.got == "olleh")
        }
    }

    @Test func aProgramThatAsksForSomethingElseIsToldWhere() throws {
        let loop = try EventLoop()
        loop.startRecordingInputs()
        _ = try Self.echo(on: loop)
        let inputs = try #require(loop.recordedInputs)
        let again = try EventLoop()
        again.startReplaying(inputs)
        _ = try Self.echo(on: again, flip: true)
        let divergence = try #require(again.replayDivergence)
        #expect(divergence.contains("the journal's next input is "), "\(divergence)")
        #expect(divergence.contains(", this run asked for "), "\(divergence)")
    }
}
