// What the loop did, as data: the one place a step writes what it did for those who
// watch it (the monitor, the trace recorder). Each step writes a few fixed-size records —
// numbers, ids, codes, the clock readings of its boundaries, no text — and hands them, at
// its end, to each reader in one call. Names, labels and descriptions are looked up by a
// reader only when it shows them. A loop nobody reads writes nothing: one flag per site.
//
// `LoopObserver` (Observer.swift) is the other way to watch: live, one call per event,
// each event a full description. It costs what building those descriptions costs; a
// record reader costs one call per step.

/// One thing the loop did, as it happened: the records of one step come in this order —
/// `began`, then what the step did (`waits`, `woke`, `pollBegan`, `pollEnded`, `event`),
/// then `ran` or `polled`. A record holds no reference (copying one is copying its bytes);
/// the rare text goes beside it (`RecordText`, `RecordEvent`), valid while it is read.
package enum LoopRecord {
    /// A step began: its number, the task it runs (nil: a poll step), and the clock then.
    case began(step: UInt64, task: TaskID?, at: UInt64)
    /// The running task suspended (its wait: `since` is the step's start); also a task
    /// that suspended outside the runtime's primitives (`external`).
    case waits(TaskID, StoredWait)
    /// A task left its wait for ready (`from`: the wait it was in, nil if none), the
    /// clock then.
    case woke(TaskID, from: StoredWait.Reason?, cause: WakeCause, at: UInt64)
    /// The poll call is about to block (nil: no limit), the clock then.
    case pollBegan(timeoutNanos: UInt64?, at: UInt64)
    /// A poll that woke something returned after blocking `waitedNanos`, with this many
    /// wake-up channel signals (written at the poll step's end, as observers are told).
    case pollEnded(waitedNanos: UInt64, signals: Int)
    /// A task step ended at `end` after running `busy` ns; `from`: the wait it resumed
    /// from (nil when the step started it); `readyAgain`: it went straight back to ready
    /// from a socket wait the readiness cache knew ready; `resumeError`: the error it was
    /// resumed with (cancellation, a closed fd). Where it is now: the step's `waits`, or
    /// its `exited` event.
    case ran(TaskID, from: StoredWait?, busy: UInt64, end: UInt64, readyAgain: WakeCause?, resumeError: RecordText)
    /// A poll step ended at `end`: it woke something, or was idle (`waitedNanos` in its
    /// poll; `note`: why it did not poll, or how the poll failed).
    case polled(end: UInt64, woke: Bool, waitedNanos: UInt64, note: RecordText)
    /// Something rarer, carrying text (a spawn, an exit, pool work, a network fault), as
    /// the event an observer gets.
    case event(RecordEvent)
}

/// Text beside the records being read (`EventLoop.recordText`); `none` for no text.
package struct RecordText {
    let index: Int32
    package static let none = RecordText(index: -1)
    /// Whether there is text.
    package var exists: Bool { index >= 0 }
}

/// An event beside the records being read (`EventLoop.recordEvent`).
package struct RecordEvent {
    let index: Int32
}

/// The records of the step under way: a buffer that only grows, reused step after step.
struct RecordBuffer {
    private(set) var base: UnsafeMutablePointer<LoopRecord>?
    private(set) var count = 0
    private var capacity = 0

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    mutating func append(_ record: LoopRecord) {
        if count == capacity { grow() }
        (base.unsafelyUnwrapped + count).initialize(to: record)
        count &+= 1
    }

    @inline(never)
    private mutating func grow() {
        let bigger = max(16, capacity * 2)
        let new = UnsafeMutablePointer<LoopRecord>.allocate(capacity: bigger)
        if let base {
            new.moveInitialize(from: base, count: count)
            base.deallocate()
        }
        base = new
        capacity = bigger
    }

    /// Forgets the records (they hold no reference: nothing to release).
    @inline(__always)
    mutating func removeAll() { count = 0 }

    var buffer: UnsafeBufferPointer<LoopRecord> { UnsafeBufferPointer(start: base, count: count) }

    mutating func free() {
        base?.deallocate()
        base = nil
        count = 0
        capacity = 0
    }
}

/// Reads what the loop did, one step at a time (on the loop thread).
package protocol LoopRecordReader: AnyObject {
    /// The records of one step, in order — or of what happened between steps (a spawn at
    /// the prompt, pool work taken in, a cancellation): then no `began`. The records, and
    /// their text, are valid only during the call.
    func loop(_ loop: EventLoop, read records: UnsafeBufferPointer<LoopRecord>)
}

extension EventLoop {
    /// Attaches a record reader: from now on each step writes its records and hands them
    /// to it at its end.
    package func addRecordReader(_ reader: any LoopRecordReader) {
        assertOnLoopThread()
        recordReaders.append(reader)
        watchersChanged()
    }

    /// Detaches a reader added with `addRecordReader`.
    package func removeRecordReader(_ reader: any LoopRecordReader) {
        assertOnLoopThread()
        recordReaders.removeAll { $0 === reader }
        watchersChanged()
    }

    func watchersChanged() {
        writesRecords = !recordReaders.isEmpty
        watched = writesRecords || !observers.isEmpty
        // (Not while a reader reads them: the last reader may leave during the call.)
        if !writesRecords && !deliveringRecords { records.free() }
    }

    /// Writes a record; outside a step, hands it to the readers at once.
    @inline(__always)
    package func writeRecord(_ record: LoopRecord) {
        records.append(record)
        if !stepOpen { deliverRecords() }
    }

    /// Hands the records written so far to every reader and forgets them.
    @inline(never)
    package func deliverRecords() {
        stepOpen = false
        guard !records.isEmpty else { return }
        let was = notifying
        notifying = true
        let buffer = records.buffer
        deliveringRecords = true
        for reader in recordReaders { reader.loop(self, read: buffer) }
        deliveringRecords = false
        notifying = was
        if writesRecords { records.removeAll() } else { records.free() }
        if !recordTexts.isEmpty { recordTexts.removeAll(keepingCapacity: true) }
        if !recordEvents.isEmpty { recordEvents.removeAll(keepingCapacity: true) }
    }

    /// An event with text: to observers as it is, to readers as a record.
    package func emit(_ event: LoopEvent) {
        notify(event)
        guard writesRecords else { return }
        recordEvents.append(event)
        writeRecord(.event(RecordEvent(index: Int32(recordEvents.count - 1))))
    }

    /// Keeps `text` beside the records of the step under way.
    package func recordText(_ text: String?) -> RecordText {
        guard let text else { return .none }
        recordTexts.append(text)
        return RecordText(index: Int32(recordTexts.count - 1))
    }

    /// The text a record being read refers to.
    package func text(_ t: RecordText) -> String? { t.index < 0 ? nil : recordTexts[Int(t.index)] }

    /// The event a record being read refers to.
    package func event(_ e: RecordEvent) -> LoopEvent { recordEvents[Int(e.index)] }

    /// Now, read for those who watch: never an input of the tasks' (a recording of the
    /// inputs does not keep it, a replay does not take it from the recording).
    package func watcherNow() -> UInt64 {
        let was = notifying
        notifying = true
        defer { notifying = was }
        return now()
    }

    /// A wait as the public view has it (a host queue's names read from its task).
    package func publicWait(_ stored: StoredWait, of task: TaskID) -> Wait {
        if case .custom = stored.reason, let r = table[task] { return Wait(stored, hostQueue: r.hostQueue) }
        return Wait(stored, hostQueue: ("", ""))
    }

    /// A wait reason as the public view has it.
    package func publicReason(_ reason: StoredWait.Reason?, of task: TaskID) -> WaitReason {
        guard let reason else { return .external }
        return publicWait(StoredWait(reason, location: .unknown, since: 0), of: task).reason
    }
}
