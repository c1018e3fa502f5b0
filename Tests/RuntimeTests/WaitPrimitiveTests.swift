// The one wait primitive: whoever takes a task out of its queue — a cancel, a close, a
// target finishing, an unpark — takes it out of exactly the queue it is in, and nothing
// else wakes it afterwards.
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct WaitPrimitiveTests {
    /// A joiner cancelled out of its join leaves that target's joiners: when the target
    /// finishes later, the poll wakes the target alone and nothing touches the joiner.
    @Test func aJoinerCancelledOutOfItsJoinIsNotWokenByTheTarget() throws {
        let loop = try EventLoop()
        let (a, other) = try AsyncSocket.pair(on: loop)
        let target = loop.spawn(name: "target") { _ = try await a.recv(max: 1) }
        let joiner = loop.spawn(name: "joiner") { _ = try await loop.join(target.id) }
        let steady = loop.spawn(name: "steady joiner") { _ = try await loop.join(target.id) }
        loop.step(); loop.step(); loop.step()
        #expect(loop.snapshot().joins == [.init(task: joiner.id, target: target.id), .init(task: steady.id, target: target.id)])
        loop.cancel(joiner.id)
        #expect(loop.snapshot().joins == [.init(task: steady.id, target: target.id)], "the cancel took it out, and only it")
        loop.step()
        #expect(loop.state(joiner.id) == .cancelled)
        loop.spawn(name: "sender") { try await other.send(all: [1]) }
        var touched: [TaskID] = []
        for _ in 0..<20 where loop.state(steady.id)?.isFinished != true {
            let event = loop.step(timeout: .milliseconds(50))
            touched += event.pollReport?.wakes.map(\.task) ?? []
            if let t = event.taskStep?.task { touched.append(t) }
        }
        #expect(loop.state(steady.id) == .done, "the remaining joiner was woken by the finish")
        #expect(touched.contains(target.id) && touched.contains(steady.id))
        #expect(!touched.contains(joiner.id), "nothing woke or ran the cancelled joiner: \(touched)")
        #expect(loop.state(joiner.id) == .cancelled)
        #expect(loop.snapshot().joins.isEmpty)
    }

    /// Closing an fd wakes both its receiver and its sender, each with the close error,
    /// and leaves no entry for the fd in either queue.
    @Test func closingAnFdWakesBothItsWaitersWithTheCloseError() throws {
        let loop = try EventLoop()
        let (a, _) = try AsyncSocket.pair(on: loop)
        let fd = a.fd
        let errors = Box<[String]>([])
        loop.spawn(name: "reader") {
            do { try await loop.readable(fd) } catch { errors.value.append("\(error)") }
        }
        loop.spawn(name: "writer") {
            // A socket pair is writable at once: park on a full send buffer instead.
            do { try await loop.writable(fd, label: "test") } catch { errors.value.append("\(error)") }
        }
        loop.step()
        #expect(loop.snapshot().recvWait.map(\.fd) == [fd])
        loop.step()
        #expect(loop.snapshot().sendWait.map(\.fd) == [fd])
        loop.close(fd)
        #expect(loop.snapshot().recvWait.isEmpty && loop.snapshot().sendWait.isEmpty)
        loop.step(); loop.step()
        #expect(errors.value == Array(repeating: "fd \(fd) was closed while this task waited on it", count: 2))
    }

    /// `park` and `unpark`: the host's queue shows the task with its detail, `unpark`
    /// moves it to ready once, and a second `unpark` finds nothing.
    @Test func aParkedTaskLeavesItsHostQueueOnceOnUnpark() throws {
        let loop = try EventLoop()
        let t = loop.spawn(name: "parked") { try await loop.park(in: "lock_wait", detail: "mutex m") }
        loop.step()
        #expect(loop.snapshot().parked.map { "\($0.queue) \($0.detail) \($0.task.rawValue)" } == ["lock_wait mutex m \(t.id.rawValue)"])
        #expect(loop.state(t.id)?.waitReason == .custom(queue: "lock_wait", detail: "mutex m"))
        #expect(loop.unpark(t.id))
        #expect(!loop.unpark(t.id), "already out of the queue")
        #expect(loop.snapshot().parked.isEmpty)
        let wake = loop.step()
        #expect(wake.taskStep?.resumedFrom?.reason == .custom(queue: "lock_wait", detail: "mutex m"))
        #expect(loop.state(t.id) == .done)
    }
}
