// What the runtime knows about a task, as plain values the REPL and tests can copy:
// its identity, why and where it waits, and how it ended.

/// A task's stable, small integer id (1, 2, 3, … in spawn order; never reused by a loop).
public struct TaskID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, Encodable {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public init(_ value: Int) { self.rawValue = value }
    public static func < (a: TaskID, b: TaskID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "task \(rawValue)" }
    /// Encodes as the bare number.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// A runtime future's id (1, 2, 3, … per loop).
public struct FutureID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible, Encodable {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static func < (a: FutureID, b: FutureID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "future \(rawValue)" }
    /// Encodes as the bare number.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// Where in the source a task suspended: `#fileID` and `#line` of the suspension.
///
/// Holds static strings so that recording it on every suspension costs no allocation.
public struct CodeLocation: Sendable, Hashable, CustomStringConvertible {
    /// The `#fileID`, e.g. `"Runtime/AsyncSocket.swift"`.
    public let fileID: StaticString
    public let line: UInt

    public init(fileID: StaticString = #fileID, line: UInt = #line) {
        self.fileID = fileID
        self.line = line
    }

    /// For suspensions the runtime did not make (a host's continuation, `Task.yield()`):
    /// no file, line 0, which views leave out.
    public static let unknown = CodeLocation(fileID: "?", line: 0)

    /// The file name without its module: `"AsyncSocket.swift"`.
    public var fileName: String {
        let id = "\(fileID)"
        return id.split(separator: "/").last.map(String.init) ?? id
    }

    /// `"AsyncSocket.swift:48"`
    public var description: String { "\(fileName):\(line)" }

    public static func == (a: CodeLocation, b: CodeLocation) -> Bool {
        a.line == b.line && "\(a.fileID)" == "\(b.fileID)"
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine("\(fileID)")
        hasher.combine(line)
    }
}

/// Why a task is suspended: the seed's `yield 'recv', sock` and its relatives.
public enum WaitReason: Sendable, Hashable, CustomStringConvertible {
    /// In `recv_wait`: waiting for the fd to become readable.
    case recv(fd: Int32)
    /// In `send_wait`: waiting for the fd to become writable.
    case send(fd: Int32)
    /// In `future_wait`: waiting for a runtime future to complete.
    case future(FutureID)
    /// In the timers: sleeping until a deadline (monotonic nanoseconds).
    case sleep(until: UInt64)
    /// Back at the end of the ready queue after `yield()`.
    case yield
    /// Waiting for another task to finish.
    case join(TaskID)
    /// Suspended outside the runtime's primitives (e.g. a continuation of the host's);
    /// the runtime sees it again when something resumes it.
    case external
    /// Parked in a wait queue of the host's own (`EventLoop.park(in:detail:)`), e.g. a
    /// channel's `channel_send`, until `unpark` moves it to ready.
    case custom(queue: String, detail: String)

    public var description: String {
        switch self {
        case .recv(let fd): return "recv fd \(fd)"
        case .send(let fd): return "send fd \(fd)"
        case .future(let id): return "future \(id.rawValue)"
        case .sleep: return "sleep"
        case .yield: return "yield"
        case .join(let id): return "join task \(id.rawValue)"
        case .external: return "external"
        case .custom(let queue, let detail): return detail.isEmpty ? queue : "\(queue) \(detail)"
        }
    }

    /// The kind of wait in one word: recv, send, future, sleep, yield, join, external, or
    /// the host queue's name.
    public var kind: String {
        switch self {
        case .recv: return "recv"
        case .send: return "send"
        case .future: return "future"
        case .sleep: return "sleep"
        case .yield: return "yield"
        case .join: return "join"
        case .external: return "external"
        case .custom(let queue, _): return queue
        }
    }

    /// The queue the reason puts a task in, by the seed's names.
    public var queueName: String {
        switch self {
        case .recv: return "recv_wait"
        case .send: return "send_wait"
        case .future: return "future_wait"
        case .sleep: return "timers"
        case .yield: return "ready"
        case .join: return "join"
        case .external: return "external"
        case .custom(let queue, _): return queue
        }
    }
}

/// One suspension: why, what for (a short label such as `"accept"`), where, and since when.
///
/// A read-only view of the wait the runtime stores on a task (`StoredWait`).
public struct Wait: Sendable, Hashable, CustomStringConvertible {
    public let reason: WaitReason
    /// What the wait is for, in a word: `"accept"`, `"connect"`, …; may be empty.
    public let label: StaticString
    public let location: CodeLocation
    /// When the wait began (monotonic nanoseconds).
    public let since: UInt64

    package init(_ stored: StoredWait, hostQueue: (queue: String, detail: String)) {
        switch stored.reason {
        case .recv(let fd): reason = .recv(fd: fd)
        case .send(let fd): reason = .send(fd: fd)
        case .future(let id): reason = .future(id)
        case .sleep(let until): reason = .sleep(until: until)
        case .yield: reason = .yield
        case .join(let id): reason = .join(id)
        case .external: reason = .external
        case .custom: reason = .custom(queue: hostQueue.queue, detail: hostQueue.detail)
        }
        label = stored.label
        location = stored.location
        since = stored.since
    }

    /// `"recv fd 5 (accept)"`
    public var description: String {
        label.utf8CodeUnitCount == 0 ? reason.description : "\(reason) (\(label))"
    }

    public static func == (a: Wait, b: Wait) -> Bool {
        a.reason == b.reason && a.location == b.location && a.since == b.since
            && "\(a.label)" == "\(b.label)"
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(reason)
        hasher.combine(location)
        hasher.combine(since)
    }
}

/// A task's life cycle.
public enum TaskState: Sendable, Hashable, CustomStringConvertible {
    /// In the ready queue, to run at a coming step.
    case ready
    /// Running now (only ever one task, on the loop thread).
    case running
    /// Suspended in one of the wait queues.
    case waiting(Wait)
    /// Returned normally.
    case done
    /// Threw an error; the text is the error's description.
    case failed(String)
    /// Ended by cancellation.
    case cancelled

    /// Whether the task has ended (done, failed or cancelled).
    public var isFinished: Bool {
        switch self {
        case .done, .failed, .cancelled: return true
        default: return false
        }
    }

    /// One word: ready, running, waiting, done, failed, cancelled.
    public var name: String {
        switch self {
        case .ready: return "ready"
        case .running: return "running"
        case .waiting: return "waiting"
        case .done: return "done"
        case .failed: return "failed"
        case .cancelled: return "cancelled"
        }
    }

    public var description: String {
        switch self {
        case .waiting(let w): return "waiting \(w)"
        case .failed(let e): return "failed: \(e)"
        default: return name
        }
    }
}

/// How a task ended.
public enum TaskExit: Sendable, Hashable, CustomStringConvertible {
    case done
    case failed(String)
    case cancelled

    public var description: String {
        switch self {
        case .done: return "done"
        case .failed(let e): return "failed: \(e)"
        case .cancelled: return "cancelled"
        }
    }
}

/// A value copy of one row of the task table.
///
/// Encodes as the row `tasks --json` prints: `busy_ms`, `age_s` and `waiting_on` are
/// presentation fields computed from the row and `takenAt`.
public struct TaskInfo: Sendable, Identifiable, Encodable {
    /// Memberwise, for the package's modules.
    package init(id: TaskID, name: String, kind: String, parent: TaskID? = nil, state: TaskState, steps: Int, busyNanos: UInt64, createdAt: UInt64, endedAt: UInt64? = nil, figures: [String: [Double]], facts: [String: String], stampCounts: [String: Int], takenAt: UInt64) {
        self.id = id
        self.name = name
        self.kind = kind
        self.parent = parent
        self.state = state
        self.steps = steps
        self.busyNanos = busyNanos
        self.createdAt = createdAt
        self.endedAt = endedAt
        self.figures = figures
        self.facts = facts
        self.stampCounts = stampCounts
        self.takenAt = takenAt
    }

    public var id: TaskID
    public var name: String
    /// What sort of task: `"server"`, `"handler"`, `"perf2"`, or a host's own kind.
    public var kind: String
    /// The task that spawned it, if it was spawned from inside a task.
    public var parent: TaskID?
    public var state: TaskState
    /// How many steps ran this task.
    public var steps: Int
    /// Time spent running this task's steps, in nanoseconds.
    public var busyNanos: UInt64
    /// When it was spawned (monotonic nanoseconds).
    public var createdAt: UInt64
    /// When it ended (monotonic nanoseconds), if it has.
    public var endedAt: UInt64?
    /// Named series of numbers the task recorded (latencies, per-second counts, …).
    public var figures: [String: [Double]]
    /// Short free-form facts the task published (e.g. the address a server listens on).
    public var facts: [String: String]
    /// How many time stamps each of the task's series holds (see `EventLoop.stamps(for:)`).
    public var stampCounts: [String: Int]
    /// When this copy was taken (monotonic nanoseconds).
    public var takenAt: UInt64

    /// How long the task has existed when the copy was taken, in nanoseconds.
    public var ageNanos: UInt64 { takenAt &- min(createdAt, takenAt) }

    /// What the task waits on, in the table's words: `recv fd 7 (accept)`, `future 1`,
    /// `sleep (1.2 s left)`; nil unless it is waiting.
    public var waitingOn: String? {
        guard case .waiting(let w) = state else { return nil }
        if case .sleep(let until) = w.reason {
            let left = until > takenAt ? Double(until - takenAt) / 1e9 : 0
            return "sleep (\(String((left * 100).rounded() / 100)) s left)"
        }
        return w.description
    }

    private enum CodingKeys: String, CodingKey {
        case id, name, kind, parent, state, steps, facts, figures, stamps, queue, error
        case waitingOn = "waiting_on", location = "where", busyMillis = "busy_ms", ageSeconds = "age_s"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(kind, forKey: .kind)
        try c.encodeIfPresent(parent, forKey: .parent)
        try c.encode(state.name, forKey: .state)
        if case .waiting(let w) = state {
            try c.encodeIfPresent(waitingOn, forKey: .waitingOn)
            try c.encode(w.reason.queueName, forKey: .queue)
            if w.location.line > 0 { try c.encode(w.location.description, forKey: .location) }
        }
        if case .failed(let e) = state { try c.encode(e, forKey: .error) }
        try c.encode(steps, forKey: .steps)
        try c.encode(Double(busyNanos) / 1e6, forKey: .busyMillis)
        try c.encode(Double(ageNanos) / 1e9, forKey: .ageSeconds)
        try c.encode(facts, forKey: .facts)
        try c.encode(figures, forKey: .figures)
        try c.encode(stampCounts, forKey: .stamps)
    }
}
