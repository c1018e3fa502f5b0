// The input recording's inputs (see InputRecording.swift): recording one, answering a replay's
// socket calls, polls and hand-overs from the recording, and finding the first difference.
import Runtime
import Glibc

extension EventLoop {
    /// Records an input (recording only; stops at the bound).
    @inline(never)
    func recordInput(_ input: LoopInput) {
        guard let j = inputRecording, j.isRecording else { return }
        j.inputs.append(input)
        j.bytes += input.cost
        if j.bytes > j.limitBytes { j.endedAfterStep = stepNumber }
    }

    /// The next input of a replay, if it is what `matches` accepts; otherwise notes the
    /// divergence (`asked` says what this run asked for) and returns nil.
    @inline(never)
    func replayInput(_ asked: String, fd: Int32? = nil, _ matches: (LoopInput) -> Bool) -> LoopInput? {
        guard let j = inputRecording, j.mode == .replaying else { return nil }
        guard j.divergence == nil, !j.ended else { return nil }
        guard j.cursor < j.inputs.count else {
            j.divergence = j.endedAfterStep != nil
                ? "at #\(stepNumber) the journal's inputs end (its recording stopped after #\(j.endedAfterStep!), at its bound)"
                : "at #\(stepNumber) this run asked for \(asked), and the journal holds no more inputs"
            return nil
        }
        let next = j.inputs[j.cursor]
        guard matches(next), fd == nil || next.fd == nil || next.fd == fd else {
            j.divergence = "at #\(stepNumber) the journal's next input is \(next.summary), this run asked for \(asked)"
            return nil
        }
        j.cursor += 1
        return next
    }

    /// What a socket call throws in a replay that has diverged.
    func replayFailure(_ operation: String) -> SocketError {
        if let j = inputRecording, j.ended, j.divergence == nil {
            return SocketError(.closed, operation: operation, detail: "the replay has ended")
        }
        return SocketError(.closed, operation: operation, detail: "replay diverged: \(inputRecording?.divergence ?? "no input")")
    }


    /// Records what a drain of the inbox took (`afterWake`: the wake-up channel's drain,
    /// whose count a replay needs even when it took nothing).
    func recordTaken(_ items: [InboxItem], afterWake: Bool) {
        guard isRecordingInputs, inputRecording!.isRecording, afterWake || !items.isEmpty else { return }
        if afterWake { recordInput(.drained(items.count { if case .pool = $0 { false } else { true } })) }
        for item in items {
            switch item {
            case .job: recordInput(.job)
            case .future(let f):
                recordInput(f.outcomeIsInput ? .outcome(future: f.id.rawValue, failure: f.failureDescription)
                                             : .future(f.id.rawValue))
            case .call: recordInput(.call)
            case .pool: break
            }
        }
    }

    /// A replay's drain of the inbox: completions from other threads wait until the
    /// recording delivers them; calls run; jobs cannot be replayed. The wake-up channel's
    /// drain (`afterWake`) takes as many as the recording's `.drained` says; a step's first
    /// drain, those before its poll. Once the replay has ended, completions are delivered
    /// as they come.
    func replayDrainInbox(afterWake: Bool) {
        guard let j = inputRecording else { return }
        if j.ended {
            takeInboxForReplay(j)
            for f in j.arrived.values.sorted(by: { $0.id.rawValue < $1.id.rawValue }) { deliver(f) }
            j.arrived.removeAll()
            return
        }
        takeInboxForReplay(j)
        var left = Int.max
        if afterWake && j.wakeDrainsCounted {
            guard case .drained(let n)? = replayInput("the wake-up channel's drain", { if case .drained = $0 { true } else { false } }) else {
                return
            }
            left = n
        }
        while left > 0, j.divergence == nil, j.cursor < j.inputs.count {
            left -= 1
            switch j.inputs[j.cursor] {
            case .future(let raw):
                let id = FutureID(rawValue: raw)
                if j.outside[id] != nil {
                    j.divergence = "at #\(stepNumber) the journal delivers future \(raw)'s completion without its outcome, which this run takes from the journal (a journal from before outcomes of outside work were recorded)"
                    return
                }
                guard let f = awaitArrival(id, j) else {
                    j.divergence = "at #\(stepNumber) the journal delivers future \(raw)'s completion, which this run's work did not complete within 60 s"
                    return
                }
                j.cursor += 1
                deliver(f)
            case .outcome(let raw, let failure):
                guard let f = j.outside.removeValue(forKey: FutureID(rawValue: raw)) else {
                    j.divergence = "at #\(stepNumber) the journal has future \(raw)'s outcome from outside the loop, a future this run did not make so"
                    return
                }
                j.cursor += 1
                f.completeFromReplay(failure: failure.map { ReplayedFailure(description: $0) })
                deliver(f)
            case .call:
                j.cursor += 1
            case .job:
                j.divergence = "at #\(stepNumber) the journal has a job handed over by another thread, which a replay cannot repeat"
                return
            default:
                return
            }
        }
    }

    /// Waits (real time, at most 60 s) for a completion from another thread.
    func awaitArrival(_ id: FutureID, _ j: InputRecording) -> AnyLoopFuture? {
        let deadline = monotonicNanos() &+ 60_000_000_000
        while true {
            if let f = j.arrived.removeValue(forKey: id) { return f }
            if monotonicNanos() > deadline || stopFlag.load(ordering: .relaxed) { return nil }
            var p = pollfd(fd: wakeChannel.fd, events: Int16(POLLIN), revents: 0)
            _ = Glibc.poll(&p, 1, 100)
            if p.revents != 0 { wakeChannel.drain() }
            takeInboxForReplay(j)
        }
    }

    /// Empties the inbox in a replay: completions wait in `arrived` for the point the
    /// recording delivers them; pool events, calls and jobs go where a drain sends them.
    func takeInboxForReplay(_ j: InputRecording) {
        let items = inbox.withLock { items -> [InboxItem] in
            inboxPending.store(false, ordering: .relaxed)
            let taken = items
            items.removeAll()
            return taken
        }
        for item in items {
            switch item {
            case .future(let f): j.arrived[f.id] = f
            case .pool(let event): emit(.pool(event))
            case .call(let body): body()
            case .job(let job): ready.append(.job(job, record(of: job)))
            }
        }
    }

    /// A replay's poll: what the recording says the poll reported (fd -1: the wake-up channel,
    /// kept so: the recording's fd numbers are no fds of this process). Once the replay has
    /// ended, a real wait of up to `timeoutNanos` (nil: no limit) on the wake-up channel
    /// alone — completions from other threads, a stop request — never on the recording's fds.
    func replayPoll(timeoutNanos: UInt64?) throws(SystemCallError) -> [PollEvent] {
        if let j = inputRecording, j.ended {
            var p = pollfd(fd: wakeChannel.fd, events: Int16(POLLIN), revents: 0)
            let millis = timeoutNanos.map { Int32(clamping: $0 / 1_000_000 + ($0 % 1_000_000 == 0 ? 0 : 1)) } ?? -1
            _ = Glibc.poll(&p, 1, millis)
            return p.revents != 0 ? [PollEvent(fd: -1, readable: true, writable: false, hungUp: false)] : []
        }
        guard let input = replayInput("a poll", { if case .poll = $0 { return true } else { return false } }),
              case .poll(let events, let failure) = input else {
            return []
        }
        if let failure { throw SystemCallError(failure, errno: .ioError) }
        return events.map {
            PollEvent(fd: $0.fd, readable: $0.flags & 1 != 0,
                      writable: $0.flags & 2 != 0, hungUp: $0.flags & 4 != 0)
        }
    }

    /// Records what a poll reported.
    func recordPoll(_ events: [PollEvent], failure: String?) {
        recordInput(.poll(events: events.map {
            LoopInput.PolledFD(fd: $0.fd == wakeChannel.fd ? -1 : $0.fd,
                               flags: ($0.readable ? 1 : 0) | ($0.writable ? 2 : 0) | ($0.hungUp ? 4 : 0))
        }, failure: failure))
    }
}
