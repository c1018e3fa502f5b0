// Observation, like trio's Instrument hooks: the runtime never prints; the REPL, traces
// and tests attach observers. With none attached, each hook costs one branch.

/// Something that happened in the loop, delivered to observers on the loop thread.
public enum LoopEvent: Sendable {
    /// A task was spawned (by `parent`, if from inside a task).
    case spawned(TaskID, name: String, kind: String, parent: TaskID?)
    /// A step is about to run (`task` nil for a poll step).
    case stepBegan(UInt64, task: TaskID?)
    /// A step finished.
    case stepEnded(StepEvent)
    /// A task suspended.
    case waits(TaskID, Wait)
    /// A task left its wait queue for ready.
    case woke(Wake)
    /// The loop is about to poll (`timeoutNanos` nil: no limit).
    case pollBegan(PollerKind, timeoutNanos: UInt64?)
    /// The poll returned.
    case pollEnded(PollReport)
    /// A task ended.
    case exited(TaskID, TaskExit)
    /// Work moved through a pool (delivered on the loop thread, stamped when it happened).
    case pool(PoolEvent)
    /// The simulated network did something no socket call shows (a fault took effect).
    case net(NetEvent)
}

/// Work done by a worker pool on behalf of a future.
public struct PoolEvent: Sendable {
    public enum Kind: Sendable, Hashable {
        /// Submitted to the pool by a task.
        case submitted
        /// A worker (numbered from 1 within its pool) picked it up.
        case started(worker: Int)
        /// The worker finished it (`ok` false: it failed).
        case finished(worker: Int, ok: Bool)
    }
    /// The pool's name, e.g. `"thread:4"`.
    public var pool: String
    /// The future that carries the work's result.
    public var future: FutureID
    public var kind: Kind
    /// A short description of the work, e.g. `"fib(42)"`.
    public var label: String
    /// When it happened, on the loop's clock (`sharedClock.now()` on a pool thread).
    public var at: UInt64

    public init(pool: String, future: FutureID, kind: Kind, label: String, at: UInt64) {
        self.pool = pool
        self.future = future
        self.kind = kind
        self.label = label
        self.at = at
    }
}

/// Receives every `LoopEvent`, on the loop thread, in order.
///
/// Observers must not block; they may read the loop (e.g. `snapshot()`), but must not
/// step it.
public protocol LoopObserver: AnyObject {
    func loop(_ loop: EventLoop, observed event: LoopEvent)
}
