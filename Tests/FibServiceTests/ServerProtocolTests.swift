// Every protocol case of the fib service, over real loopback sockets.
@testable import FibService
import Glibc
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct ServerProtocolTests {
    @Test func theServerReportsTheAddressItBound() throws {
        let loop = try EventLoop()
        let lines = Lines()
        let server = try loop.fibServer(output: lines.sink)
        #expect(server.address.port != 0, "port 0 picks a free port")
        #expect(lines.all == ["listening on 127.0.0.1:\(server.address.port)"])
        #expect(loop.taskInfo(server.task.id)?.facts["address"] == "127.0.0.1:\(server.address.port)")
        #expect(loop.taskInfo(server.task.id)?.name == "server 127.0.0.1:\(server.address.port)")
        loop.shutDownEverything()
    }

    @Test func aPortInUseIsAClearError() throws {
        let loop = try EventLoop()
        let first = try loop.fibServer()
        #expect {
            _ = try FibServer.spawn(on: loop, options: FibServerOptions(port: first.address.port), output: .discard)
        } throws: { "\($0)" == "127.0.0.1:\(first.address.port): address already in use (EADDRINUSE)" }
        loop.shutDownEverything()
    }

    @Test func newlineAndCRLFRequestsGetOneReplyEach() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer()
        let t = loop.script(server.address, [.send("30\n"), .readLine, .send("36\r\n"), .readLine])
        #expect(t.lines == ["832040", "14930352"])
        loop.shutDownEverything()
    }

    @Test func severalRequestsInOneSegmentAreAnsweredInOrder() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer()
        let t = loop.script(server.address, [.send("1\n2\n3\n\n10\n"), .readLine, .readLine, .readLine, .readLine])
        #expect(t.lines == ["1", "1", "2", "55"])
        loop.shutDownEverything()
    }

    @Test func handlersAreNamedAfterTheirPeer() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer()
        _ = loop.script(server.address, [.send("1\n"), .readLine])
        let handlers = loop.snapshot().tasks.filter { $0.kind == "handler" }
        #expect(handlers.count == 1)
        #expect(handlers.first?.name.hasPrefix("handler 127.0.0.1:") == true)
        #expect(handlers.first?.parent == server.task.id)
        loop.shutDownEverything()
    }

    @Test func badRequestsGetAnErrorLineAndTheConnectionStaysUsable() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer()
        let long = String(repeating: "7", count: 150)
        let t = loop.script(server.address, [
            .send("abc\n"), .readLine, .send("-3\n"), .readLine, .send("46\n"), .readLine,
            .send(long + "\n"), .readLine, .send("5\n"), .readLine,
        ])
        #expect(t.lines == [
            "error: 'abc' is not a number",
            "error: -3 is negative; fib needs n >= 0",
            "error: 46 is over the ceiling of 45",
            "error: request longer than 100 bytes",
            "5",
        ])
        loop.shutDownEverything()
    }

    @Test func fourKiBWithoutANewlineGetsAnErrorAndTheConnectionIsClosed() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer()
        let t = loop.script(server.address, [.send(String(repeating: "1", count: 5000)), .readToEOF])
        #expect(t.lines == ["error: more than 4096 bytes without a newline; closing the connection"])
        #expect(t.sawEOF)
        loop.shutDownEverything()
    }

    @Test func binaryGarbageGetsAnErrorAndTheConnectionIsClosed() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer()
        let t = loop.script(server.address, [.sendBytes([0, 1, 2, 0xff, 10]), .readToEOF])
        #expect(t.lines == ["error: binary data in the request; closing the connection"])
        #expect(t.sawEOF)
        loop.shutDownEverything()
    }

    @Test func anUnterminatedNumberIsARequestOnceNothingMoreArrives() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer()
        // The seed's clients send b'30' and wait.
        let t = loop.script(server.address, [.send("30"), .readLine])
        #expect(t.lines == ["832040"])
        loop.shutDownEverything()
    }

    @Test func aOneWhoseNewlineArrivesLaterIsOneRequestNotTwo() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer()
        let t = loop.script(server.address, [
            .send("1"), .readLine, .send("\n"), .send("6\n"), .readLine, .shutdownWrite, .readToEOF,
        ])
        #expect(t.lines == ["1", "8"], "the late newline is a blank line, not a second request")
        loop.shutDownEverything()
    }

    @Test func aHalfCloseAfterARequestStillGetsItsReplyThenTheConnectionCloses() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer()
        let t = loop.script(server.address, [.send("20"), .shutdownWrite, .readToEOF])
        #expect(t.lines == ["6765"])
        #expect(t.sawEOF)
        let t2 = loop.script(server.address, [.send("9\n"), .shutdownWrite, .readToEOF])
        #expect(t2.lines == ["34"])
        loop.shutDownEverything()
    }

    @Test func aClientThatIsGoneHasItsResultDroppedAndNothingElseIsDisturbed() throws {
        let loop = try EventLoop()
        let server = try loop.fibServer(pool: .thread(1))
        // Ask for something slow, then vanish before the reply.
        _ = loop.script(server.address, [.send("32\n"), .close])
        let t = loop.script(server.address, [.send("10\n"), .readLine])
        #expect(t.lines == ["55"])
        loop.run(until: .idle, pollTimeout: .milliseconds(20))
        let handlers = loop.snapshot().tasks.filter { $0.kind == "handler" }
        #expect(handlers.count == 2)
        #expect(handlers.allSatisfy { $0.state == .done || $0.state.waitReason != nil }, "no handler failed: \(handlers.map(\.state))")
        #expect(loop.taskInfo(server.task.id)?.state.isFinished == false, "the server keeps serving")
        loop.shutDownEverything()
    }
}
