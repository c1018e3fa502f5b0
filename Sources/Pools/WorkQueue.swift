// The queue that feeds a pool's worker threads: a locked Deque and a counting semaphore,
// so idle workers sleep in sem_wait and each submission wakes exactly one.
import DequeModule
import Glibc
import Runtime
import TimeTravel
import Synchronization

/// Why a pool did not run a piece of work.
public enum PoolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The pool was shut down before (or while) the work ran.
    case shutDown(pool: String)
    /// A worker process died while computing it.
    case workerDied(pool: String, pid: Int32, status: String, work: String)
    /// A worker process could not be started.
    case cannotStart(pool: String, reason: String)
    /// A worker process answered something unexpected.
    case badReply(pool: String, reply: String)

    public var description: String {
        switch self {
        case .shutDown(let pool): return "pool \(pool) was shut down"
        case let .workerDied(pool, pid, status, work):
            return "worker process \(pid) of pool \(pool) died (\(status)) while computing \(work)"
        case let .cannotStart(pool, reason): return "pool \(pool) cannot start a worker: \(reason)"
        case let .badReply(pool, reply): return "pool \(pool): worker replied '\(reply)'"
        }
    }
}

/// Work for one worker thread; `abandon` runs instead if the pool shuts down first.
struct WorkItem<Context>: Sendable {
    let run: @Sendable (inout Context, _ worker: Int) -> Void
    let abandon: @Sendable () -> Void
}

/// A multi-producer, multi-consumer queue of work items (any thread).
final class WorkQueue<Context>: @unchecked Sendable {
    private struct State {
        var items = Deque<WorkItem<Context>>()
        var stopping = false
        var busy = 0
    }
    private let state = Locked(State())
    private let semaphore = Semaphore()
    /// On a virtual clock: when each of the pool's `workers` is free again (loop thread
    /// only; work is modelled as taking its virtual cost on the first free worker).
    private var virtualFreeAt: [UInt64] = []
    let workers: Int

    init(workers: Int) {
        self.workers = max(1, workers)
    }

    /// Queues an item; false if the queue is stopping.
    func put(_ item: WorkItem<Context>) -> Bool {
        let accepted = state.withLock { s -> Bool in
            if s.stopping { return false }
            s.items.append(item)
            return true
        }
        if accepted { semaphore.signal() }
        return accepted
    }

    /// What `take(idleNanos:)` found.
    enum Taken {
        case item(WorkItem<Context>)
        /// Nothing arrived within the idle time.
        case idle
        case stopping
    }

    /// Blocks until an item is available; nil once the queue is stopping.
    func take() -> WorkItem<Context>? {
        if case .item(let item) = take(idleNanos: nil) { return item }
        return nil
    }

    /// Blocks until an item is available, the queue is stopping, or (with `idleNanos`)
    /// that long has passed with nothing to do.
    func take(idleNanos: UInt64?) -> Taken {
        while true {
            if let idleNanos {
                if !semaphore.wait(nanos: idleNanos) { return .idle }
            } else {
                semaphore.wait()
            }
            let next = state.withLock { s -> (WorkItem<Context>?, Bool) in
                if s.stopping { return (nil, true) }
                guard let item = s.items.popFirst() else { return (nil, false) }
                s.busy += 1
                return (item, false)
            }
            if next.1 { return .stopping }
            if let item = next.0 { return .item(item) }
        }
    }

    /// Marks one taken item finished.
    func done() {
        state.withLock { $0.busy -= 1 }
    }

    /// Stops the queue and wakes every `take` (`waiters` of them); returns what was left.
    func stop(waiters: Int) -> [WorkItem<Context>] {
        let left = state.withLock { s -> [WorkItem<Context>] in
            s.stopping = true
            let items = Array(s.items)
            s.items.removeAll()
            return items
        }
        semaphore.signal(waiters)
        return left
    }

    /// (queued, running) now.
    var load: (queued: Int, running: Int) {
        state.withLock { ($0.items.count, $0.busy) }
    }

    /// Submits work whose result completes a new future of `loop`, telling the loop's
    /// observers when it is submitted, started on worker W, and finished. Loop thread.
    func submit<T: Sendable>(
        on loop: EventLoop, pool: String, label: String, virtualCost: Duration? = nil,
        _ work: @escaping @Sendable (inout Context, _ worker: Int) -> Result<T, any Error>
    ) -> LoopFuture<T> {
        var due = loop.now()
        var modelled: (pool: String, worker: Int, start: UInt64)?
        if loop.clock == .virtual {
            // The first worker free (in virtual time) takes it for its cost.
            if virtualFreeAt.count != workers { virtualFreeAt = Array(repeating: 0, count: workers) }
            let w = virtualFreeAt.indices.min { virtualFreeAt[$0] < virtualFreeAt[$1] }!
            let start = max(due, virtualFreeAt[w])
            due = start &+ (virtualCost?.clampedNanoseconds ?? 0)
            virtualFreeAt[w] = due
            modelled = (pool, w + 1, start)
        }
        let future = loop.makeFuture(of: T.self, label: label, countsAsPending: true, due: due)
        if let modelled { loop.setModelledWork(of: future, pool: modelled.pool, worker: modelled.worker, start: modelled.start) }
        loop.post(PoolEvent(pool: pool, future: future.id, kind: .submitted, label: label, at: loop.now()))
        // On the virtual clock the loop tells the model's start and finish when it delivers.
        let threadsTell = modelled == nil
        let accepted = put(WorkItem(
            run: { context, worker in
                // Nothing starts while the loop is paused; stamps are on the loop's clock.
                let gate = loop.pauseGate, clock = loop.sharedClock
                gate.checkpoint()
                if threadsTell {
                    loop.post(PoolEvent(pool: pool, future: future.id, kind: .started(worker: worker), label: label, at: clock.now()))
                }
                let result = work(&context, worker)
                var ok = true
                if case .failure = result { ok = false }
                if threadsTell {
                    loop.post(PoolEvent(pool: pool, future: future.id, kind: .finished(worker: worker, ok: ok), label: label,
                                        at: clock.now()))
                }
                future.complete(result)
            },
            abandon: { future.fail(PoolError.shutDown(pool: pool)) }))
        if !accepted { future.fail(PoolError.shutDown(pool: pool)) }
        return future
    }
}
