// The simulated network (`net sim`): sockets with the kernel's readiness but no kernel —
// fds of their own, deterministic ports, waits through recv_wait/send_wait, end of file,
// refusals, a full buffer, and its faults (delay, loss, reset, a full backlog), all on the
// virtual clock so that times are exact.
import Runtime
@testable import TimeTravel
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct SimNetworkTests {
    static func simLoop(poller: PollerKind = .epoll) throws -> EventLoop {
        let loop = try EventLoop(poller: poller)
        loop.clock = .virtual
        loop.setNetworkSimulated(true)
        return loop
    }

    /// An echo over the simulated network, under select: its fds are far above FD_SETSIZE,
    /// so this also shows the poller never sees them.
    @Test func anEchoRunsWithSimulatedFdsAndPortsThePollerNeverSees() throws {
        let loop = try Self.simLoop(poller: .select)
        let listener = try AsyncSocket.listen(on: loop, port: 0)
        #expect(listener.isSimulated)
        #expect(listener.fd == 1 << 20)
        #expect(listener.localAddress?.description == "127.0.0.1:30000")
        let echoed = Box(""), peer = Box<SocketAddress?>(nil)
        loop.spawn(name: "server") {
            let c = try await listener.accept()
            peer.value = c.peerAddress
            let data = try await c.recv(max: 100)
            try await c.send(all: data.reversed())
            c.close()
        }
        loop.spawn(name: "client") {
            let s = try await AsyncSocket.connect(on: loop, to: listener.localAddress!)
            #expect(s.isSimulated)
            try await s.send(all: Array("hello".utf8))
            echoed.value = String(decoding: try await s.recv(max: 100), as: UTF8.self)
            #expect(try await s.recv(max: 100) == [], "the server closed: end of file")
            s.close()
        }
        let end = loop.run(until: .noTasks, pollTimeout: .seconds(1))
        #expect({ if case .noTasksLeft = end { return true } else { return false } }())
        #expect(echoed.value == "olleh")
        #expect(peer.value?.description == "127.0.0.1:50000")
        #expect(loop.networkSummary == "simulated: 1 socket (1 listening, 0 connected); faults: none")
    }

    /// The seed's waits are there: a connect goes through send_wait, a recv with nothing to
    /// read waits in recv_wait until a poll step finds the bytes.
    @Test func waitsAreTheSeedsAndAPollStepWakesTheReader() throws {
        let loop = try Self.simLoop()
        let listener = try AsyncSocket.listen(on: loop, port: 25000)
        let server = loop.spawn(name: "server") {
            let c = try await listener.accept()
            _ = try await c.recv(max: 10)
        }
        loop.step()  // server: accept → recv_wait on the listener
        #expect(loop.state(server.id)?.waitReason == .recv(fd: listener.fd))
        let box = Box<AsyncSocket?>(nil)
        let client = loop.spawn(name: "client") {
            box.value = try await AsyncSocket.connect(on: loop, to: listener.localAddress!)
            try await loop.sleep(for: .seconds(1))
            try await box.value!.send(all: [1, 2, 3])
        }
        let waits = Box<[WaitReason]>([])
        let counter = WaitCounter { waits.value.append($0) }
        loop.addObserver(counter)
        loop.step()  // client: connect → send_wait, already writable: back to ready at once
        loop.removeObserver(counter)
        #expect(waits.value == [.send(fd: 1 << 20 | 1)])
        #expect(loop.snapshot().ready == [client.id])
        loop.step()  // client: connected, sleeps
        let poll = try #require(loop.step().pollReport)  // the listener is readable
        #expect(poll.wakes.map(\.task) == [server.id])
        #expect(poll.wakes.first?.cause == .readable(fd: listener.fd))
        loop.step()  // server accepts, then recv_wait: nothing there
        let accepted = try #require(loop.snapshot().recvWait.first { $0.task == server.id })
        #expect(accepted.fd == 1 << 20 | 2)
        let idle = loop.step(timeout: .seconds(5))  // the clock jumps to the sleeper's deadline
        #expect(idle.pollReport?.wakes.map(\.task) == [client.id])
        loop.stepUntil { loop.state(client.id) == .done }  // client sends (through send_wait), ends
        let woke = try #require(loop.step().pollReport)
        #expect(woke.wakes.map(\.cause) == [.readable(fd: accepted.fd)])
        loop.run(until: .noTasks)
        #expect(loop.state(client.id) == .done && loop.state(server.id) == .done)
    }

    @Test func connectingWhereNothingListensIsRefusedAndSaysWhy() throws {
        let loop = try Self.simLoop()
        let failure = Box<String?>(nil)
        loop.spawn(name: "client") {
            do {
                _ = try await AsyncSocket.connect(on: loop, to: try SocketAddress(port: 25000))
            } catch {
                failure.value = "\(error)"
            }
        }
        loop.run(until: .noTasks)
        let text = try #require(failure.value)
        #expect(text.contains("127.0.0.1:25000: connection refused"), "\(text)")
        #expect(text.contains("'net real' reaches real servers"))
    }

    /// A send larger than the peer's buffer takes what fits; the sender waits in send_wait
    /// until the reader makes room — the kernel's backpressure.
    @Test func aFullBufferMakesTheSenderWaitUntilTheReaderReads() throws {
        let loop = try Self.simLoop()
        let listener = try AsyncSocket.listen(on: loop, port: 0)
        let total = 600 * 1024
        let received = Box(0)
        let sendWaits = Box(0)
        let observer = WaitCounter { if case .send = $0 { sendWaits.value += 1 } }
        loop.addObserver(observer)
        loop.spawn(name: "reader") {
            let c = try await listener.accept()
            try await loop.sleep(for: .seconds(1))  // let the writer fill the buffer first
            while received.value < total {
                let got = try await c.recv(max: 65536)
                if got.isEmpty { break }
                received.value += got.count
            }
        }
        let writer = loop.spawn(name: "writer") {
            let s = try await AsyncSocket.connect(on: loop, to: listener.localAddress!)
            try await s.send(all: [UInt8](repeating: 7, count: total))
            s.close()
        }
        // Before the reader wakes, the writer has filled the buffer and waits to send.
        loop.stepUntil { loop.state(writer.id)?.waitReason == .send(fd: 1 << 20 | 1) && loop.now() > 0 && sendWaits.value >= 3 }
        #expect(loop.state(writer.id)?.waitReason == .send(fd: 1 << 20 | 1))
        loop.run(until: .noTasks)
        #expect(received.value == total)
        #expect(sendWaits.value >= 4, "connect, the first send, and a wait per buffer's worth")
    }

    /// On the virtual clock a delay is exact: a connect takes a round trip, a request and
    /// its reply another.
    @Test func aDelayCostsExactlyItsRoundTrips() throws {
        let loop = try Self.simLoop()
        loop.virtualStepCost = .zero
        var faults = loop.networkFaults
        faults.delayNanos = 5_000_000
        loop.networkFaults = faults
        let listener = try AsyncSocket.listen(on: loop, port: 0)
        loop.spawn(name: "echo") {
            let c = try await listener.accept()
            try await c.send(all: try await c.recv(max: 10))
        }
        let times = Box<[UInt64]>([])
        loop.spawn(name: "client") {
            let t0 = loop.now()
            let s = try await AsyncSocket.connect(on: loop, to: listener.localAddress!)
            times.value.append(loop.now() - t0)
            let t1 = loop.now()
            try await s.send(all: [42])
            #expect(try await s.recv(max: 10) == [42])
            times.value.append(loop.now() - t1)
        }
        loop.run(until: .noTasks, pollTimeout: .seconds(1))
        #expect(times.value == [10_000_000, 10_000_000])
    }

    /// A lost segment arrives a retransmission timeout late, and nothing overtakes it; the
    /// same seed loses the same segments.
    @Test func aLostSegmentArrivesLateAndInOrderAndTheSeedDecidesWhich() throws {
        func run(seed: UInt64) throws -> (text: String, lost: [UInt64], elapsed: UInt64) {
            let loop = try Self.simLoop()
            loop.virtualStepCost = .zero
            var faults = NetFaults()
            faults.dropRate = 0.5
            faults.seed = seed
            loop.networkFaults = faults
            let lost = NetLog()
            loop.addObserver(lost)
            let listener = try AsyncSocket.listen(on: loop, port: 0)
            let text = Box("")
            loop.spawn(name: "reader") {
                let c = try await listener.accept()
                while true {
                    let got = try await c.recv(max: 100)
                    if got.isEmpty { break }
                    text.value += String(decoding: got, as: UTF8.self)
                }
            }
            loop.spawn(name: "writer") {
                let s = try await AsyncSocket.connect(on: loop, to: listener.localAddress!)
                for word in ["a", "b", "c", "d", "e", "f", "g", "h"] {
                    try await s.send(all: Array(word.utf8))
                    try await loop.sleep(for: .milliseconds(1))
                }
                s.close()
            }
            let start = loop.now()
            loop.run(until: .noTasks, pollTimeout: .seconds(1))
            return (text.value, lost.dropped.map { $0 - start }, loop.now() - start)
        }
        let a = try run(seed: 3), b = try run(seed: 3), c = try run(seed: 4)
        #expect(a.text == "abcdefgh" && c.text == "abcdefgh", "in order, whatever was lost")
        #expect(!a.lost.isEmpty)
        #expect(a.lost == b.lost && a.elapsed == b.elapsed)
        #expect(a.elapsed >= 200_000_000, "a lost segment arrives 200 ms late")
        #expect(a.lost != c.lost, "another seed loses other segments")
    }

    @Test func aResetWakesBothEndsWithConnectionReset() throws {
        let loop = try Self.simLoop()
        let listener = try AsyncSocket.listen(on: loop, port: 0)
        let errors = Box<[String]>([])
        let serverSide = Box<AsyncSocket?>(nil)
        loop.spawn(name: "server") {
            let c = try await listener.accept()
            serverSide.value = c
            do { _ = try await c.recv(max: 10) } catch { errors.value.append("server: \(error)") }
        }
        loop.spawn(name: "client") {
            let s = try await AsyncSocket.connect(on: loop, to: listener.localAddress!)
            do { _ = try await s.recv(max: 10) } catch { errors.value.append("client: \(error)") }
        }
        loop.stepUntil { serverSide.value != nil && loop.snapshot().recvWait.count == 3 }
        let log = NetLog()
        loop.addObserver(log)
        #expect(loop.resetSimulatedConnection(serverSide.value!.fd))
        #expect(!loop.resetSimulatedConnection(listener.fd), "a listener has no connection")
        #expect(log.resets == 1)
        loop.run(until: .steps(6))
        #expect(errors.value.count == 2)
        #expect(errors.value.allSatisfy { $0.contains("connection reset") }, "\(errors.value)")
    }

    /// Linux drops a SYN its full accept queue has no room for; the client sends it again
    /// a second later.
    @Test func aFullBacklogDelaysTheConnectBySecond() throws {
        let loop = try Self.simLoop()
        let listener = try AsyncSocket.listen(on: loop, port: 0, backlog: 1)
        let log = NetLog()
        loop.addObserver(log)
        let connected = Box<[UInt64]>([])
        for i in 0..<2 {
            loop.spawn(name: "client \(i)") {
                let s = try await AsyncSocket.connect(on: loop, to: listener.localAddress!)
                connected.value.append(loop.now())
                _ = s
            }
        }
        let start = loop.now()
        loop.run(until: .steps(6))
        #expect(connected.value.count == 1)
        #expect(log.synDropped >= 1, "the second SYN found the backlog full (and again at each retry)")
        loop.spawn(name: "acceptor") { _ = try await listener.accept() }
        loop.run(until: .noTasks, pollTimeout: .seconds(5))
        #expect(connected.value.count == 2)
        #expect(connected.value[1] - start >= 1_000_000_000)
    }

    @Test func socketsMadeBeforeAndAfterKeepTheirKind() throws {
        let loop = try EventLoop()
        let real = try AsyncSocket.listen(on: loop, port: 0)
        loop.setNetworkSimulated(true)
        let simulated = try AsyncSocket.listen(on: loop, port: 0)
        loop.setNetworkSimulated(false)
        let realAgain = try AsyncSocket.listen(on: loop, port: 0)
        #expect(!real.isSimulated && simulated.isSimulated && !realAgain.isSimulated)
        #expect(real.fd < 1 << 20 && realAgain.fd < 1 << 20)
        #expect(loop.networkSummary?.hasPrefix("real (simulated sockets left: 1)") == true)
        simulated.close()
        real.close()
        realAgain.close()
    }
}

/// Counts the waits tasks enter.
final class WaitCounter: LoopObserver {
    let body: (WaitReason) -> Void
    init(_ body: @escaping (WaitReason) -> Void) { self.body = body }
    func loop(_ loop: EventLoop, observed event: LoopEvent) {
        if case .waits(_, let w) = event { body(w.reason) }
    }
}

/// What the simulated network reported.
final class NetLog: LoopObserver {
    var dropped: [UInt64] = []
    var resets = 0
    var synDropped = 0
    func loop(_ loop: EventLoop, observed event: LoopEvent) {
        guard case .net(let e) = event else { return }
        switch e.kind {
        case .dropped: dropped.append(e.at)
        case .reset: resets += 1
        case .synDropped: synDropped += 1
        }
    }
}
