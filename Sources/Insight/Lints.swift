// What the monitor tells a user is wrong, each with a one-line hint that names the task and
// the source location: the seed's bugs (a blocking call, a lost wake-up) are invisible in a
// snapshot, but not to an observer of every step.
import Runtime

/// The kinds of problem the monitor looks for.
public enum LintKind: String, CaseIterable, Sendable, Hashable {
    /// A step held the loop longer than the slow-step threshold: the task computed or
    /// blocked that long (time the loop thread waited for a CPU is not counted).
    case blockedLoop = "blocked-loop"
    /// A step took longer than the slow-step threshold only because the loop thread was
    /// not running: it was ready but waited for a CPU (the machine is busy). No task's
    /// doing, so it names none to blame.
    case descheduled
    /// Something a task waited for happened, and the loop ran it much later than it could
    /// have (e.g. it slept in poll while a completed future waited).
    case lateWake = "late-wake"
    /// A task was waiting on an fd that was closed under it.
    case closedFD = "closed-fd"
    /// A future completed that no task awaits (or whose awaiting task had ended).
    case orphanFuture = "orphan-future"
    /// A task ran many steps in a row without ever waiting on anything.
    case neverYields = "never-yields"
    /// Every task waits and nothing can wake any of them.
    case deadlock

    /// What it means, for `help lint` and `lints`.
    public var summary: String {
        switch self {
        case .blockedLoop: return "a step held the loop longer than the slow-step threshold"
        case .descheduled: return "a step was slow because the loop thread waited for a CPU (the machine is busy)"
        case .lateWake: return "a task ran much later than the loop could have run it (e.g. a lost wake-up)"
        case .closedFD: return "a task waited on an fd that was closed under it"
        case .orphanFuture: return "a future completed that no task awaits"
        case .neverYields: return "a task ran many steps in a row without waiting on anything"
        case .deadlock: return "every task waits and nothing can wake any of them"
        }
    }
}

/// One problem found: its first occurrence, how often it happened, and the worst case.
public struct Lint: Sendable {
    public var kind: LintKind
    /// The task it is about, if one.
    public var task: TaskID?
    /// One line: what happened, where, and what to do (`task 3 (handler …) held the loop
    /// for 412 ms at FibServer.swift:118: run it in a pool and yield on the future`).
    public var message: String
    /// The step it was found at (first time).
    public var step: UInt64
    /// How many times it happened.
    public var count: Int = 1
    /// The worst measure seen (nanoseconds for blocked-loop and late-wake, steps for
    /// never-yields), for ordering and the message.
    public var worst: UInt64 = 0

    /// `[blocked-loop] task 3 …` (and `×12` when it happened more than once).
    public var line: String {
        "[\(kind.rawValue)] \(message)\(count > 1 ? " (×\(count))" : "")"
    }
}

/// The monitor's thresholds, and which lints are on.
public struct LintSettings: Sendable {
    /// A step that holds the loop longer than this is a blocked loop (default 50 ms); one
    /// that takes longer only because the loop thread waited for a CPU is `descheduled`.
    public var slowStepNanos: UInt64 = 50_000_000
    /// A wake later than this, while the loop slept in poll, is a late wake (default 20 ms).
    public var lateWakeNanos: UInt64 = 20_000_000
    /// This many steps in a row without waiting is a task that never yields (default 10,000).
    public var neverYieldsSteps: Int = 10_000
    /// The lints that are off.
    public var off: Set<LintKind> = []

    public init() {}
}
