// The seams between the loop core and time travel (Sources/Runtime/Loop/Seams.swift,
// Sources/TimeTravel/TimeMachine.swift): a loop that never uses time travel has no driver
// and no wake source, and runs the seed's loop; each part of time travel sets the flag of
// its own group of driver calls while it is on, and clears it when it is off again.
@testable import Runtime
@testable import TimeTravel
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(1))) struct SeamsTests {
    /// The loop's driver flags, in a fixed order: clock, inputs, futures, history, picks.
    static func flags(_ loop: EventLoop) -> [Bool] {
        [loop.driverClock, loop.driverInputs, loop.driverFutures, loop.driverHistory, loop.driverPicks]
    }

    @Test func aLoopThatNeverTravelsHasNoDriver() throws {
        let loop = try EventLoop()
        // Everything a plain session's loop does, and every read of time travel's state:
        // a real-socket server and client, a sleep, a future, the public getters.
        let server = try AsyncSocket.listen(on: loop, port: 0)
        let port = server.localAddress!.port
        let served = loop.spawn(name: "server") {
            let c = try await server.accept()
            let got = try await c.recv(max: 16)
            _ = try await c.send(all: got)
            c.close()
            server.close()
        }
        let client = loop.spawn(name: "client") {
            let s = try await AsyncSocket.connect(on: loop, to: try SocketAddress(port: port))
            _ = try await s.send(all: Array("ping".utf8))
            _ = try await s.recv(max: 16)
            s.close()
            try await loop.sleep(for: .milliseconds(1))
        }
        _ = loop.run(until: .taskDone(client.id))
        _ = loop.run(until: .taskDone(served.id))
        #expect(loop.clock == .real && loop.policy == .fifo && !loop.isNetworkSimulated)
        #expect(loop.virtualStepCost == .microseconds(10) && loop.clockSkippedNanos == 0)
        #expect(loop.historyStatus == nil && loop.inputRecordingStatus == nil && !loop.isReplayingInputs)
        loop.policy = .fifo
        #expect(loop.driver == nil, "reading time travel's state plugs nothing in")
        #expect(loop.wakeSource == nil)
        #expect(Self.flags(loop) == [false, false, false, false, false])
        #expect(loop.isClockReal)
    }

    @Test func eachPartSetsItsOwnFlagAndClearsIt() throws {
        let loop = try EventLoop()
        loop.startHistory(limit: 100)
        #expect(Self.flags(loop) == [false, false, false, true, false], "history: before and after each step")
        loop.policy = .lifo
        #expect(Self.flags(loop) == [false, false, false, true, true], "a policy other than fifo picks")
        loop.policy = .fifo
        loop.stopHistory()
        #expect(Self.flags(loop) == [false, false, false, false, false], "both off again")
        loop.startRecordingInputs()
        #expect(Self.flags(loop) == [true, true, false, false, false], "recording: the clock and the inputs")
        loop.stopRecordingInputs()
        #expect(Self.flags(loop) == [false, false, false, false, false])
        loop.clock = .virtual
        #expect(Self.flags(loop) == [true, false, true, false, false], "the virtual clock: the clock and due times")
        #expect(!loop.isClockReal)
        loop.clock = .real
        // Futures made on the virtual clock may still be due: their flag stays.
        #expect(Self.flags(loop) == [false, false, true, false, false])
        #expect(loop.isClockReal)
        #expect(loop.wakeSource == nil, "no network was simulated")
        loop.setNetworkSimulated(true)
        #expect(loop.wakeSource != nil, "the simulated network is the loop's wake source")
    }

    @Test func aReplaySetsTheClockInputsAndFutures() throws {
        let loop = try EventLoop()
        loop.startReplaying(LoopInputs(inputs: [], clock: [], endedAfterStep: nil, wakeDrainsCounted: true))
        #expect(Self.flags(loop) == [true, true, true, false, false])
    }
}
