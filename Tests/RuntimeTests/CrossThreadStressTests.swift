// Every path by which another thread reaches the loop, under stress: N threads × M
// operations against a loop that keeps stepping. Each test checks that nothing is lost or
// delivered twice, and that no wake-up waits out a poll timeout: the polls here block for
// many seconds, so a lost wake-up shows as a poll that waited far too long (the test stops
// it and fails at once) rather than as a slightly slower run.
import Glibc
import Pools
import Runtime
import Synchronization
import Testing
import TestSupport

/// A blocking multi-producer queue for handing work to plain threads (test only).
final class Handoff<T: Sendable>: @unchecked Sendable {
    private let items = Locked<[T]>([])
    private let semaphore = Semaphore()

    func put(_ item: T) {
        items.withLock { $0.append(item) }
        semaphore.signal()
    }

    func take() -> T {
        semaphore.wait()
        return items.withLock { $0.removeFirst() }
    }
}

/// How long polls may block in these tests, and the most any single poll may wait while
/// work from other threads is due. A lost wake-up waits the whole timeout.
private let longPoll: Duration = .seconds(20)
private let stallNanos: UInt64 = 5_000_000_000

/// Runs `loop` until `done`, failing (and stopping) at the first poll that waited longer
/// than `stallNanos` — the signature of a lost wake-up.
private func runWatchingForStalls(
    _ loop: EventLoop, what: String, sourceLocation: SourceLocation = #_sourceLocation,
    until done: @escaping () -> Bool
) {
    var stalls = 0
    while !done() {
        let outcome = loop.run(until: .steps(1000), pollTimeout: longPoll, stopWhen: { event in
            if let waited = event.waitedNanos, waited > stallNanos {
                stalls += 1
                return true
            }
            return done()
        })
        if case .matched(let event) = outcome, stalls > 0 {
            Issue.record("\(what): a poll waited \(Double(event.waitedNanos ?? 0) / 1e9) s although work was due: a wake-up was lost", sourceLocation: sourceLocation)
            return
        }
        if case .noTasksLeft = outcome { break }
    }
}

extension EventLoop.RunOutcome {
    var isStepLimit: Bool {
        if case .stepLimit = self { return true }
        return false
    }
}

extension StepEvent {
    /// How long this step blocked in poll, if it was a poll step.
    var waitedNanos: UInt64? {
        switch kind {
        case .polled(let report): return report.waitedNanos
        case .idle(let report): return report.waitedNanos
        default: return nil
        }
    }
}

@Suite(.serialized, .timeLimit(.minutes(2))) struct CrossThreadStressTests {

    /// The regression test for the lost wake-up: WakeChannel.drain() cleared its pending
    /// flag before reading the eventfd, so a signal landing between the two was consumed
    /// with the flag left set, and no later signal ever wrote again.
    @Test func futuresCompletedByManyThreadsAlwaysWakeABlockedPoll() throws {
        let loop = try EventLoop()
        let threads = 4, rounds = 3000, perThread = 8
        let handoffs = (0..<threads).map { _ in Handoff<LoopFuture<Int>?>() }
        let workers = handoffs.map { h in
            OSThread(name: "completer") {
                while let f = h.take() { f.succeed(f.id.rawValue) }
            }
        }
        workers.forEach { $0.start() }
        let received = Box(0)
        let wrong = Box(0)
        let task = loop.spawn(name: "awaiter") {
            for _ in 0..<rounds {
                var batch: [LoopFuture<Int>] = []
                for t in 0..<threads {
                    for _ in 0..<perThread {
                        let f = loop.makeFuture(of: Int.self, label: "work")
                        batch.append(f)
                        handoffs[t].put(f)
                    }
                }
                for f in batch {
                    let v = try await f.get()
                    if v != f.id.rawValue { wrong.value += 1 }
                    received.value += 1
                }
            }
        }
        runWatchingForStalls(loop, what: "future completions") { loop.state(task.id)?.isFinished ?? true }
        handoffs.forEach { $0.put(nil) }
        workers.forEach { $0.join() }
        #expect(received.value == rounds * threads * perThread)
        #expect(wrong.value == 0)
        #expect(loop.state(task.id) == .done)
    }

    /// `execute` from many threads: every closure runs exactly once, on the loop thread.
    @Test func closuresSentFromManyThreadsRunOnceEachOnTheLoopThread() throws {
        let loop = try EventLoop()
        let threads = 8, perThread = 5_000
        let counts = Box([Int](repeating: 0, count: threads * perThread))
        let offThread = Box(0)
        let ran = Box(0)
        // A task that waits forever keeps the loop polling.
        let sleeper = loop.spawn(name: "sleeper") { try await loop.sleep(for: .seconds(3600)) }
        let senders = (0..<threads).map { t in
            OSThread(name: "sender") {
                for i in 0..<perThread {
                    loop.execute {
                        if !loop.isOnLoopThread { offThread.value += 1 }
                        counts.value[t * perThread + i] += 1
                        ran.value += 1
                    }
                }
            }
        }
        senders.forEach { $0.start() }
        runWatchingForStalls(loop, what: "execute") { ran.value == threads * perThread }
        senders.forEach { $0.join() }
        #expect(offThread.value == 0)
        #expect(counts.value.allSatisfy { $0 == 1 }, "every closure ran exactly once")
        loop.cancel(sleeper.id)
        loop.run()
    }

    /// Continuations resumed from other threads (the enqueue path): every task resumes
    /// once and finishes.
    @Test func continuationsResumedFromManyThreadsEachRunOnce() throws {
        let loop = try EventLoop()
        let tasks = 2000, threads = 4
        let handoffs = (0..<threads).map { _ in Handoff<CheckedContinuation<Int, Never>?>() }
        let resumers = handoffs.enumerated().map { t, h in
            OSThread(name: "resumer") {
                while let c = h.take() { c.resume(returning: t) }
            }
        }
        resumers.forEach { $0.start() }
        let finished = Box(0)
        let handles = (0..<tasks).map { i in
            loop.spawn(name: "t\(i)") {
                let from = await withCheckedContinuation { c in handoffs[i % threads].put(c) }
                #expect(from == i % threads)
                finished.value += 1
            }
        }
        runWatchingForStalls(loop, what: "foreign resumes") { finished.value == tasks }
        handoffs.forEach { $0.put(nil) }
        resumers.forEach { $0.join() }
        #expect(finished.value == tasks)
        // (The table keeps only the last 1000 finished tasks: count the live ones instead.)
        #expect(loop.stepUntil { loop.liveTaskCount == 0 })
        let kept = handles.compactMap { loop.state($0.id) }
        #expect(!kept.isEmpty && kept.allSatisfy { $0 == .done }, "\(kept.count) kept: every one done")
    }

    /// Many threads race to complete the same futures: exactly one completion of each
    /// counts, and each waiter wakes exactly once.
    @Test func racingCompletionsOfOneFutureCountOnce() throws {
        let loop = try EventLoop()
        let rounds = 2000, racers = 4
        let handoffs = (0..<racers).map { _ in Handoff<LoopFuture<Int>?>() }
        let wins = Atomic<Int>(0)
        let threads = handoffs.enumerated().map { r, h in
            OSThread(name: "racer") {
                while let f = h.take() {
                    if f.succeed(r) { wins.add(1, ordering: .relaxed) }
                }
            }
        }
        threads.forEach { $0.start() }
        let woke = Box(0)
        let task = loop.spawn(name: "awaiter") {
            for _ in 0..<rounds {
                let f = loop.makeFuture(of: Int.self)
                for h in handoffs { h.put(f) }
                let winner = try await f.get()
                #expect((0..<racers).contains(winner))
                woke.value += 1
            }
        }
        runWatchingForStalls(loop, what: "racing completions") { loop.state(task.id)?.isFinished ?? true }
        handoffs.forEach { $0.put(nil) }
        threads.forEach { $0.join() }
        #expect(woke.value == rounds)
        #expect(wins.load(ordering: .relaxed) == rounds)
        #expect(loop.isIdle, "no future left pending")
    }

    /// `requestStop()` from another thread ends a free run blocked in a long poll, every
    /// time, without waiting out the poll timeout; no request is lost or seen twice. The
    /// stopper is released as the loop is about to poll, so its request lands just
    /// before or during the blocking call.
    @Test func stopRequestsFromAnotherThreadEndEveryRunPromptly() throws {
        final class PollGate: LoopObserver {
            let go = Handoff<Bool>()
            var armed = false
            func loop(_ loop: EventLoop, observed event: LoopEvent) {
                if case .pollBegan = event, armed {
                    armed = false
                    go.put(true)
                }
            }
        }
        let loop = try EventLoop()
        let sleeper = loop.spawn(name: "sleeper") { try await loop.sleep(for: .seconds(3600)) }
        let gate = PollGate()
        loop.addObserver(gate)
        let rounds = 1000
        let go = gate.go
        let stopper = OSThread(name: "stopper") {
            while go.take() { loop.requestStop() }
        }
        stopper.start()
        var slow = 0
        for _ in 0..<rounds {
            gate.armed = true
            let before = monotonicNanos()
            let outcome = loop.run(until: .noTasks, pollTimeout: longPoll)
            guard case .stopRequested = outcome else {
                Issue.record("run ended with \(outcome), not stopRequested")
                break
            }
            if monotonicNanos() - before > stallNanos { slow += 1 }
        }
        gate.go.put(false)
        stopper.join()
        #expect(slow == 0, "a stop request waited out a poll")
        #expect(loop.run(until: .steps(3), pollTimeout: .zero).isStepLimit, "no stop request left over")
        loop.cancel(sleeper.id)
        loop.run()
    }

    /// The thread pool: N loop tasks submit M pieces of work each; every result arrives
    /// once, with the right value.
    @Test func aThreadPoolReturnsEveryResultOnce() throws {
        let loop = try EventLoop()
        let pool = ThreadPool(size: 4)
        defer { pool.shutdown(wait: true) }
        let tasks = 16, perTask = 500
        let sum = Box(0)
        let count = Box(0)
        for t in 0..<tasks {
            loop.spawn(name: "submitter \(t)") {
                // Several in flight at once per task.
                for round in 0..<(perTask / 5) {
                    let futures = (0..<5).map { k in
                        let v = t * perTask + round * 5 + k
                        return pool.submit(on: loop, label: "v\(v)") { v }
                    }
                    for f in futures {
                        sum.value += try await f.get()
                        count.value += 1
                    }
                }
            }
        }
        runWatchingForStalls(loop, what: "thread pool") { count.value == tasks * perTask }
        let n = tasks * perTask
        #expect(count.value == n)
        #expect(sum.value == n * (n - 1) / 2)
        #expect(pool.load.queued == 0)
        loop.run()
        #expect(loop.isIdle)
    }
}
