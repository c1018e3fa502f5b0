// The three poller backends. fd-heavy: serialized, and connects are interleaved with
// stepping (somaxconn is 4,096 on a stock kernel). Tests that need more fds than a stock
// soft limit (1,024) raise it to the hard limit, and are skipped where that is too low.
import Glibc
import Runtime
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(2))) struct PollerTests {
    /// A reader and a writer over a socketpair, run to completion on `kind`.
    @Test(arguments: PollerKind.allCases)
    func everyBackendMovesDataBetweenTasks(kind: PollerKind) throws {
        let loop = try EventLoop(poller: kind)
        #expect(loop.pollerKind == kind)
        let (a, b) = try AsyncSocket.pair(on: loop)
        let got = Box<[UInt8]>([])
        loop.spawn(name: "reader") { got.value = try await a.recv(max: 10) }
        loop.spawn(name: "writer") {
            try await loop.sleep(for: .milliseconds(2))
            try await b.send(all: [1, 2, 3])
        }
        loop.run()
        #expect(got.value == [1, 2, 3])
    }

    @Test(.enabled(if: FDLimit.raise(toFit: 1_501), FDLimit.tooLow(for: 1_501)))
    func selectRefusesAnFdAtOrAboveFDSetSizeClearly() throws {
        let loop = try EventLoop(poller: .select)
        let (a, b) = try AsyncSocket.pair(on: loop)
        let high = dup2(a.fd, 1500)
        #expect(high == 1500)
        let t = loop.spawn(name: "high fd") { try await loop.readable(high) }
        loop.step()
        #expect(loop.state(t.id) == .failed("select cannot watch fd 1500: fds must be below FD_SETSIZE (1024); use the epoll or poll backend"))
        #expect(loop.snapshot().recvWait.isEmpty)
        close(high)
        _ = b
    }

    @Test(.enabled(if: FDLimit.raise(toFit: 1_502), FDLimit.tooLow(for: 1_502)))
    func switchingToSelectIsRefusedWhileAHighFdIsWaitedOn() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        let high = dup2(a.fd, 1501)
        let t = loop.spawn(name: "high fd") { try await loop.readable(high) }
        loop.step()
        #expect(throws: LoopError.fdTooLargeForSelect(fd: 1501, limit: 1024)) { try loop.setPoller(.select) }
        #expect(loop.pollerKind == .epoll)
        loop.cancel(t.id)
        loop.step()
        try loop.setPoller(.select)
        #expect(loop.pollerKind == .select)
        close(high)
        _ = b
    }

    @Test func waitersMoveOverWhenThePollerIsSwitched() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        let got = Box<[UInt8]>([])
        loop.spawn(name: "reader") { got.value = try await a.recv(max: 10) }
        loop.step()
        try loop.setPoller(.poll)
        loop.spawn(name: "writer") { try await b.send(all: [9]) }
        loop.run()
        #expect(got.value == [9])
    }

    /// Each connection is two fds (client and handler): 10,000, and the loop's own.
    @Test(.enabled(if: FDLimit.raise(toFit: 10_100), FDLimit.tooLow(for: 10_100)))
    func epollServesFiveThousandConcurrentLoopbackConnections() throws {
        let total = 5_000
        let loop = try EventLoop()
        let listener = try AsyncSocket.listen(on: loop, port: 0, backlog: 4096)
        let address = listener.localAddress!
        let replies = Box(0)
        let server = loop.spawn(name: "server", kind: "server") {
            while true {
                let client = try await listener.accept()
                loop.spawn(name: "handler", kind: "handler") {
                    let data = try await client.recv(max: 10)
                    try await client.send(all: data)
                    _ = try await client.recv(max: 10)  // hold the connection until EOF
                    client.close()
                }
            }
        }
        var clients: [TaskID] = []
        while clients.count < total {
            // A batch of clients, then step until each of them has its reply.
            for _ in 0..<min(500, total - clients.count) {
                clients.append(loop.spawn(name: "client", kind: "client") {
                    let s = try await AsyncSocket.connect(on: loop, to: address)
                    try await s.send(all: [42])
                    if try await s.recv(max: 10) == [42] { replies.value += 1 }
                    _ = try await s.recv(max: 10)  // hold the connection until EOF
                    s.close()
                }.id)
            }
            let expected = clients.count
            #expect(loop.stepUntil(limit: 200_000) { replies.value == expected }, "batch up to \(expected)")
        }
        #expect(replies.value == total)
        // Every connection is open at once: each client and each handler waits on its fd.
        loop.run(until: .idle)
        let snap = loop.snapshot()
        #expect(snap.recvWait.count == 2 * total + 1)
        #expect(snap.tasks.filter { $0.kind == "handler" && !$0.state.isFinished }.count == total)

        for id in clients { loop.cancel(id) }
        loop.cancel(server.id)
        #expect(loop.stepUntil(limit: 100_000) { loop.liveTaskCount == 0 })
        listener.close()
    }
}
