// Futures completed by other threads wake the loop through its wake-up channel, and a
// continuation resumed by another thread still runs as a step on the loop thread.
import Dispatch
import Glibc
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct FutureAndThreadTests {
    @Test func aFutureCompletedByAnotherThreadWakesItsWaiterThroughTheWakeChannel() throws {
        let loop = try EventLoop()
        let future = loop.makeFuture(of: Int.self, label: "fib(30)")
        let got = Box(0)
        let t = loop.spawn(name: "waiter") { got.value = try await future.get() }
        loop.step()
        #expect(loop.snapshot().futureWait == [.init(future: future.id, task: t.id, label: "fib(30)")])
        #expect(!loop.isIdle, "pending pool work")
        let worker = Thread { future.succeed(832040) }
        worker.start()
        // The loop blocks in poll; the worker's completion interrupts it.
        let poll = try #require(loop.step(timeout: .seconds(30)).pollReport)
        worker.join()
        #expect(poll.wakeChannelSignals >= 1)
        #expect(poll.wakes.map(\.cause) == [.future(future.id)])
        loop.step()
        #expect(got.value == 832040)
        #expect(loop.isIdle)
    }

    @Test func aFailedFutureThrowsIntoItsWaiter() throws {
        struct WorkerDied: Error, CustomStringConvertible { var description: String { "worker died" } }
        let loop = try EventLoop()
        let future = loop.makeFuture(of: Int.self)
        let t = loop.spawn(name: "waiter") { _ = try await future.get() }
        loop.step()
        future.fail(WorkerDied())
        loop.run()
        #expect(loop.state(t.id) == .failed("worker died"))
        #expect(future.complete(.success(1)) == false, "only the first completion counts")
    }

    @Test func aFutureCompletedOnTheLoopThreadNeedsNoWakeChannel() throws {
        let loop = try EventLoop()
        let future = loop.makeFuture(of: String.self)
        let t = loop.spawn(name: "waiter") { _ = try await future.get() }
        loop.step()
        future.succeed("x")
        #expect(loop.snapshot().ready == [t.id])
    }

    @Test func blockingResultBlocksTheCallingThreadUntilCompletion() throws {
        let loop = try EventLoop()
        let future = loop.makeFuture(of: Int.self)
        let worker = Thread { future.succeed(7) }
        worker.start()
        #expect(try future.blockingResult().get() == 7)
        worker.join()
    }

    @Test func aContinuationResumedFromAnotherThreadRunsAsAStepOnTheLoopThread() throws {
        let loop = try EventLoop()
        let loopThread = pthread_self()
        let ranOnLoopThread = Box<Bool?>(nil)
        // The other thread resumes only after the first step has returned: resumed
        // earlier, the continuation would not suspend at all.
        let firstStepDone = DispatchSemaphore(value: 0)
        let t = loop.spawn(name: "external") {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                Thread {
                    firstStepDone.wait()
                    c.resume()
                }.start()
            }
            ranOnLoopThread.value = pthread_equal(pthread_self(), loopThread) != 0
        }
        let first = try #require(loop.step().taskStep)
        guard case .waits(let w) = first.outcome else { Issue.record("expected a wait"); return }
        #expect(w.reason == .external)
        #expect(ranOnLoopThread.value == nil, "the resumed half has not run yet")
        firstStepDone.signal()
        let poll = try #require(loop.step(timeout: .seconds(30)).pollReport)
        #expect(poll.wakes.map(\.cause) == [.foreignResume])
        #expect(poll.wakes.map(\.task) == [t.id])
        let second = try #require(loop.step().taskStep)
        #expect(second.task == t.id)
        #expect(ranOnLoopThread.value == true)
        #expect(loop.state(t.id) == .done)
    }

    @Test func aHostContinuationResumedByAnotherTaskIsStillItsTasksStep() throws {
        let loop = try EventLoop()
        let held = Box<CheckedContinuation<Void, Never>?>(nil)
        let waiter = loop.spawn(name: "waiter") {
            await withCheckedContinuation { held.value = $0 }
            await Task.yield()
        }
        let first = try #require(loop.step().taskStep)
        #expect(first.task == waiter.id)
        #expect(loop.state(waiter.id)?.waitReason == .external)
        let resumer = loop.spawn(name: "resumer") { held.value?.resume() }
        #expect(loop.step().taskStep?.task == resumer.id)
        #expect(loop.state(waiter.id) == .ready, "the resumed job is known as the waiter's")
        let second = try #require(loop.step().taskStep)
        #expect(second.task == waiter.id)
        // Task.yield() hands the task to Swift's global executor, which resumes it from
        // another thread: it comes back through the inbox, again as the waiter's step.
        #expect(loop.state(waiter.id)?.waitReason == .external)
        #expect(loop.stepUntil { loop.state(waiter.id) == .done })
        #expect(loop.taskInfo(waiter.id)?.steps == 3, "no step of the waiter ran as a job of no task")
    }
}
