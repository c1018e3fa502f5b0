// recv/send over a socketpair and over loopback TCP, accept/connect, closing an fd under a
// waiting task, and the one-waiter-per-fd-and-direction rule.
import Glibc
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct SocketTests {
    @Test func recvWaitsInRecvWaitUntilThePeerSends() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        let got = Box<[UInt8]>([])
        let reader = loop.spawn(name: "reader") { got.value = try await a.recv(max: 100) }
        loop.step()  // reader runs, waits recv
        #expect(loop.snapshot().recvWait.map(\.task) == [reader.id])
        #expect(loop.state(reader.id)?.waitReason == .recv(fd: a.fd))

        // Nothing to read yet: a poll times out idle.
        #expect(loop.step(timeout: .milliseconds(10)).isIdle)

        let writer = loop.spawn(name: "writer") { try await b.send(all: Array("hello".utf8)) }
        loop.step()  // writer waits send
        #expect(loop.snapshot().sendWait.map(\.task) == [writer.id])
        let poll = try #require(loop.step().pollReport)
        #expect(poll.wakes.map(\.task) == [writer.id])
        #expect(poll.wakes.first?.cause == .writable(fd: b.fd))
        loop.step()  // writer sends, ends
        #expect(loop.state(writer.id) == .done)
        let poll2 = try #require(loop.step().pollReport)
        #expect(poll2.wakes.map(\.task) == [reader.id])
        #expect(poll2.wakes.first?.from == .recv(fd: a.fd))
        loop.step()
        #expect(loop.state(reader.id) == .done)
        #expect(String(decoding: got.value, as: UTF8.self) == "hello")
    }

    @Test func endOfFileIsAnEmptyRead() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        let got = Box<[UInt8]?>(nil)
        loop.spawn(name: "reader") { got.value = try await a.recv(max: 10) }
        b.close()
        loop.run(until: .noTasks)
        #expect(got.value == [])
    }

    @Test func acceptAndConnectOverLoopback() throws {
        let loop = try EventLoop()
        let listener = try AsyncSocket.listen(on: loop, port: 0)
        let address = try #require(listener.localAddress)
        #expect(address.host == "127.0.0.1")
        #expect(address.port != 0)
        let echoed = Box("")
        let peer = Box<SocketAddress?>(nil)
        let server = loop.spawn(name: "server", kind: "server") {
            let client = try await listener.accept()
            peer.value = client.peerAddress
            let data = try await client.recv(max: 100)
            try await client.send(all: data.reversed())
            client.close()
        }
        loop.step()
        guard case .waiting(let w)? = loop.state(server.id) else { Issue.record("server not waiting"); return }
        #expect(w.reason == .recv(fd: listener.fd))
        #expect(w.description == "recv fd \(listener.fd) (accept)")
        let client = loop.spawn(name: "client") {
            let s = try await AsyncSocket.connect(on: loop, to: address)
            try await s.send(all: Array("abc".utf8))
            echoed.value = String(decoding: try await s.recv(max: 100), as: UTF8.self)
            s.close()
        }
        let outcome = loop.run(until: .taskDone(client.id), pollTimeout: .milliseconds(50))
        guard case .taskDone = outcome else { Issue.record("run ended with \(outcome)"); return }
        #expect(echoed.value == "cba")
        #expect(peer.value?.host == "127.0.0.1")
        #expect(loop.state(server.id) == .done)
        listener.close()
    }

    @Test func connectionRefusedReadsLikeASentence() throws {
        let loop = try EventLoop()
        // A port that was just free: bind, learn it, close.
        let probe = try AsyncSocket.listen(on: loop, port: 0)
        let port = probe.localAddress!.port
        probe.close()
        let message = Box("")
        let t = loop.spawn(name: "client") {
            do {
                _ = try await AsyncSocket.connect(on: loop, to: try SocketAddress(port: port))
            } catch {
                message.value = "\(error)"
                throw error
            }
        }
        loop.run(until: .taskDone(t.id))
        #expect(message.value == "127.0.0.1:\(port): connection refused (ECONNREFUSED)")
        guard case .failed(let text)? = loop.state(t.id) else { Issue.record("not failed"); return }
        #expect(text.contains("ECONNREFUSED"))
    }

    @Test func listeningOnAPortInUseNamesTheAddressAndErrno() throws {
        let loop = try EventLoop()
        let first = try AsyncSocket.listen(on: loop, port: 0)
        let port = first.localAddress!.port
        #expect {
            _ = try AsyncSocket.listen(on: loop, port: port)
        } throws: { error in
            "\(error)" == "127.0.0.1:\(port): address already in use (EADDRINUSE)"
        }
        first.close()
    }

    @Test func badAddressesAreRefusedClearly() {
        #expect(throws: SocketError.self) { try SocketAddress(parsing: "70000") }
        #expect(throws: SocketError.self) { try SocketAddress(parsing: "example.invalid:80") }
        #expect(throws: SocketError.self) { try SocketAddress(parsing: ":80") }
        #expect((try? SocketAddress(parsing: "localhost:25000"))?.description == "127.0.0.1:25000")
        #expect((try? SocketAddress(parsing: "25000"))?.description == "127.0.0.1:25000")
    }

    @Test func aSecondWaiterOnTheSameFdAndDirectionIsAnError() throws {
        let loop = try EventLoop()
        let (a, _b) = try AsyncSocket.pair(on: loop)
        _ = _b
        let first = loop.spawn(name: "first") { _ = try await a.recv(max: 1) }
        let second = loop.spawn(name: "second") { _ = try await a.recv(max: 1) }
        loop.step()
        loop.step()
        #expect(loop.state(first.id)?.waitReason == .recv(fd: a.fd))
        guard case .failed(let message)? = loop.state(second.id) else {
            Issue.record("second waiter should fail, is \(String(describing: loop.state(second.id)))"); return
        }
        #expect(message == "fd \(a.fd) already has a task waiting to recv: task 1; two waiters on one fd in one direction are refused")
        #expect(loop.snapshot().recvWait.map(\.task) == [first.id], "the first waiter is not overwritten")
    }

    @Test func closingAnFdWakesItsWaiterWithAnError() throws {
        let loop = try EventLoop()
        let (a, _b) = try AsyncSocket.pair(on: loop)
        _ = _b
        let fd = a.fd
        let t = loop.spawn(name: "reader") { _ = try await a.recv(max: 1) }
        loop.step()
        a.close()
        #expect(loop.snapshot().recvWait.isEmpty)
        #expect(loop.snapshot().ready == [t.id])
        let step = try #require(loop.step().taskStep)
        #expect(step.resumedWithError == "fd \(fd) was closed while this task waited on it")
        #expect(loop.state(t.id) == .failed("fd \(fd) was closed while this task waited on it"))
    }

    @Test func aPeerThatIsGoneSurfacesAsAnErrorNotSIGPIPE() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        b.close()
        let t = loop.spawn(name: "writer") {
            for _ in 0..<4 { try await a.send(all: [UInt8](repeating: 1, count: 1000)) }
        }
        loop.run(until: .taskDone(t.id))
        guard case .failed(let message)? = loop.state(t.id) else { Issue.record("expected failure"); return }
        #expect(message.contains("EPIPE"), "\(message)")
    }
}
