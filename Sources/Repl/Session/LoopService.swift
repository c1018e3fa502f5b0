// The loop's own thread, for front ends that must stay responsive while the loop runs (the
// interactive prompt). It owns the session; other threads hand it work and are told when
// the work is done. A background run (`run &`) goes on between pieces of work: it yields
// whenever work arrives, the work runs between two steps, and the run resumes.
import DequeModule
import Glibc
import Pools
import Runtime
import TimeTravel
import Synchronization

/// Runs a `Session` on a dedicated loop thread (any thread may call its methods).
public final class LoopService: @unchecked Sendable {
    /// What a front end can see without asking the loop thread.
    public struct Status: Sendable {
        public var running = false
        public var step: UInt64 = 0
        /// The past step the views show (`step back`), if any.
        public var past: UInt64?
        /// The scheduling policy, when it is not the seed's fifo.
        public var policy: String?
        /// Whether the loop reads its virtual clock.
        public var virtualClock = false
        /// Whether new sockets are the simulated network's (`net sim`).
        public var netSimulated = false
        public var quit = false
        /// Tasks, for completion: id, name, and whether it listens (has an address).
        public var tasks: [(id: Int, name: String, listens: Bool)] = []
    }

    private let work = Locked<Deque<@Sendable (Session) -> Void>>([])
    private let pending = Atomic<Bool>(false)
    private let semaphore = Semaphore()
    private let statusBox = Locked(Status())
    private var thread: OSThread?
    private var session: Session?
    /// Written by the loop thread once the session exists (or failed to).
    private let ready = Locked<Result<Session, any Error>?>(nil)
    /// The session's loop (it changes at `reset`), for the calls other threads may make.
    private let currentLoop = Locked<EventLoop?>(nil)

    /// Starts the loop thread and creates the session on it.
    ///
    /// - Parameter configure: runs on the loop thread once the session exists (e.g. to
    ///   register a host's commands).
    public init(output: ReplOutput, configure: @escaping @Sendable (Session) -> Void = { _ in }) throws {
        let started = Semaphore()
        let t = OSThread(name: "corepl-loop") { [self] in
            do {
                let s = try Session(output: output)
                s.backgroundRunsSupported = true
                configure(s)
                currentLoop.withLock { $0 = s.loop }
                ready.withLock { $0 = .success(s) }
                started.signal()
                serve(s)
            } catch {
                ready.withLock { $0 = .failure(error) }
                started.signal()
            }
        }
        thread = t
        t.start()
        started.wait()
        switch ready.withLock({ $0 })! {
        case .success(let s): session = s
        case .failure(let e): t.join(); throw e
        }
    }

    /// Queues `body` to run on the loop thread, between steps; `done` is called there
    /// after it.
    public func submit(_ body: @escaping @Sendable (Session) -> Void) {
        work.withLock { $0.append(body) }
        pending.store(true, ordering: .releasing)
        semaphore.signal()
        currentLoop.withLock { $0 }?.wakeUp()
    }

    /// Runs `body` on the loop thread and waits for it.
    public func perform<T: Sendable>(_ body: @escaping @Sendable (Session) -> T) -> T {
        let box = Locked<T?>(nil)
        let done = Semaphore()
        submit { s in
            let r = body(s)
            box.withLock { $0 = r }
            done.signal()
        }
        done.wait()
        return box.withLock { $0! }
    }

    /// Stops a foreground `run` or `step N` after its current step (any thread).
    public func interrupt() { session?.interrupt() }

    /// The task holding the loop right now, and for how long (any thread).
    public var busyTask: (task: TaskID, nanos: UInt64)? { currentLoop.withLock { $0 }?.busyTask }

    /// The latest status (any thread).
    public var status: Status { statusBox.withLock { $0 } }

    /// Waits for the loop thread to end (after `quit`).
    public func join() { thread?.join() }

    // MARK: The loop thread

    private func serve(_ s: Session) {
        while true {
            if s.isRunningInBackground {
                statusBox.withLock { $0.running = true }
                // Yield for work, and a few times a second to publish the step count.
                let publishAt = monotonicNanos() + 250_000_000
                _ = s.continueBackground { [self] in
                    pending.load(ordering: .acquiring) || monotonicNanos() >= publishAt
                }
            } else {
                publishStatus(s)
                semaphore.wait()
            }
            runPendingWork(s)
            publishStatus(s)
            if s.quitRequested {
                s.shutdown()
                publishStatus(s)
                // Work queued after quit still runs (its callers wait for it).
                runPendingWork(s)
                return
            }
        }
    }

    private func runPendingWork(_ s: Session) {
        while true {
            let next = work.withLock { q -> (@Sendable (Session) -> Void)? in
                let item = q.popFirst()
                if q.isEmpty { pending.store(false, ordering: .releasing) }
                return item
            }
            guard let next else { return }
            next(s)
        }
    }

    func publishStatus(_ s: Session) {
        currentLoop.withLock { $0 = s.loop }
        let snap = s.loop.snapshot()
        let tasks = snap.tasks.map { (id: $0.id.rawValue, name: $0.name, listens: $0.facts["address"] != nil) }
        statusBox.withLock {
            $0.running = s.isRunningInBackground
            $0.step = snap.step
            $0.past = s.pastStep
            $0.policy = s.loop.policy == .fifo ? nil : s.loop.policy.description
            $0.virtualClock = s.loop.clock == .virtual
            $0.netSimulated = s.loop.isNetworkSimulated
            $0.quit = s.quitRequested
            $0.tasks = tasks
        }
    }
}
