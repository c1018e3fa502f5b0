// The seed's wait queues — `recv_wait`, `send_wait`, `future_wait` — and the runtime's
// others (timers, joins, the host's parked tasks). A waiting task is in exactly one of
// them, and its record's stored wait says which: that is how it is taken out again
// (curio's `cancel_func`), by `remove`, whoever takes it out — a poll, a timer, a
// completion, a cancel or a close.
import DequeModule
import HeapModule

/// A pending `sleep`, ordered by deadline, then by arrival.
package struct TimerEntry: Comparable {
    let deadline: UInt64
    let sequence: UInt64
    let record: TaskRecord

    package static func < (a: TimerEntry, b: TimerEntry) -> Bool {
        (a.deadline, a.sequence) < (b.deadline, b.sequence)
    }
    package static func == (a: TimerEntry, b: TimerEntry) -> Bool { a.sequence == b.sequence }

    /// False once the task left this sleep early (cancelled): the entry is then skipped.
    var isLive: Bool {
        if record.phase == .waiting, case .sleep? = record.stored?.reason {
            return record.timerSequence == sequence
        }
        return false
    }
}

/// The task waiting on each fd in one direction: by index for the kernel's small fd
/// numbers (a lookup per poll event and per wait, no hashing), in a dictionary for the
/// rest (the simulated network's, from 2^20).
package struct FDWaiters {
    static let denseLimit: Int32 = 1 << 16
    private var dense: [TaskRecord?] = []
    private var sparse: [Int32: TaskRecord] = [:]
    /// How many fds have a waiter.
    private(set) var count = 0

    package subscript(fd: Int32) -> TaskRecord? {
        @inline(__always) get {
            if fd >= 0 && fd < Self.denseLimit {
                let i = Int(fd)
                return i < dense.count ? dense[i] : nil
            }
            return sparse[fd]
        }
        set {
            let old: TaskRecord?
            if fd >= 0 && fd < Self.denseLimit {
                let i = Int(fd)
                if i >= dense.count {
                    guard newValue != nil else { return }
                    dense.append(contentsOf: repeatElement(nil, count: Swift.max(i + 1 - dense.count, dense.count)))
                }
                old = dense[i]
                dense[i] = newValue
            } else {
                old = sparse[fd]
                sparse[fd] = newValue
            }
            count += (newValue == nil ? 0 : 1) - (old == nil ? 0 : 1)
        }
    }

    /// Every fd with a waiter and its task, in fd order.
    var entries: [(fd: Int32, task: TaskRecord)] {
        var out: [(fd: Int32, task: TaskRecord)] = []
        out.reserveCapacity(count)
        if count > sparse.count {
            for (i, r) in dense.enumerated() { if let r { out.append((Int32(i), r)) } }
        }
        out += sparse.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 }
        return out
    }

    /// The fds beyond the dense range with a waiter (a wake source's among them), in no
    /// particular order.
    package var largeFDs: Dictionary<Int32, TaskRecord>.Keys { sparse.keys }
}

/// Every wait queue of a loop (loop thread only).
@usableFromInline
package struct WaitQueues {
    package var recv = FDWaiters()
    package var send = FDWaiters()
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
    package mutating func nextTimerDeadline() -> UInt64? {
        while let top = timers.min, !top.isLive { _ = timers.removeMin() }
        return timers.min?.deadline
    }

    /// The live sleepers, earliest first.
    var liveTimers: [TimerEntry] { timers.unordered.filter(\.isLive).sorted() }
}
