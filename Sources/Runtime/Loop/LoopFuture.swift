// The seed's `concurrent.futures.Future` plus its `add_done_callback(future_done)`: a
// result that another thread (a pool worker) completes. A task waiting on it sits in
// `future_wait`; completion from another thread goes through the inbox and the wake-up
// channel, like the seed's `future_notify.send(b'x')`.
import Glibc
import Synchronization

/// The part of a future the loop handles without knowing its value type.
public class AnyLoopFuture: @unchecked Sendable {
    /// The future's id, unique within its loop.
    public let id: FutureID
    /// What the future stands for, e.g. `"fib(42)"`.
    public let label: String
    let loop: EventLoop
    /// Set on the loop thread once the completion has been handed to the waiting task.
    var delivered = false
    /// Whether the loop counts it as pending work until delivered.
    package let countsAsPending: Bool
    /// Whether it completed with an error (once completed).
    package var failed: Bool { false }
    /// Whether its outcome is an outside input (`makeOutsideFuture`): recorded when it is
    /// delivered, and in a replay taken from the recording.
    package let outcomeIsInput: Bool
    /// Made in a replay with its outcome an input: the recording completes it, and a
    /// completion from another thread is ignored.
    let answeredByReplay: Bool
    /// How it failed, if it did (once completed).
    package var failureDescription: String? { nil }

    init(id: FutureID, label: String, loop: EventLoop, countsAsPending: Bool,
         outcomeIsInput: Bool = false, answeredByReplay: Bool = false) {
        self.id = id
        self.label = label
        self.loop = loop
        self.countsAsPending = countsAsPending
        self.outcomeIsInput = outcomeIsInput
        self.answeredByReplay = answeredByReplay
    }

    /// In a replay: completes it as the recording says (loop thread; the caller delivers it).
    package func completeFromReplay(failure: (any Error)?) {}
}

/// A value that arrives later, typically from a worker pool. Complete it from any
/// thread; await it from a task on its loop, or block on it (which blocks the thread —
/// the seed's `future.result()` trap, on purpose).
public final class LoopFuture<Value: Sendable>: AnyLoopFuture, @unchecked Sendable {
    private struct State {
        var result: Result<Value, any Error>?
        var blockedThreads = 0
    }
    private let state = Locked(State())
    private let semaphore = Semaphore()

    init(loop: EventLoop, id: FutureID, label: String, countsAsPending: Bool,
         outcomeIsInput: Bool = false, answeredByReplay: Bool = false) {
        super.init(id: id, label: label, loop: loop, countsAsPending: countsAsPending,
                   outcomeIsInput: outcomeIsInput, answeredByReplay: answeredByReplay)
    }

    override package var failed: Bool {
        state.withLock { if case .failure? = $0.result { return true } else { return false } }
    }

    override package var failureDescription: String? {
        state.withLock { if case .failure(let e)? = $0.result { return "\(e)" } else { return nil } }
    }

    override package func completeFromReplay(failure: (any Error)?) {
        let result: Result<Value, any Error>
        if let failure {
            result = .failure(failure)
        } else if let value = () as? Value {
            result = .success(value)
        } else {
            return  // (only futures of no value are made with their outcome an input)
        }
        let blocked = state.withLock { s -> Int? in
            guard s.result == nil else { return nil }
            s.result = result
            return s.blockedThreads
        }
        if let blocked { semaphore.signal(blocked) }
    }

    /// Completes the future (any thread). Only the first completion counts.
    ///
    /// - Returns: false if it was already completed.
    @discardableResult
    public func complete(_ result: Result<Value, any Error>) -> Bool {
        // In a replay the recording says how outside work ended, not the work.
        if answeredByReplay && !loop.isOnLoopThread { return false }
        let blocked = state.withLock { s -> Int? in
            guard s.result == nil else { return nil }
            s.result = result
            return s.blockedThreads
        }
        guard let blocked else { return false }
        semaphore.signal(blocked)
        loop.futureCompleted(self)
        return true
    }

    /// Completes the future with a value (any thread).
    @discardableResult
    public func succeed(_ value: Value) -> Bool { complete(.success(value)) }

    /// Completes the future with an error (any thread).
    @discardableResult
    public func fail(_ error: any Error) -> Bool { complete(.failure(error)) }

    /// The result, if completed (any thread).
    public var result: Result<Value, any Error>? { state.withLock { $0.result } }

    /// Suspends the running task in `future_wait` until the loop has seen the completion
    /// (the seed's `yield 'future', future`), then returns the value or throws the error.
    ///
    /// - Throws: the future's error; `LoopError.futureAlreadyAwaited` if another task
    ///   waits on it; `CancellationError`.
    public func get(label: StaticString = "", fileID: StaticString = #fileID, line: UInt = #line) async throws -> Value {
        if loop.runningTask("LoopFuture.get").cancelRequested { throw CancellationError() }
        if !delivered {
            loop.futureLabels[id] = self.label
            defer { loop.futureLabels[id] = nil }
            try await loop.suspend(as: .future(id), label: label, location: CodeLocation(fileID: fileID, line: line))
        }
        guard let result = self.result else { preconditionFailure("future \(id.rawValue) delivered without a result") }
        return try result.get()
    }

    /// Blocks the calling thread until the future completes (the seed's
    /// `future.result()`). On the loop thread this stops the whole loop: that is the
    /// point of the `block` wait mode.
    public func blockingResult() -> Result<Value, any Error> {
        let ready = state.withLock { s -> Result<Value, any Error>? in
            if let r = s.result { return r }
            s.blockedThreads += 1
            return nil
        }
        if let ready { return ready }
        // Blocked, the loop thread lets others have the GIL (CPython releases it in a
        // lock's acquire).
        loop.allowingThreadsFromAnyThread { semaphore.wait() }
        return state.withLock { $0.result! }
    }
}

extension EventLoop {
    /// Makes a future of this loop. Until its completion is delivered, the loop counts it
    /// as pending pool work (`run(until: .idle)` waits for it) unless `countsAsPending`
    /// is false (e.g. for a client thread that runs until stopped).
    public func makeFuture<Value: Sendable>(
        of type: Value.Type = Value.self, label: String = "", countsAsPending: Bool = true
    ) -> LoopFuture<Value> {
        makeFuture(of: type, label: label, countsAsPending: countsAsPending, due: now())
    }

    /// Makes a future whose completion is due at `due`: a driver keeping the clock may
    /// deliver it then, whenever the real work finishes, in order of those times.
    package func makeFuture<Value: Sendable>(
        of type: Value.Type, label: String, countsAsPending: Bool, due: UInt64
    ) -> LoopFuture<Value> {
        assertOnLoopThread()
        let id = FutureID(rawValue: nextFutureID)
        nextFutureID += 1
        if countsAsPending { pendingFutures += 1 }
        let future = LoopFuture<Value>(loop: self, id: id, label: label, countsAsPending: countsAsPending)
        if driverFutures { driver.unsafelyUnwrapped.futureMade(self, future, due: due, outside: false) }
        return future
    }

    /// Makes a future that work outside the loop completes — a client on a thread of its
    /// own, with sockets of its own — whose outcome is an outside input: a loop recording
    /// its inputs keeps where the completion was delivered and whether it succeeded (or
    /// how it failed, in words), and a replay completes it there from the recording. In a
    /// replay (`LoopDriver.answersOutsideWork`) the outside work should not run at all — a replay
    /// opens no socket — and a completion from another thread is ignored. Once a replay
    /// has ended (`endReplay()`), one still pending fails ("the replay has ended").
    public func makeOutsideFuture(label: String = "", countsAsPending: Bool = true) -> LoopFuture<Void> {
        assertOnLoopThread()
        let id = FutureID(rawValue: nextFutureID)
        nextFutureID += 1
        if countsAsPending { pendingFutures += 1 }
        let answered = driverInputs && driver.unsafelyUnwrapped.answersOutsideWork(self)
        let future = LoopFuture<Void>(loop: self, id: id, label: label, countsAsPending: countsAsPending,
                                      outcomeIsInput: true, answeredByReplay: answered)
        if driverFutures { driver.unsafelyUnwrapped.futureMade(self, future, due: nil, outside: true) }
        return future
    }

    /// Called by `complete` on the completing thread.
    func futureCompleted(_ future: AnyLoopFuture) {
        if isOnLoopThread {
            deliver(future)
        } else {
            inbox.withLock {
                $0.append(.future(future))
                inboxPending.store(true, ordering: .releasing)
            }
            wakeChannel.signal()
        }
    }

    /// What future `id` stands for (`"fib(40)"`), while a task waits on it; nil otherwise
    /// or if it has no label.
    public func futureLabel(_ id: FutureID) -> String? {
        assertOnLoopThread()
        return futureLabels[id].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The seed's `future_done`: the waiting task (if any) leaves `future_wait` for ready.
    package func deliver(_ future: AnyLoopFuture) {
        guard !future.delivered else { return }
        // A driver keeping the clock may hold a completion back until its time.
        if driverFutures, driver.unsafelyUnwrapped.holds(self, future) { return }
        future.delivered = true
        if driverFutures { driver.unsafelyUnwrapped.delivering(self, future) }
        if future.countsAsPending { pendingFutures -= 1 }
        if let record = queues.future[future.id] { wake(record, cause: .future(future.id)) }
    }
}
