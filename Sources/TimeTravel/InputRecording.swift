// The recording of outside inputs (docs/TIME-TRAVEL.md): everything the loop took from
// outside itself, in the order it took it — what each system call of `AsyncSocket`
// returned (fds, ports, addresses, the bytes received, how many were sent, errors), what
// each poll reported, which completions other threads handed over at which point, and the
// clock: every reading taken inside a step by the tasks and the loop itself (observers'
// readings are theirs, not the tasks' inputs). A replay answers the same calls from the
// recording instead of the kernel — no socket is opened, no port bound, no poll made — so a
// session that used real sockets runs again step for step; the first call that asks for
// something else than the recording holds is the divergence, and is reported.
//
// Also how outside work ended (`makeOutsideFuture`: a client on a thread of its own), which
// a replay delivers without running that work. Not inputs, so not here: pool work runs
// again in a replay (its completion is delivered where the recording says); a host's own fds
// (`readable(_:)` on a raw fd) are outside the loop's knowledge. Once a replay has given
// its verdict, `endReplay()` lets the loop run on without the recording (to shut down).
import Runtime
import Glibc

/// One input the loop took from outside.
public enum LoopInput: Sendable, Hashable, Codable {
    /// A listening socket: its fd and the address it got.
    case listen(fd: Int32, address: String)
    /// A call that failed: which, on which fd (-1: none yet), with which errno.
    case failed(call: String, fd: Int32, errno: Int32)
    /// accept on `fd`: the new socket, its peer and local address (`client` < 0: -errno).
    case accept(fd: Int32, client: Int32, peer: String?, local: String?)
    /// connect: the new socket's fd and the immediate errno (0: connected at once).
    case connect(fd: Int32, errno: Int32)
    /// SO_ERROR once a connect in progress was reported writable.
    case connected(fd: Int32, errno: Int32)
    /// recv: the bytes (nil: would block).
    case recv(fd: Int32, bytes: [UInt8]?)
    /// send: how many bytes were taken (nil: would block).
    case send(fd: Int32, count: Int?)
    /// socketpair: the two fds.
    case pair(Int32, Int32)
    /// What a poll reported, in order (fd -1: the wake-up channel), or why it failed.
    case poll(events: [PolledFD], failure: String?)
    /// A completion another thread handed over, delivered here.
    case future(Int)
    /// The outcome of outside work (`makeOutsideFuture`), delivered here: nil, it
    /// succeeded; otherwise how it failed.
    case outcome(future: Int, failure: String?)
    /// A job another thread handed over (not replayable).
    case job
    /// A call another thread handed over (it ran here; a replay skips it).
    case call
    /// The drain of the inbox when a poll reported the wake-up channel: how many of the
    /// inputs that follow (completions, outcomes, calls, jobs) it took. (A step's first
    /// drain, before its poll, takes those before the poll's input; without this count a
    /// replay could not tell the wake-up channel's drain that took nothing from the next
    /// step's first drain.)
    case drained(Int)

    /// One fd a poll reported.
    public struct PolledFD: Sendable, Hashable, Codable {
        public var fd: Int32
        public var flags: UInt8  // 1 readable, 2 writable, 4 hung up
    }

    /// `"recv fd 9"`, for saying what a replay expected.
    public var summary: String {
        switch self {
        case .listen(let fd, let a): return "listen fd \(fd) (\(a))"
        case .failed(let call, let fd, let e): return "\(call)\(fd >= 0 ? " fd \(fd)" : "") failing (\(errnoName(e)))"
        case .accept(let fd, let c, _, _): return "accept fd \(fd)\(c >= 0 ? " → fd \(c)" : "")"
        case .connect(let fd, _): return "connect (fd \(fd))"
        case .connected(let fd, _): return "connect's result on fd \(fd)"
        case .recv(let fd, let b): return "recv fd \(fd) (\(b.map { "\($0.count) bytes" } ?? "would block"))"
        case .send(let fd, let n): return "send fd \(fd) (\(n.map { "\($0) bytes" } ?? "would block"))"
        case .pair(let a, let b): return "socketpair (fds \(a), \(b))"
        case .poll(let events, _): return "a poll (\(events.count) fd\(events.count == 1 ? "" : "s"))"
        case .future(let id): return "future \(id)'s completion"
        case .outcome(let id, let f): return "future \(id)'s outcome (\(f.map { "failed: \($0)" } ?? "done"))"
        case .job: return "a job from another thread"
        case .call: return "a call from another thread"
        case .drained(let n): return "the wake-up channel's drain (\(n) handed over)"
        }
    }

    /// The fd it concerns, if one.
    var fd: Int32? {
        switch self {
        case .listen(let fd, _), .accept(let fd, _, _, _), .connect(let fd, _), .connected(let fd, _),
             .recv(let fd, _), .send(let fd, _):
            return fd
        case .failed(_, let fd, _): return fd >= 0 ? fd : nil
        default: return nil
        }
    }

    /// Roughly what it takes in memory, for the recording's bound.
    var cost: Int {
        switch self {
        case .recv(_, let b): return 48 + (b?.count ?? 0)
        case .poll(let e, _): return 48 + 8 * e.count
        case .listen, .accept: return 96
        case .outcome(_, let f): return 32 + (f?.utf8.count ?? 0)
        default: return 32
        }
    }
}

/// The inputs of a loop from its start: what `journal save` writes and a replay reads.
public struct LoopInputs: Sendable, Codable {
    /// Every input, in order.
    public var inputs: [LoopInput]
    /// The clock: every reading taken inside a step, on the real clock, in order.
    public var clock: [UInt64]
    /// The step after which recording stopped because the recording reached its bound (nil:
    /// it covers the whole session).
    public var endedAfterStep: UInt64?
    /// Whether each drain of the wake-up channel is recorded (`.drained`); nil in recordings
    /// from before that, which a replay reads as they were.
    public var wakeDrainsCounted: Bool?
}

/// How outside work failed, as the recording has it (a replay's `makeOutsideFuture`).
public struct ReplayedFailure: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The recording of a loop's inputs while it records or replays (loop thread only, so its
/// fields skip the run-time exclusivity checks a class's fields otherwise pay on each access).
final class InputRecording {
    enum Mode { case recording, replaying }
    let mode: Mode
    @exclusivity(unchecked) var inputs: [LoopInput] = []
    @exclusivity(unchecked) var clock: [UInt64] = []
    @exclusivity(unchecked) var cursor = 0
    @exclusivity(unchecked) var clockCursor = 0
    /// A replay's last clock reading (what is read outside steps).
    @exclusivity(unchecked) var lastClock: UInt64 = 0
    // Recording.
    let limitBytes: Int
    @exclusivity(unchecked) var bytes = 0
    @exclusivity(unchecked) var endedAfterStep: UInt64?
    // Replaying.
    @exclusivity(unchecked) var divergence: String?
    /// The replay is over (`endReplay()`): the recording answers nothing more, the clock is
    /// real again, completions from other threads are delivered as they come.
    @exclusivity(unchecked) var ended = false
    /// Completions other threads handed over, waiting for the point the recording delivers them.
    @exclusivity(unchecked) var arrived: [FutureID: AnyLoopFuture] = [:]
    /// Futures of outside work, which the recording completes (`makeOutsideFuture`).
    @exclusivity(unchecked) var outside: [FutureID: AnyLoopFuture] = [:]
    /// Whether the recording has `.drained` for each drain of the wake-up channel.
    let wakeDrainsCounted: Bool

    init(recordingUpTo limitBytes: Int) {
        mode = .recording
        self.limitBytes = limitBytes
        wakeDrainsCounted = true
    }

    init(replaying recorded: LoopInputs) {
        mode = .replaying
        inputs = recorded.inputs
        clock = recorded.clock
        limitBytes = 0
        endedAfterStep = recorded.endedAfterStep
        wakeDrainsCounted = recorded.wakeDrainsCounted ?? false
    }

    var isRecording: Bool { mode == .recording && endedAfterStep == nil }
}

extension EventLoop {
    // MARK: Recording and replaying

    /// Starts keeping the recording of outside inputs (a fresh loop only: a replay starts
    /// from the first step). Recording stops, and says so, once the recording holds about
    /// `limitBytes` (default 64 MB): a replay then checks the steps up to that point.
    public func startRecordingInputs(limitBytes: Int = 64 << 20) {
        assertOnLoopThread()
        precondition(stepNumber == 0, "inputs are recorded from a loop's first step")
        inputRecording = InputRecording(recordingUpTo: limitBytes)
        clockFromInputs = true
    }

    /// Stops recording (or replaying) and forgets the recording.
    public func stopRecordingInputs() {
        assertOnLoopThread()
        inputRecording = nil
        clockFromInputs = false
    }

    /// The inputs recorded so far (nil unless recording from the start).
    public var recordedInputs: LoopInputs? {
        assertOnLoopThread()
        guard let j = inputRecording, j.mode == .recording else { return nil }
        return LoopInputs(inputs: j.inputs, clock: j.clock, endedAfterStep: j.endedAfterStep, wakeDrainsCounted: true)
    }

    /// How much the input recording holds: (inputs, bytes, the step it stopped after if full).
    public var inputRecordingStatus: (inputs: Int, bytes: Int, endedAfterStep: UInt64?)? {
        assertOnLoopThread()
        guard let j = inputRecording, j.mode == .recording else { return nil }
        return (j.inputs.count, j.bytes, j.endedAfterStep)
    }

    /// Makes this fresh loop answer every outside input from `inputs` from now on.
    public func startReplaying(_ inputs: LoopInputs) {
        assertOnLoopThread()
        precondition(stepNumber == 0, "a replay starts at a loop's first step")
        inputRecording = InputRecording(replaying: inputs)
        clockFromInputs = true
    }

    /// Whether the loop answers outside inputs from a recording.
    public var isReplayingInputs: Bool { isReplaying }

    /// The first difference between what this replay asked for and the recording, if any.
    public var replayDivergence: String? { inputRecording?.divergence }

    /// Ends a replay — its verdict is in, or it is being shut down — so that the loop can
    /// still run (cancelled tasks unwinding, pool work finishing) without a recording whose
    /// inputs and clock readings have run out: the clock goes on in real time from the
    /// replay's last reading, polls wait only for other threads (the wake-up channel) up to
    /// their timeout, completions are delivered as they arrive, and a socket call — of a
    /// replayed socket or a new one — fails without touching the kernel (a replayed
    /// socket's fd is the recording's number, not this process's). Nothing is checked any
    /// more: a divergence found so far stays as it was. No effect unless replaying.
    public func endReplay() {
        assertOnLoopThread()
        guard let j = inputRecording, j.mode == .replaying, !j.ended else { return }
        j.ended = true
        // Time goes on from the replay's clock, never back.
        let real = monotonicNanos()
        if clockPaused {
            pausedNow = max(pausedNow, j.lastClock)
        } else {
            clockOffset = j.lastClock > real &+ clockOffset ? j.lastClock &- real : clockOffset
        }
        publishClock()
        // Completions that waited for their place in the recording are delivered now.
        takeInboxForReplay(j)
        for f in j.arrived.values.sorted(by: { $0.id.rawValue < $1.id.rawValue }) { deliver(f) }
        j.arrived.removeAll()
        // Outside work the recording did not complete never will: whoever waits for it is told.
        for f in j.outside.values.sorted(by: { $0.id.rawValue < $1.id.rawValue }) {
            f.completeFromReplay(failure: ReplayedFailure(description: "the replay has ended"))
            deliver(f)
        }
        j.outside.removeAll()
    }

    /// Whether a replay was ended (`endReplay()`).
    public var replayEnded: Bool { inputRecording.map { $0.mode == .replaying && $0.ended } ?? false }

    /// Whether the replayed inputs ran out (the recording's recording had stopped).
    public var replayInputsExhausted: Bool {
        guard let j = inputRecording, j.mode == .replaying else { return false }
        return j.cursor >= j.inputs.count && j.endedAfterStep != nil
    }

    // MARK: The clock

    /// Now, while the clock is recorded (recording or replaying, real clock). A reading
    /// inside a step, by a task or the loop (not an observer), is an input: recorded, or
    /// in a replay taken from the recording. Outside steps: the real clock (recording) or
    /// the replay's last reading.
    @inline(never)
    func inputClockNow() -> UInt64 {
        guard let j = inputRecording else { return monotonicNanos() &+ clockOffset }
        let input = (currentRecord != nil || collectingWakes) && !notifying
        switch j.mode {
        case .recording:
            let t = monotonicNanos() &+ clockOffset
            if input && j.endedAfterStep == nil {
                j.clock.append(t)
                j.bytes += 8
            }
            return t
        case .replaying:
            if j.ended { return monotonicNanos() &+ clockOffset }
            guard input else { return j.lastClock }
            if j.clockCursor < j.clock.count {
                j.lastClock = j.clock[j.clockCursor]
                j.clockCursor += 1
            } else if j.divergence == nil && j.endedAfterStep == nil {
                j.divergence = "at #\(stepNumber) this run read the clock more often than the journal holds"
            }
            return j.lastClock
        }
    }
}

// The names these had while the recording of inputs was called a journal (the REPL's
// journal file, which holds it, keeps that name).
@available(*, deprecated, renamed: "ReplayedFailure")
public typealias JournaledFailure = ReplayedFailure

extension EventLoop {
    @available(*, deprecated, renamed: "stopRecordingInputs()")
    public func stopJournalingInputs() { stopRecordingInputs() }

    @available(*, deprecated, renamed: "inputRecordingStatus")
    public var inputJournalStatus: (inputs: Int, bytes: Int, endedAfterStep: UInt64?)? { inputRecordingStatus }
}
