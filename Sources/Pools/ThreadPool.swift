// The seed's ThreadPoolExecutor: N real threads taking closures from one queue. Each
// submission returns a LoopFuture; the worker completes it, which wakes the loop through
// its wake-up channel. Pool events (submitted, started on worker W, finished) go to the
// loop's observers.

import Runtime

/// A pool of OS threads whose results arrive as `LoopFuture`s.
public final class ThreadPool: @unchecked Sendable {
    /// `"thread:4"`
    public let name: String
    /// How many threads.
    public let size: Int
    /// The GIL its work runs under, if any: a worker holds it while it computes.
    public let gil: GIL?
    private let queue: WorkQueue<Void>
    private var threads: [OSThread] = []

    /// Starts `size` threads (at least 1). With a `gil`, a worker holds it while it runs a
    /// piece of work (long work should call `gil.checkpoint()` often, as CPython's eval
    /// loop does, so that other threads get their turn).
    public init(size: Int, name: String? = nil, gil: GIL? = nil) {
        self.gil = gil
        self.size = max(1, size)
        self.queue = WorkQueue(workers: max(1, size))
        self.name = name ?? "thread:\(max(1, size))"
        for i in 1...self.size {
            let queue = self.queue
            let thread = OSThread(name: "pool-\(i)") {
                var context: Void = ()
                while let item = queue.take() {
                    item.run(&context, i)
                    queue.done()
                }
            }
            threads.append(thread)
            thread.start()
        }
    }

    /// Runs `work` on a pool thread; the future completes with its result or error.
    /// Call on the loop thread.
    ///
    /// - Parameter label: what the work is, for observers (`"fib(42)"`).
    /// - Parameter virtualCost: on a virtual clock, how long the work takes (on the first
    ///   worker free in virtual time); its completion is delivered then.
    public func submit<T: Sendable>(
        on loop: EventLoop, label: String, virtualCost: Duration? = nil, _ work: @escaping @Sendable () throws -> T
    ) -> LoopFuture<T> {
        guard let gil else {
            return queue.submit(on: loop, pool: name, label: label, virtualCost: virtualCost) { _, _ in Result { try work() } }
        }
        return queue.submit(on: loop, pool: name, label: label, virtualCost: virtualCost) { _, worker in
            gil.acquire(as: "pool-\(worker)", for: label)
            defer { gil.release() }
            return Result { try work() }
        }
    }

    /// Work waiting for a thread, and work running now (any thread).
    public var load: (queued: Int, running: Int) { queue.load }

    /// Stops taking work and fails what is still queued. Threads busy with a computation
    /// finish it (a thread cannot be interrupted) and then exit; with `wait` the call
    /// waits for that.
    public func shutdown(wait: Bool = false) {
        for item in queue.stop(waiters: size) { item.abandon() }
        for t in threads { if wait { t.join() } else { t.detach() } }
    }

    deinit {
        // Dropped without shutdown: the threads finish what they run, then exit on
        // their own (detached, not leaked).
        for item in queue.stop(waiters: size) { item.abandon() }
        for t in threads { t.detach() }
    }
}
