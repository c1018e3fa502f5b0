// Cancelling a task takes it out of whatever queue it waits in and resumes it with
// CancellationError; its state ends as cancelled.
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct CancellationTests {
    /// Spawns `body`, steps once so it suspends, checks it sits in the expected queue,
    /// cancels it, and checks it left the queue and ended cancelled.
    func cancelOutOfQueue(
        _ loop: EventLoop, queue: (LoopSnapshot) -> [TaskID], sourceLocation: Testing.SourceLocation = #_sourceLocation,
        _ body: @escaping @Sendable () async throws -> Void
    ) {
        let t = loop.spawn(name: "victim", body)
        loop.step()
        #expect(queue(loop.snapshot()) == [t.id], sourceLocation: sourceLocation)
        #expect(loop.cancel(t.id), sourceLocation: sourceLocation)
        #expect(queue(loop.snapshot()) == [], "left its queue", sourceLocation: sourceLocation)
        #expect(loop.snapshot().ready == [t.id], sourceLocation: sourceLocation)
        let step = loop.step().taskStep
        #expect(step?.resumedWithError == "CancellationError()", sourceLocation: sourceLocation)
        #expect(loop.state(t.id) == .cancelled, sourceLocation: sourceLocation)
    }

    @Test func cancelOutOfRecvWait() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        cancelOutOfQueue(loop, queue: { $0.recvWait.map { $0.task } }) { _ = try await a.recv(max: 1) }
        _ = b
    }

    @Test func cancelOutOfSendWait() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        cancelOutOfQueue(loop, queue: { $0.sendWait.map { $0.task } }) { try await a.send(all: [1]) }
        _ = b
    }

    @Test func cancelOutOfFutureWait() throws {
        let loop = try EventLoop()
        let future = loop.makeFuture(of: Int.self)
        cancelOutOfQueue(loop, queue: { $0.futureWait.map { $0.task } }) { _ = try await future.get() }
        future.succeed(1)
    }

    @Test func cancelOutOfTheTimers() throws {
        let loop = try EventLoop()
        cancelOutOfQueue(loop, queue: { $0.timers.map { $0.task } }) { try await loop.sleep(for: .seconds(60)) }
        #expect(loop.isIdle, "a cancelled sleep is not pending timer work")
    }

    @Test func cancelOutOfAJoin() throws {
        let loop = try EventLoop()
        let (a, b) = try AsyncSocket.pair(on: loop)
        let sleeper = loop.spawn(name: "target") { _ = try await a.recv(max: 1) }
        loop.step()
        cancelOutOfQueue(loop, queue: { $0.joins.map { $0.task } }) { _ = try await loop.join(sleeper.id) }
        _ = b
    }

    @Test func cancelAReadyTaskMakesItsNextSuspensionThrow() throws {
        let loop = try EventLoop()
        let reached = Box(false)
        let t = loop.spawn(name: "yielder") {
            try await loop.yield()
            reached.value = true
        }
        loop.step()
        #expect(loop.snapshot().ready == [t.id])
        loop.cancel(t.id)
        loop.step()
        #expect(loop.state(t.id) == .cancelled)
        #expect(!reached.value)
    }

    @Test func cancelBeforeTheFirstStepNeverRunsTheBody() throws {
        let loop = try EventLoop()
        let ran = Box(false)
        let t = loop.spawn(name: "never") { ran.value = true }
        loop.cancel(t.id)
        loop.step()
        #expect(loop.state(t.id) == .cancelled)
        #expect(!ran.value)
        #expect(!loop.cancel(t.id), "a finished task cannot be cancelled again")
        #expect(!loop.cancel(TaskID(99)))
    }

    @Test func joinReturnsWhenTheTargetFinishes() throws {
        let loop = try EventLoop()
        let target = loop.spawn(name: "target") { try await loop.sleep(for: .milliseconds(2)) }
        let exit = Box<TaskExit?>(nil)
        let joiner = loop.spawn(name: "joiner") { exit.value = try await loop.join(target.id) }
        loop.step(); loop.step()
        #expect(loop.snapshot().joins == [.init(task: joiner.id, target: target.id)])
        loop.run()
        #expect(exit.value == .done)
    }
}
