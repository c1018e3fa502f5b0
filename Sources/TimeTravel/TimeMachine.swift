// Time travel's driver (the seam is Loop/Seams.swift): one object per loop, plugged in the
// first time any of it is used, holding what the loop does not know of — the virtual
// clock, the input recording, the history, the scheduling policy, the simulated network —
// and answering the loop's calls for each while the loop's flag for it is set.
import Runtime
import Glibc

/// Time travel's state of one loop, and its answers to the loop's driver calls.
final class TimeMachine: LoopDriver {
    // The virtual clock (VirtualClock.swift).
    @exclusivity(unchecked) var clockIsVirtual = false
    @exclusivity(unchecked) var virtualNow: UInt64 = 0
    @exclusivity(unchecked) var virtualSkipped: UInt64 = 0
    @exclusivity(unchecked) var virtualStepNanos: UInt64 = 10_000
    /// Pool work not finished yet (future → due), work finished before its due time,
    /// whether `deliverHeld` is delivering, when each future's completion is due, and the
    /// worker and start the pool's model gave work submitted on the virtual clock.
    @exclusivity(unchecked) var virtualUnarrived: [FutureID: UInt64] = [:]
    @exclusivity(unchecked) var virtualHeld: [AnyLoopFuture] = []
    @exclusivity(unchecked) var deliveringHeld = false
    @exclusivity(unchecked) var dues: [FutureID: UInt64] = [:]
    @exclusivity(unchecked) var modelledWork: [FutureID: (pool: String, worker: Int, start: UInt64)] = [:]
    // The input recording (InputRecording.swift), and whether `now()` goes through it.
    @exclusivity(unchecked) var inputRecording: InputRecording?
    @exclusivity(unchecked) var clockFromInputs = false
    // The history (History.swift).
    @exclusivity(unchecked) var history: LoopHistory?
    // The scheduling policy (Policy.swift).
    @exclusivity(unchecked) var schedulingPolicy = SchedulingPolicy.fifo
    @exclusivity(unchecked) var policyRandom = SplitMix64(state: 0)
    /// Whether new sockets join the simulated network (the loop's wake source).
    @exclusivity(unchecked) var simActive = false

    var isReplaying: Bool { clockFromInputs && inputRecording?.mode == .replaying }
    var isRecordingInputs: Bool { clockFromInputs && inputRecording?.mode == .recording }

    /// Sets the loop's flags from this state: each group of driver calls is made only
    /// while time travel has taken that part over.
    func setFlags(of loop: EventLoop) {
        loop.driverClock = clockIsVirtual || clockFromInputs
        loop.driverInputs = inputRecording != nil && clockFromInputs
        loop.driverHistory = history != nil
        loop.driverPicks = schedulingPolicy != .fifo
        // Once the clock was virtual or a replay began, futures may carry a due time or
        // be answered by the recording for as long as the loop lives.
        loop.driverFutures = loop.driverFutures || clockIsVirtual || isReplaying
    }

    // MARK: The clock

    func now(_ loop: EventLoop) -> UInt64 {
        if clockIsVirtual { return virtualNow }
        if loop.clockPaused { return loop.pausedNow }
        if clockFromInputs { return loop.inputClockNow() }
        return monotonicNanos() &+ loop.clockOffset
    }

    func stepEnd(_ loop: EventLoop, start: UInt64) -> UInt64 {
        guard clockIsVirtual else {
            // (A replay's steps take no time: its clock is the recording's, until it ends.)
            if isReplaying, !inputRecording.unsafelyUnwrapped.ended { return start }
            return monotonicNanos() &+ loop.clockOffset
        }
        virtualNow = max(virtualNow, start &+ virtualStepNanos)
        return virtualNow
    }

    func pauseReading(_ loop: EventLoop) -> UInt64 {
        // Under a virtual clock the real one keeps running beneath it.
        clockIsVirtual ? monotonicNanos() &+ loop.clockOffset : now(loop)
    }

    var clockIsModelled: Bool { clockIsVirtual }

    func idlePoll(_ loop: EventLoop, horizon: UInt64, signals: inout Int) -> (failure: String?, waited: UInt64)? {
        guard clockIsVirtual else { return nil }
        return loop.pollVirtually(horizon: horizon, signals: &signals)
    }

    func idleHorizon(_ loop: EventLoop, from clock: UInt64, deadline: UInt64?) -> UInt64? {
        guard clockIsVirtual else { return nil }
        // An idle poll on the virtual clock jumps as far as the next thing that can
        // happen: a sleeper's deadline, or the end of the run.
        var horizon = loop.nextVirtualEvent().map { $0 > clock ? $0 - clock : 0 }
        if let d = deadline {
            let left = d > clock ? d - clock : 0
            horizon = min(horizon ?? left, left)
        }
        return horizon
    }

    // MARK: Sockets

    func socketBackend(_ loop: EventLoop, simulatable: Bool) -> any SocketBackend {
        loop.timeTravelSocketBackend(simulatable: simulatable)
    }

    func socketPair(_ loop: EventLoop) throws(SystemCallError) -> (Int32, Int32) {
        try loop.inputSocketPair()
    }

    // MARK: Outside inputs

    func poll(_ loop: EventLoop, timeoutNanos: UInt64?, into events: inout [PollEvent]) throws(SystemCallError) {
        if isReplaying {
            events = try loop.replayPoll(timeoutNanos: timeoutNanos)
        } else {
            try loop.poller.poll(timeoutNanos: timeoutNanos, into: &events)
        }
        if isRecordingInputs { loop.recordPoll(events, failure: nil) }
    }

    func pollFailed(_ loop: EventLoop, _ failure: String) {
        if isRecordingInputs { loop.recordPoll([], failure: failure) }
    }

    func polledWakeFD(_ loop: EventLoop) -> Int32 { isReplaying ? -1 : loop.wakeChannel.fd }

    func usesKernelFDs(_ loop: EventLoop) -> Bool { !isReplaying }

    func drainsInbox(_ loop: EventLoop, afterWake: Bool) -> Bool {
        guard isReplaying else { return false }
        loop.replayDrainInbox(afterWake: afterWake)
        return true
    }

    func took(_ loop: EventLoop, _ items: [EventLoop.InboxItem], afterWake: Bool) {
        loop.recordTaken(items, afterWake: afterWake)
    }

    func answersOutsideWork(_ loop: EventLoop) -> Bool { isReplaying }

    // MARK: Futures

    func futureMade(_ loop: EventLoop, _ future: AnyLoopFuture, due: UInt64?, outside: Bool) {
        if clockIsVirtual && future.countsAsPending {
            let due = due ?? loop.now()
            dues[future.id] = due
            virtualUnarrived[future.id] = due
        }
        if outside && isReplaying { inputRecording!.outside[future.id] = future }
    }

    func holds(_ loop: EventLoop, _ future: AnyLoopFuture) -> Bool {
        guard dues[future.id] != nil else { return false }
        virtualUnarrived[future.id] = nil
        // On the virtual clock a completion waits for its time, and for every piece of
        // work due before it (the poll step delivers it, in order).
        guard loop.isOnLoopThread && clockIsVirtual && !deliveringHeld else { return false }
        virtualHeld.append(future)
        return true
    }

    func delivering(_ loop: EventLoop, _ future: AnyLoopFuture) {
        let dueAt = dues.removeValue(forKey: future.id)
        guard let work = modelledWork.removeValue(forKey: future.id), loop.watched else { return }
        // The pool's model, not its threads, says when the work started and finished.
        let worker = work.worker, due = dueAt ?? loop.now()
        loop.emit(.pool(PoolEvent(pool: work.pool, future: future.id, kind: .started(worker: worker),
                                    label: future.label, at: work.start)))
        loop.emit(.pool(PoolEvent(pool: work.pool, future: future.id, kind: .finished(worker: worker, ok: !future.failed),
                                    label: future.label, at: max(work.start, min(due, loop.now())))))
    }

    // MARK: History

    // (Called only while `driverHistory` is set: while there is a history.)
    func beforeStep(_ loop: EventLoop) { loop.historyBeforeStep(history.unsafelyUnwrapped) }
    func afterStep(_ loop: EventLoop, popped: EventLoop.ReadyEntry?, at end: UInt64) {
        loop.captureHistory(history.unsafelyUnwrapped, popped: popped, at: end)
    }
    func touched(_ loop: EventLoop, _ record: TaskRecord) { loop.historyTouched(history.unsafelyUnwrapped, record) }
    func stamped(_ loop: EventLoop, _ record: TaskRecord) { loop.historyStamped(history.unsafelyUnwrapped, record) }
    func archiving(_ loop: EventLoop, _ record: TaskRecord, leaving: Bool) {
        loop.historyArchiveFigures(history.unsafelyUnwrapped, of: record, leaving: leaving)
    }

    // MARK: Scheduling

    func pick(_ loop: EventLoop) -> EventLoop.ReadyEntry? { loop.popByPolicy() }
}

extension EventLoop {
    /// The loop's time machine, plugged in as its driver on first use.
    var machine: TimeMachine {
        if let driver { return unsafeDowncast(driver, to: TimeMachine.self) }
        let m = TimeMachine()
        driver = m
        return m
    }

    /// The loop's time machine, if time travel was ever used on it.
    @inline(__always)
    var timeMachine: TimeMachine? { driver.map { unsafeDowncast($0, to: TimeMachine.self) } }

    /// Sets the loop's driver flags after a change of the time machine's modes.
    func timeTravelChanged() { machine.setFlags(of: self) }

    // What time travel keeps, by the names its code uses.
    var clockIsVirtual: Bool {
        get { timeMachine?.clockIsVirtual ?? false }
        set { machine.clockIsVirtual = newValue; timeTravelChanged() }
    }
    var clockFromInputs: Bool {
        get { timeMachine?.clockFromInputs ?? false }
        set { machine.clockFromInputs = newValue; timeTravelChanged() }
    }
    var inputRecording: InputRecording? {
        get { timeMachine?.inputRecording }
        set { machine.inputRecording = newValue; timeTravelChanged() }
    }
    var history: LoopHistory? {
        get { timeMachine?.history }
        set { machine.history = newValue; timeTravelChanged() }
    }
    var schedulingPolicy: SchedulingPolicy {
        get { timeMachine?.schedulingPolicy ?? .fifo }
        set { machine.schedulingPolicy = newValue; timeTravelChanged() }
    }
    var virtualNow: UInt64 {
        get { machine.virtualNow }
        set { machine.virtualNow = newValue }
    }
    var virtualHeld: [AnyLoopFuture] {
        get { machine.virtualHeld }
        _modify { let m = machine; yield &m.virtualHeld }
    }
    var virtualUnarrived: [FutureID: UInt64] {
        get { machine.virtualUnarrived }
        _modify { let m = machine; yield &m.virtualUnarrived }
    }
    /// The simulated network, once `net sim` was used: the loop's wake source.
    var sim: SimNetwork? {
        get { wakeSource.map { unsafeDowncast($0, to: SimNetwork.self) } }
        set { wakeSource = newValue }
    }
    var simActive: Bool {
        get { timeMachine?.simActive ?? false }
        set { machine.simActive = newValue }
    }
    var isReplaying: Bool { timeMachine?.isReplaying ?? false }
    var isRecordingInputs: Bool { timeMachine?.isRecordingInputs ?? false }
}

extension TaskRecord {
    /// The part of the history's rows of this task that never changes.
    var historyIdentity: TaskIdentity? {
        get { driverNote.map { unsafeDowncast($0, to: TaskIdentity.self) } }
        set { driverNote = newValue }
    }
}
