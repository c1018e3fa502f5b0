// What one step did, as a value: the REPL prints it, breakpoints match it, tests assert
// on it. One step is either one task run to its next suspension, or one poll.

/// The result of one scheduler iteration (`EventLoop.step`).
public struct StepEvent: Sendable {
    /// The loop's step counter after this step (1 for the first step).
    public var number: UInt64
    public var kind: Kind

    public enum Kind: Sendable {
        /// The head of the ready queue ran until its next suspension.
        case ran(TaskStep)
        /// Nothing was ready: the loop polled and moved woken tasks to ready.
        case polled(PollReport)
        /// Nothing was ready and nothing woke within the timeout (or nothing is left).
        case idle(IdleReport)
    }

    /// The task step, if this step ran a task.
    public var taskStep: TaskStep? {
        if case .ran(let s) = kind { return s }
        return nil
    }

    /// The poll report, if this step polled and woke something.
    public var pollReport: PollReport? {
        if case .polled(let p) = kind { return p }
        return nil
    }

    /// Whether the loop had nothing to do.
    public var isIdle: Bool {
        if case .idle = kind { return true }
        return false
    }
}

/// One task run from a resumption to its next suspension.
public struct TaskStep: Sendable {
    public var task: TaskID
    /// The wait it resumed from; nil when the step started the task.
    public var resumedFrom: Wait?
    /// The error it was resumed with (cancellation, a closed fd), if any.
    public var resumedWithError: String?
    /// What it does now.
    public var outcome: Outcome
    /// Time the task ran in this step, in nanoseconds.
    public var busyNanos: UInt64
    /// Tasks it spawned during the step.
    public var spawned: [TaskID]
    /// Set when it went into recv_wait or send_wait on a socket the loop knew ready (the
    /// readiness cache): it went straight back to ready, with no poll, for this reason.
    public var readyAgain: WakeCause? = nil

    /// Where a task stands at the end of its step.
    public enum Outcome: Sendable {
        /// Suspended again, waiting as described.
        case waits(Wait)
        /// Ended.
        case exited(TaskExit)
    }
}

/// What a poll woke.
public struct PollReport: Sendable {
    /// The backend that polled.
    public var backend: PollerKind
    /// How long the poll call blocked, in nanoseconds.
    public var waitedNanos: UInt64
    /// Each task moved to ready, with its cause, in the order they were queued.
    public var wakes: [Wake]
    /// How many wake-ups arrived through the wake-up channel (other threads).
    public var wakeChannelSignals: Int
}

/// One task moved from a wait queue to ready.
public struct Wake: Sendable {
    public var task: TaskID
    /// The wait it left.
    public var from: WaitReason
    public var cause: WakeCause
}

/// Why a waiting task became ready.
public enum WakeCause: Sendable, Hashable, CustomStringConvertible {
    /// The poller reported the fd readable.
    case readable(fd: Int32)
    /// The poller reported the fd writable.
    case writable(fd: Int32)
    /// Its sleep deadline passed.
    case timer
    /// The future it waited on completed (through the wake-up channel when another thread
    /// completed it).
    case future(FutureID)
    /// A task it joined finished.
    case joined(TaskID)
    /// A continuation of the task was resumed by another thread.
    case foreignResume
    /// It was cancelled out of its wait.
    case cancelled
    /// `unpark` moved it out of a host's wait queue.
    case unparked
    /// The fd it waited on was closed.
    case closed(fd: Int32)
    /// It waited on a socket the loop already knew ready (its readiness cache, under
    /// epoll: no call since the last poll found it otherwise), so no poll was needed.
    case stillReady(fd: Int32, writable: Bool)

    public var description: String {
        switch self {
        case .readable(let fd): return "fd \(fd) readable"
        case .writable(let fd): return "fd \(fd) writable"
        case .timer: return "timer"
        case .future(let id): return "future \(id.rawValue) done"
        case .joined(let id): return "task \(id.rawValue) finished"
        case .foreignResume: return "resumed from another thread"
        case .cancelled: return "cancelled"
        case .unparked: return "unparked"
        case .closed(let fd): return "fd \(fd) closed"
        case .stillReady(let fd, let writable):
            return "fd \(fd) still \(writable ? "writable" : "readable") (no poll needed)"
        }
    }
}

/// A step that found nothing to do.
public struct IdleReport: Sendable {
    /// How long the poll waited before giving up, in nanoseconds (0 if it did not poll).
    public var waitedNanos: UInt64
    /// Why it did not poll, if it did not (e.g. no task is left).
    public var note: String?
}
