// The seed's wait queues — `recv_wait`, `send_wait`, `future_wait` — and the runtime's
// others (timers, joins, the host's parked tasks). A waiting task is in exactly one of
// them, and its record's stored wait says which: that is how it is taken out again
// (curio's `cancel_func`), by `remove`, whoever takes it out — a poll, a timer, a
// completion, a cancel or a close.
import DequeModule
import HeapModule

/// A pending `sleep`, ordered by deadline, then by arrival.
struct TimerEntry: Comparable {
    let deadline: UInt64
    let sequence: UInt64
    let record: TaskRecord

    static func < (a: TimerEntry, b: TimerEntry) -> Bool {
        (a.deadline, a.sequence) < (b.deadline, b.sequence)
    }
    static func == (a: TimerEntry, b: TimerEntry) -> Bool { a.sequence == b.sequence }

    /// False once the task left this sleep early (cancelled): the entry is then skipped.
    var isLive: Bool {
        if record.phase == .waiting, case .sleep? = record.stored?.reason {
            return record.timerSequence == sequence
        }
        return false
    }
}

/// Every wait queue of a loop (loop thread only).
struct WaitQueues {
    var recv: [Int32: TaskRecord] = [:]
    var send: [Int32: TaskRecord] = [:]
    var future: [FutureID: TaskRecord] = [:]
    /// Tasks waiting for another to finish, by the task they wait for, in arrival order.
    var join: [TaskID: [TaskRecord]] = [:]
    /// Tasks parked in the host's own wait queues.
    var parked: [TaskID: TaskRecord] = [:]
    var timers = Heap<TimerEntry>()
    var timerSequence: UInt64 = 0
    /// fds whose interest changed since the poller was last told.
    var dirtyFDs: [Int32] = []

    /// Puts `record` in the queue `reason` names. `.yield` (the ready queue) and
    /// `.external` (no queue of the runtime's) are not queues of this type.
    ///
    /// - Throws: `LoopError.fdAlreadyAwaited` / `.futureAlreadyAwaited` when another task
    ///   holds the place.
    mutating func insert(_ record: TaskRecord, for reason: StoredWait.Reason) throws(LoopError) {
        switch reason {
        case .recv(let fd):
            if let other = recv[fd] { throw .fdAlreadyAwaited(fd: fd, direction: .recv, by: other.id) }
            recv[fd] = record
            dirtyFDs.append(fd)
        case .send(let fd):
            if let other = send[fd] { throw .fdAlreadyAwaited(fd: fd, direction: .send, by: other.id) }
            send[fd] = record
            dirtyFDs.append(fd)
        case .future(let id):
            if let other = future[id] { throw .futureAlreadyAwaited(id, by: other.id) }
            future[id] = record
        case .sleep(let deadline):
            timerSequence += 1
            record.timerSequence = timerSequence
            timers.insert(TimerEntry(deadline: deadline, sequence: timerSequence, record: record))
        case .join(let target):
            join[target, default: []].append(record)
        case .custom:
            parked[record.id] = record
        case .yield, .external:
            preconditionFailure("\(reason) is not a wait queue")
        }
    }

    /// Takes a waiting task out of the queue its wait names.
    ///
    /// - Returns: false if it is not there (it waits outside the runtime, or already left).
    mutating func remove(_ record: TaskRecord) -> Bool {
        guard let reason = record.stored?.reason else { return false }
        switch reason {
        case .recv(let fd):
            guard recv[fd] === record else { return false }
            recv[fd] = nil
            dirtyFDs.append(fd)
        case .send(let fd):
            guard send[fd] === record else { return false }
            send[fd] = nil
            dirtyFDs.append(fd)
        case .future(let id):
            guard future[id] === record else { return false }
            future[id] = nil
        case .sleep:
            // The heap entry stays, dead: `isLive` no longer matches it.
            record.timerSequence &+= 1
        case .join(let target):
            guard let i = join[target]?.firstIndex(where: { $0 === record }) else { return false }
            join[target]!.remove(at: i)
            if join[target]!.isEmpty { join[target] = nil }
        case .custom:
            guard parked.removeValue(forKey: record.id) != nil else { return false }
        case .yield, .external:
            return false
        }
        return true
    }

    /// The first sleeper whose deadline is at or before `now`, taken off the heap.
    mutating func popExpiredTimer(now: UInt64) -> TaskRecord? {
        while let top = timers.min {
            if !top.isLive {
                _ = timers.removeMin()
                continue
            }
            guard top.deadline <= now else { return nil }
            _ = timers.removeMin()
            return top.record
        }
        return nil
    }

    /// The earliest live timer deadline.
    mutating func nextTimerDeadline() -> UInt64? {
        while let top = timers.min, !top.isLive { _ = timers.removeMin() }
        return timers.min?.deadline
    }

    /// The live sleepers, earliest first.
    var liveTimers: [TimerEntry] { timers.unordered.filter(\.isLive).sorted() }
}
