// The monitor: a reader of every step's records (Runtime/Loop/LoopRecords.swift) that keeps
// the figures `top` and `stats` show (rates, histograms of step, wait and poll times,
// request latency) and looks for the problems `lints` lists. It reads each step's records
// at the step's end, in one call, and makes text only for a lint's message. Attached to a
// session's loop by the REPL; a loop it does not watch pays nothing.
import Runtime

/// Watches a loop: counters, latency histograms, and lints.
///
/// Use it on the loop thread. `start(on:)` attaches it; `stop()` detaches it.
public final class LoopMonitor: LoopRecordReader {
    /// Thresholds, and which lints are off.
    @exclusivity(unchecked) public var settings = LintSettings()
    /// Called once for each new lint (a kind and a task or future seen for the first time).
    @exclusivity(unchecked) public var onLint: ((Lint) -> Void)?

    /// Every lint found, in the order they were first found.
    public var lints: [Lint] { lintOrder.compactMap { found[$0] } }

    /// Counters since the monitor started (for rates: take two readings).
    @exclusivity(unchecked) public private(set) var counters = Counters()
    /// Histograms since the monitor started (or `resetStats()`).
    @exclusivity(unchecked) public private(set) var stats = LoopStats()

    public struct Counters: Sendable {
        public var steps: UInt64 = 0
        public var polls: UInt64 = 0
        public var wakes: UInt64 = 0
        /// Time tasks ran.
        public var stepNanos: UInt64 = 0
        /// Time poll steps took (most of it blocked in the poll call).
        public var pollNanos: UInt64 = 0

        public init() {}
    }

    private weak var loop: EventLoop?
    @exclusivity(unchecked) private var found: [String: Lint] = [:]
    @exclusivity(unchecked) private var lintOrder: [String] = []
    @exclusivity(unchecked) private var kinds: [TaskID: (name: String, kind: String)] = [:]
    /// What the monitor keeps of each task, indexed by its id (ids are small and dense:
    /// no hashing on the per-step path).
    @exclusivity(unchecked) private var perTask = ContiguousArray<PerTask>()

    struct PerTask {
        /// When its current wait began, and where.
        var waitSince: UInt64 = 0
        var waitLocation: CodeLocation?
        /// Steps in a row that only yielded.
        var yieldRun = 0
        /// A handler's request: when its bytes woke it (0: none in progress).
        var requestStart: UInt64 = 0
        var isHandler = false
    }

    @inline(__always)
    private func slot(_ id: TaskID) -> Int {
        let i = id.rawValue
        if i >= perTask.count { perTask.append(contentsOf: repeatElement(PerTask(), count: i + 1 - perTask.count)) }
        return i
    }
    @exclusivity(unchecked) private var pollStepStart: UInt64 = 0
    /// Recent polls that blocked (start, end), to tell a late wake from a busy loop.
    @exclusivity(unchecked) private var blocked: [(start: UInt64, end: UInt64)] = []
    @exclusivity(unchecked) private var pollBlockStart: UInt64 = 0
    /// In a poll step, before its poll call: what wakes now was already waiting when the
    /// step began (nobody signalled the loop since).
    @exclusivity(unchecked) private var beforePoll = false
    @exclusivity(unchecked) private var runningTask: TaskID?
    @exclusivity(unchecked) private var submitter: [FutureID: TaskID] = [:]
    @exclusivity(unchecked) private var awaiter: [FutureID: TaskID] = [:]
    @exclusivity(unchecked) private var completed: [FutureID: (at: UInt64, label: String)] = [:]
    @exclusivity(unchecked) private var ended: Set<TaskID> = []
    /// The loop thread's wait for a CPU (`CPUWait.swift`), read lazily: at a task step's
    /// start once a millisecond of loop or paused time has passed since the last reading,
    /// and at the end of a step over the slow-step threshold — so a slow step's share of
    /// waiting is the wait over [last reading, its end], at most a millisecond before it
    /// began, for about one system call per millisecond.
    @exclusivity(unchecked) private var cpuWait = CPUWaitClock()
    /// The last reading (nil: none, or not on the real clock), the loop's paused time then,
    /// and the loop time run since.
    @exclusivity(unchecked) private var cpuWaitReading: UInt64?
    @exclusivity(unchecked) private var pausedAtReading: UInt64 = 0
    @exclusivity(unchecked) private var sinceReading: UInt64 = LoopMonitor.readingInterval
    /// How much loop (or paused) time a reading stays good for.
    static let readingInterval: UInt64 = 1_000_000

    public init() {}

    deinit { cpuWait.close() }

    /// Attaches the monitor to `loop` (on its thread).
    public func start(on loop: EventLoop) {
        stop()
        // Ids are the loop's own: nothing carries over from another loop.
        kinds = [:]; perTask = []; blocked = []
        submitter = [:]; awaiter = [:]; completed = [:]; ended = []
        runningTask = nil; beforePoll = false
        cpuWaitReading = nil; sinceReading = Self.readingInterval
        // Counters count this loop's steps, from now (rates are over its clock).
        counters = Counters()
        self.loop = loop
        for t in loop.snapshot().tasks {
            kinds[t.id] = (t.name, t.kind)
            let i = slot(t.id)
            perTask[i].isHandler = t.kind == "handler"
            if case .waiting(let w) = t.state { perTask[i].waitSince = w.since; perTask[i].waitLocation = w.location }
            if t.state.isFinished { ended.insert(t.id) }
        }
        loop.addRecordReader(self)
        readCPUWait(loop)
    }

    /// Detaches it.
    public func stop() {
        loop?.removeRecordReader(self)
        loop = nil
    }

    /// Forgets every lint found so far.
    public func clearLints() {
        found = [:]
        lintOrder = []
    }

    /// Starts the histograms afresh.
    public func resetStats() { stats = LoopStats() }

    /// A task's name and kind as the monitor knows them.
    public func taskLabel(_ id: TaskID) -> String {
        guard let k = kinds[id] else { return "task \(id.rawValue)" }
        return "task \(id.rawValue) (\(k.name))"
    }

    // MARK: Observing

    package func loop(_ loop: EventLoop, read records: UnsafeBufferPointer<LoopRecord>) {
        // The wait the step's task went into (nil: none yet, or it ended).
        var to: StoredWait?
        for i in records.indices {
            switch records[i] {
            case .began(_, let task, let at):
                to = nil
                runningTask = task
                if task == nil {
                    pollStepStart = at
                    beforePoll = true
                }
            case .waits(let id, let wait):
                if id == runningTask { to = wait }
                waited(id, wait)
            case .woke(let id, let from, let cause, let at):
                woke(id, from: loop.publicReason(from, of: id), cause: cause, at: at, loop)
            case .pollBegan(_, let at):
                pollBlockStart = at
                beforePoll = false
            case .pollEnded(let waitedNanos, _):
                noteBlocked(waitedNanos)
            case .ran(let id, let from, let busy, _, _, _):
                beforePoll = false
                ran(id, from: from, to: to, busy: busy, loop)
            case .polled(let end, let woke, let waitedNanos, let note):
                beforePoll = false
                polled(end: end, woke: woke, waitedNanos: waitedNanos, hasNote: note.exists, loop)
            case .event(let e):
                switch loop.event(e) {
                case .spawned(let id, let name, let kind, _):
                    kinds[id] = (name, kind)
                    perTask[slot(id)] = PerTask(isHandler: kind == "handler")
                case .exited(let id, _):
                    exited(id)
                case .pool(let p):
                    pool(p)
                default:
                    break
                }
            }
        }
        // The reading of the loop thread's wait for a CPU that the next step's slow-step
        // check starts from: at most a millisecond of loop (or paused) time old.
        if sinceReading &+ (loop.pausedNanos &- pausedAtReading) >= Self.readingInterval {
            readCPUWait(loop)
        }
    }

    private func waited(_ id: TaskID, _ wait: StoredWait) {
        let i = slot(id)
        perTask[i].waitSince = wait.since
        perTask[i].waitLocation = wait.location
        switch wait.reason {
        case .recv:
            let start = perTask[i].requestStart
            if start != 0 {
                perTask[i].requestStart = 0
                stats.record(request: wait.since &- start, task: id)
            }
        case .future(let f):
            awaiter[f] = id
        default:
            break
        }
    }

    private func woke(_ task: TaskID, from: WaitReason, cause: WakeCause, at now: UInt64, _ loop: EventLoop) {
        counters.wakes &+= 1
        let i = slot(task)
        if perTask[i].waitSince != 0 {
            stats.record(wait: now &- perTask[i].waitSince, kind: from, task: task)
        }
        switch cause {
        case .readable where perTask[i].isHandler, .stillReady(_, writable: false) where perTask[i].isHandler:
            perTask[i].requestStart = now
        case .future(let f):
            // Found at the start of a poll step, not through the wake-up channel: if the
            // loop slept in poll since it completed, the signal was lost.
            // (Pool threads stamp completions on the real clock: not comparable on a virtual one.)
            if beforePoll, loop.isClockReal, let done = completed[f] {
                lateWake(task, since: done.at, now: now, what: "future \(f.rawValue) (\(done.label)) completed")
            }
            completed[f] = nil
            submitter[f] = nil
            awaiter[f] = nil
        case .closed(let fd):
            guard !settings.off.contains(.closedFD) else { break }
            let at = perTask[i].waitLocation.map { $0.line > 0 ? " at \($0)" : "" } ?? ""
            report(.closedFD, key: "\(task.rawValue)", task: task,
                   "\(taskLabel(task)) was waiting on fd \(fd) (\(from.description))\(at) when it was closed under it: cancel the task before closing its fd, or let it close the fd itself")
        default:
            break
        }
    }

    /// A wake `now` of something that was ready at `since`: late if the loop slept in poll
    /// for more than the threshold of that time (a busy loop is not late, only slow).
    private func lateWake(_ task: TaskID, since: UInt64, now: UInt64, what: String) {
        guard !settings.off.contains(.lateWake), now > since, now - since > settings.lateWakeNanos else { return }
        var slept: UInt64 = 0
        for b in blocked where b.end > since { slept += b.end - max(b.start, since) }
        guard slept > settings.lateWakeNanos else { return }
        let where_ = slot(task) < perTask.count ? perTask[task.rawValue].waitLocation.map { $0.line > 0 ? " at \($0)" : "" } ?? "" : ""
        report(.lateWake, key: "\(task.rawValue)", task: task, worst: now - since,
               "\(taskLabel(task)) ran \(Self.ms(now - since)) after \(what)\(where_), while the loop slept in poll for \(Self.ms(slept)) of it: a lost wake-up? whatever completes it must wake the loop (the wake-up channel)")
    }

    private func noteBlocked(_ nanos: UInt64) {
        guard nanos > 0 else { return }
        let end = pollBlockStart &+ nanos
        blocked.append((pollBlockStart, end))
        if blocked.count > 64 { blocked.removeFirst(blocked.count - 64) }
        stats.record(poll: nanos)
    }

    private func ran(_ task: TaskID, from: StoredWait?, to: StoredWait?, busy: UInt64, _ loop: EventLoop) {
        counters.steps &+= 1
        runningTask = nil
        counters.stepNanos &+= busy
        sinceReading &+= busy
        stats.record(step: busy, task: task)
        let yielded: Bool
        if case .yield? = to?.reason { yielded = true } else { yielded = false }  // (no call to ==)
        // Where the step ran: from where it resumed to where it suspended again (text
        // made only for a lint's message: formatting costs more than a step).
        func location() -> String {
            let from = from.flatMap { $0.location.line > 0 ? "\($0.location)" : nil }
            let to = to.flatMap { $0.location.line > 0 ? "\($0.location)" : nil }
            switch (from, to) {
            case let (f?, t?) where f != t: return " between \(f) and \(t)"
            case let (_, t?): return " at \(t)"
            case let (f?, nil): return " after \(f)"
            default: return ""
            }
        }
        if busy > settings.slowStepNanos { slowStep(task, busy: busy, loop, location) }
        let i = slot(task)
        if yielded {
            perTask[i].yieldRun += 1
            let run = perTask[i].yieldRun
            // Reported at the threshold and at each multiple of it (not every step after).
            if run % settings.neverYieldsSteps == 0 && !settings.off.contains(.neverYields) {
                report(.neverYields, key: "\(task.rawValue)", task: task, worst: UInt64(run),
                       "\(taskLabel(task)) ran \(run) steps in a row without waiting on anything\(location()): it spins; let it wait on what it needs (a socket, a future, a sleep)")
            }
        } else {
            perTask[i].yieldRun = 0
        }
    }

    private func polled(end: UInt64, woke: Bool, waitedNanos: UInt64, hasNote: Bool, _ loop: EventLoop) {
        counters.steps &+= 1
        runningTask = nil
        // An idle poll reports no pollEnded: its blocked time comes here.
        if !woke { noteBlocked(waitedNanos) }
        counters.polls &+= 1
        let took = end &- pollStepStart
        counters.pollNanos &+= took
        sinceReading &+= took
        if !woke && !hasNote { checkDeadlock(loop) }
    }

    /// Takes a reading of the loop thread's wait for a CPU (none on the virtual clock,
    /// whose step times are modelled).
    private func readCPUWait(_ loop: EventLoop) {
        sinceReading = 0
        pausedAtReading = loop.pausedNanos
        cpuWaitReading = loop.isClockReal ? cpuWait.read() : nil
    }

    /// A step longer than the slow-step threshold: a blocked loop, for the time the task
    /// computed or blocked (wall-clock time: a blocking call holds the loop as much as a
    /// computation does, as example 03's wait on a future), unless the loop thread waited
    /// for a CPU for so much of it that what is left is under the threshold — then the
    /// machine was busy, and no task is blamed.
    private func slowStep(_ task: TaskID, busy: UInt64, _ loop: EventLoop, _ location: () -> String) {
        guard !settings.off.contains(.blockedLoop) || !settings.off.contains(.descheduled) else { return }
        var waited: UInt64 = 0
        if let before = cpuWaitReading {
            readCPUWait(loop)
            if let after = cpuWaitReading, after >= before { waited = min(after - before, busy) }
        }
        let held = busy - waited
        if held > settings.slowStepNanos {
            guard !settings.off.contains(.blockedLoop) else { return }
            // (Said when it is a tenth of the step or more.)
            let cpu = waited >= max(1_000_000, busy / 10) ? " (a \(Self.ms(busy)) step: the loop thread also waited \(Self.ms(waited)) for a CPU)" : ""
            report(.blockedLoop, key: "\(task.rawValue)", task: task, worst: held,
                   "\(taskLabel(task)) held the loop for \(Self.ms(held))\(location())\(cpu): run it in a pool and yield on the future")
        } else {
            guard !settings.off.contains(.descheduled) else { return }
            report(.descheduled, key: "loop", task: nil, worst: waited,
                   "the loop thread was not running for \(Self.ms(waited)) of a \(Self.ms(busy)) step of \(taskLabel(task))\(location()): the machine is busy (the thread was ready, waiting for a CPU); the task itself took \(Self.ms(held)), under the slow-step threshold")
        }
    }

    private func exited(_ id: TaskID) {
        ended.insert(id)
        perTask[slot(id)] = PerTask()
    }

    private func pool(_ p: PoolEvent) {
        switch p.kind {
        case .submitted:
            if let t = runningTask { submitter[p.future] = t }
            // Keep the tables bounded: futures nobody ever awaited nor finished pile up.
            if submitter.count > 100_000 { submitter.removeAll() }
        case .started:
            break
        case .finished:
            if completed.count > 100_000 { completed.removeAll() }
            completed[p.future] = (p.at, p.label)
            if let waiter = awaiter[p.future], ended.contains(waiter) {
                orphan(p.future, label: p.label, awaitedBy: waiter)
            } else if awaiter[p.future] == nil, let s = submitter[p.future], ended.contains(s) {
                orphan(p.future, label: p.label, submittedBy: s)
            }
        }
    }

    private func orphan(_ f: FutureID, label: String, submittedBy: TaskID? = nil, awaitedBy: TaskID? = nil) {
        guard !settings.off.contains(.orphanFuture) else { return }
        completed[f] = nil
        let who = awaitedBy.map { "\(taskLabel($0)), which awaited it, had ended" }
            ?? submittedBy.map { "\(taskLabel($0)) submitted it and ended without awaiting it" } ?? "nobody awaits it"
        report(.orphanFuture, key: "\((awaitedBy ?? submittedBy)?.rawValue ?? 0)", task: awaitedBy ?? submittedBy,
               "future \(f.rawValue) (\(label)) completed, but \(who): its work was wasted; cancel work with the task that wanted it")
    }

    private func checkDeadlock(_ loop: EventLoop) {
        guard !settings.off.contains(.deadlock) else { return }
        let snap = loop.snapshot()
        let live = snap.tasks.filter { !$0.state.isFinished }
        guard !live.isEmpty, snap.ready.isEmpty, snap.recvWait.isEmpty, snap.sendWait.isEmpty,
              snap.timers.isEmpty, snap.external.isEmpty, snap.parked.isEmpty, snap.pendingFutures == 0 else { return }
        // Everyone waits on a join or a future nothing will complete.
        var why: [String] = []
        let joins = Dictionary(snap.joins.map { ($0.task, $0.target) }, uniquingKeysWith: { a, _ in a })
        var inCycle = Set<TaskID>()
        for start in joins.keys.sorted(by: { $0.rawValue < $1.rawValue }) where !inCycle.contains(start) {
            var path: [TaskID] = [start]
            var next = joins[start]
            while let n = next, !path.contains(n) { path.append(n); next = joins[n] }
            if let n = next, let i = path.firstIndex(of: n) {
                let cycle = Array(path[i...])
                if cycle.contains(where: inCycle.contains) { continue }
                inCycle.formUnion(cycle)
                why.append("a cycle: " + (cycle + [cycle[0]]).map { "task \($0.rawValue)" }.joined(separator: " joins "))
            }
        }
        for f in snap.futureWait where !inCycle.contains(f.task) {
            why.append("task \(f.task.rawValue) waits on future \(f.future.rawValue), which nothing will complete")
        }
        let key = live.map { String($0.id.rawValue) }.joined(separator: ",")
        report(.deadlock, key: key, task: nil,
               "every task waits and nothing can wake any of them (\(live.count) \(live.count == 1 ? "task" : "tasks"))"
                + (why.isEmpty ? "" : ": " + why.joined(separator: "; ")))
    }

    private func report(_ kind: LintKind, key: String, task: TaskID?, worst: UInt64 = 0, _ message: @autoclosure () -> String) {
        let full = "\(kind.rawValue)/\(key)"
        if var lint = found[full] {
            lint.count += 1
            if worst > lint.worst {
                lint.worst = worst
                lint.message = message()
            }
            found[full] = lint
            return
        }
        let lint = Lint(kind: kind, task: task, message: message(), step: loop?.stepCount ?? 0, count: 1, worst: worst)
        found[full] = lint
        lintOrder.append(full)
        onLint?(lint)
    }

    /// `412 ms`, `1.2 s`, `0.35 ms`.
    static func ms(_ nanos: UInt64) -> String {
        let ms = Double(nanos) / 1e6
        if ms >= 1000 { return "\((ms / 100).rounded() / 10) s" }
        if ms >= 10 { return "\(Int(ms.rounded())) ms" }
        return "\((ms * 100).rounded() / 100) ms"
    }
}
