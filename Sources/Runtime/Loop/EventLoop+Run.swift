// Free running: steps repeated until a limit, a breakpoint (`stopWhen`), a stop request
// from any thread, or until no task is left.
import Glibc

extension EventLoop {

    /// When a free run stops.
    public enum RunLimit: Sendable {
        /// The ready queue is empty and no timer or pool work is pending (tasks may still
        /// wait on sockets).
        case idle
        /// A deadline on the loop's clock (`now()` based).
        case deadline(UInt64)
        /// The task has ended.
        case taskDone(TaskID)
        /// Until no task is left (or a stop request, or `stopWhen`).
        case noTasks
        /// At most this many steps.
        case steps(Int)
    }

    /// Why a free run stopped.
    public enum RunOutcome: Sendable {
        case idle
        case deadline
        case taskDone(TaskID)
        case noTasksLeft
        case stopRequested
        /// `stopWhen` matched this step (a breakpoint).
        case matched(StepEvent)
        case stepLimit
    }

    /// Free-runs the loop until `limit`, a stop request (`requestStop()`, any thread),
    /// `stopWhen` returning true for a step, or until no task is left.
    ///
    /// - Parameters:
    ///   - pollTimeout: the longest a single poll blocks (runs check their limits and
    ///     stop requests between polls).
    ///   - onStep: called with every step (after `stopWhen` saw it).
    @discardableResult
    public func run(
        until limit: RunLimit = .noTasks,
        pollTimeout: Duration? = nil,
        stopWhen: ((StepEvent) -> Bool)? = nil,
        onStep: ((StepEvent) -> Void)? = nil
    ) -> RunOutcome {
        assertOnLoopThread()
        if clockPausesBetweenRuns { resumeClock() }
        defer {
            releaseGIL()
            if clockPausesBetweenRuns { pauseClock() }
        }
        let timeout = (pollTimeout ?? defaultPollTimeout).clampedNanoseconds
        let report = stopWhen != nil || onStep != nil
        var stepsLeft = Int.max
        if case .steps(let n) = limit { stepsLeft = n }
        var clock = now()
        while true {
            if stopFlag.load(ordering: .relaxed), stopFlag.exchange(false, ordering: .relaxed) { return .stopRequested }
            switch limit {
            case .idle:
                if isIdle { return .idle }
            case .deadline(let d):
                if clock >= d { return .deadline }
            case .taskDone(let id):
                if table[id]?.isFinished ?? true { return .taskDone(id) }
            case .steps:
                if stepsLeft == 0 { return .stepLimit }
                stepsLeft -= 1
            case .noTasks:
                break
            }
            if table.liveCount == 0 && ready.isEmpty && pendingFutures == 0 { return .noTasksLeft }
            let event: StepEvent?
            if driverHistory { driver.unsafelyUnwrapped.beforeStep(self) }
            if let entry = popReady() {
                clock = runTask(entry, startedAt: clock, report: report)
                if driverHistory { driver.unsafelyUnwrapped.afterStep(self, popped: entry, at: clock) }
                event = report ? takeLastEvent() : nil
            } else {
                var t = timeout
                var deadline: UInt64?
                if case .deadline(let d) = limit { deadline = d }
                if driverClock, let horizon = driver.unsafelyUnwrapped.idleHorizon(self, from: clock, deadline: deadline) {
                    // A driver's modelled clock may jump (to the next thing that can
                    // happen, or the end of the run).
                    t = horizon
                } else if let d = deadline {
                    t = min(t, d > clock ? d - clock : 0)
                }
                event = pollStep(timeoutNanos: t, report: report)
                clock = now()
                if driverHistory { driver.unsafelyUnwrapped.afterStep(self, popped: nil, at: clock) }
            }
            guard let event else { continue }
            if let stopWhen, stopWhen(event) {
                onStep?(event)
                return .matched(event)
            }
            onStep?(event)
        }
    }

    /// A poll timeout meaning none: the poll blocks until a socket, a timer, another
    /// thread or a stop request wakes it, and the kernel arms no timer for it. For runs
    /// whose only limit is a stop request or `.noTasks`.
    public static let noPollLimit = Duration(secondsComponent: Int64.max, attosecondsComponent: 0)

    /// True when the ready queue is empty and no timer, pool work or simulated network
    /// segment is pending.
    public var isIdle: Bool {
        ready.isEmpty && queues.nextTimerDeadline() == nil && pendingFutures == 0 && inbox.withLock { $0.isEmpty }
            && !(wakeSource?.hasWork(self) ?? false)
    }

    /// Asks a running `run` to return after its current step. Callable from any thread;
    /// a blocking poll is interrupted.
    public func requestStop() {
        stopFlag.store(true, ordering: .relaxed)
        wakeChannel.signal()
    }

    /// Forgets a stop request that no run has consumed (any thread).
    public func clearStopRequest() {
        stopFlag.store(false, ordering: .relaxed)
    }

    /// The task the loop is running right now and for how many nanoseconds, if a step is
    /// running one (any thread; for saying who holds the loop during a long step).
    public var busyTask: (task: TaskID, nanos: UInt64)? {
        let id = probeTask.load(ordering: .relaxed)
        guard id != 0 else { return nil }
        return (TaskID(id), monotonicNanos() &- probeSince.load(ordering: .relaxed))
    }

    /// Wakes a blocking poll without a stop request (any thread).
    public func wakeUp() {
        wakeChannel.signal()
    }
}
