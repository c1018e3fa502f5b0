// The readiness cache (Sources/Runtime/IO/Readiness.swift): under epoll a wait on a socket the
// last poll found ready, with no call since that found otherwise, goes through the wait and
// straight back to ready; every other wait still goes to the poller, and `poll` and `select`
// keep the seed's way exactly. Stepped, on real socketpairs.
import Glibc
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(1))) struct ReadinessTests {
    /// A writer sends twice: the first send waits for a poll (nothing is known yet), the
    /// second goes through send_wait and is ready again at once (epoll), or waits for a poll
    /// again (poll, select).
    @Test(arguments: PollerKind.allCases)
    func aSecondSendIsReadyAgainWithoutAPollUnderEpollOnly(kind: PollerKind) throws {
        let loop = try EventLoop(poller: kind)
        let (a, b) = try AsyncSocket.pair(on: loop)
        let writer = loop.spawn(name: "writer") {
            try await b.send(all: [1])
            try await b.send(all: [2])
        }
        let first = loop.step()  // the writer starts and waits in send_wait
        guard case .waits(let w)? = first.taskStep?.outcome else { Issue.record("\(first)"); return }
        #expect(w.reason == .send(fd: b.fd))
        #expect(first.taskStep?.readyAgain == nil)
        #expect(loop.state(writer.id)?.isWaiting == true)
        let poll = loop.step()
        #expect(poll.pollReport?.wakes.map(\.cause) == [.writable(fd: b.fd)])
        let second = loop.step()  // sends [1], then waits in send_wait for [2]
        guard case .waits(let w2)? = second.taskStep?.outcome else { Issue.record("\(second)"); return }
        #expect(w2.reason == .send(fd: b.fd), "it goes through send_wait either way")
        if kind == .epoll {
            #expect(second.taskStep?.readyAgain == .stillReady(fd: b.fd, writable: true))
            #expect(loop.state(writer.id) == .ready)
            #expect(loop.step().taskStep?.task == writer.id, "no poll before it runs again")
        } else {
            #expect(second.taskStep?.readyAgain == nil)
            #expect(loop.state(writer.id)?.isWaiting == true)
            #expect(loop.step().pollReport?.wakes.map(\.task) == [writer.id])
            loop.step()
        }
        #expect(loop.state(writer.id) == .done)
        #expect(try a.tryRecv(max: 10) == [1, 2])
    }

    /// A read shorter than the buffer took all there was: the next recv waits for the poll,
    /// which wakes it when more arrives. A read that fills the buffer may have left more:
    /// the next recv is ready again and gets the rest.
    @Test func aShortReadWaitsForThePollAndAFullReadDoesNot() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        let got = Box<[[UInt8]]>([])
        let reader = loop.spawn(name: "reader") {
            for _ in 0..<3 { got.value.append(try await a.recv(max: 4)) }
        }
        loop.step()  // waits in recv_wait
        _ = try b.writeNow([1, 2, 3, 4, 5, 6])
        #expect(loop.step().pollReport?.wakes.map(\.task) == [reader.id])
        let full = loop.step()  // reads 4 of 6: the buffer was full
        #expect(full.taskStep?.readyAgain == .stillReady(fd: a.fd, writable: false))
        let short = loop.step()  // reads the other 2: short, so it waits for the poll
        #expect(short.taskStep?.readyAgain == nil)
        #expect(got.value == [[1, 2, 3, 4], [5, 6]])
        #expect(loop.state(reader.id)?.isWaiting == true)
        #expect(loop.step(timeout: .milliseconds(10)).isIdle, "nothing more arrived")
        _ = try b.writeNow([7])
        #expect(loop.step().pollReport?.wakes.map(\.cause) == [.readable(fd: a.fd)])
        loop.step()
        #expect(got.value == [[1, 2, 3, 4], [5, 6], [7]])
        #expect(loop.state(reader.id) == .done)
    }

    /// The bytes and the end of file arrive together: the short read must not hide the end
    /// of file, which no later edge would report.
    @Test func anEndOfFileThatCameWithTheLastBytesIsStillSeen() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        let got = Box<[[UInt8]]>([])
        _ = try b.writeNow([1, 2])
        b.shutdownWrite()
        let reader = loop.spawn(name: "reader") {
            got.value.append(try await a.recv(max: 100))
            got.value.append(try await a.recv(max: 100))
        }
        #expect(loop.run(until: .taskDone(reader.id), pollTimeout: .milliseconds(100)).isTaskDone)
        #expect(got.value == [[1, 2], []])
    }

    /// A socket closed behind the loop's back (not through `close()`) leaves its cache
    /// entry behind; the next socket on the same fd number must register anew, or its wait
    /// would never wake.
    @Test func aNewSocketOnTheFdNumberOfOneClosedBehindTheLoopsBackStillWakes() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        let first = loop.spawn(name: "first") { _ = try await a.recv(max: 10) }
        loop.step()
        _ = try b.writeNow([1])
        #expect(loop.run(until: .taskDone(first.id), pollTimeout: .milliseconds(100)).isTaskDone)
        // Behind the loop's back: the kernel drops the registration with the file.
        let number = a.fd
        _ = Unmanaged.passRetained(a)  // never closed again through the loop (leaked on purpose)
        close(number)
        var fds: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        if fds[0] != number {  // the lowest free fd is usually the one just closed
            #expect(dup2(fds[0], number) == number)
            close(fds[0])
        }
        let c = try AsyncSocket(adopting: number, on: loop)
        let d = try AsyncSocket(adopting: fds[1], on: loop)
        let got = Box<[UInt8]>([])
        let second = loop.spawn(name: "second") { got.value = try await c.recv(max: 10) }
        loop.step()
        _ = try d.writeNow([9])
        #expect(loop.run(until: .taskDone(second.id), pollTimeout: .milliseconds(100)).isTaskDone)
        #expect(got.value == [9])
        _ = b
    }
}

extension AsyncSocket {
    /// Sends at once, from outside any task (the test plays the peer).
    func writeNow(_ bytes: [UInt8]) throws -> Int {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

extension TaskState {
    var isWaiting: Bool {
        if case .waiting = self { return true }
        return false
    }
}

extension EventLoop.RunOutcome {
    var isTaskDone: Bool {
        if case .taskDone = self { return true }
        return false
    }
}
