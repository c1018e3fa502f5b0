// Latency histograms for `stats`: step time, wait time by wait kind, poll time, and request
// latency (handler tasks), for the loop and per task. HdrHistogram (three significant
// digits, 1 ns to an hour): recording is a few nanoseconds, memory is fixed per histogram.
import Histogram
import Runtime

/// One histogram's summary, in nanoseconds.
public struct Distribution: Sendable, Encodable {
    public var count: UInt64
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64

    enum CodingKeys: String, CodingKey {
        case count, p50 = "p50_ns", p90 = "p90_ns", p99 = "p99_ns", p999 = "p99_9_ns", max = "max_ns"
    }
}

/// A histogram of nanoseconds.
public struct Nanos: Sendable {
    private var h: Histogram<UInt32>

    /// Three significant digits over 1 ns to an hour (about 130 KB), or, `compact`, two
    /// digits and only the range recorded so far (a few KB: for per-task figures).
    public init(compact: Bool = false) {
        if compact {
            h = Histogram<UInt32>(numberOfSignificantValueDigits: .two)
        } else {
            h = Histogram<UInt32>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000,
                                  numberOfSignificantValueDigits: .three)
        }
    }

    public mutating func record(_ nanos: UInt64) {
        h.record(Swift.min(Swift.max(nanos, 1), 3_600_000_000_000))
    }

    public var count: UInt64 { h.totalCount }

    /// count, p50, p90, p99, p99.9 and max.
    public var distribution: Distribution {
        Distribution(count: h.totalCount, p50: h.valueAtPercentile(50), p90: h.valueAtPercentile(90),
                     p99: h.valueAtPercentile(99), p999: h.valueAtPercentile(99.9), max: h.max)
    }
}

/// The figures of `stats`: for the loop, and for each task.
public struct LoopStats: Sendable {
    /// Time each task step ran.
    public var step = Nanos()
    /// Time each poll call blocked.
    public var poll = Nanos()
    /// Time tasks waited, by wait kind (recv, send, future, sleep, join, …).
    public var wait: [String: Nanos] { waits.byKind }
    private var waits = WaitHistograms(compact: false)
    /// Handler tasks: from the request's bytes arriving (its recv woke) to the handler
    /// waiting for the next one (the reply sent).
    public var request = Nanos()
    /// The same, per task (index: the task's id).
    private var perTask = ContiguousArray<TaskStats?>()
    private var tracked = 0

    /// One task's figures, if it recorded any (and was among the first `taskLimit`).
    public func task(_ id: TaskID) -> TaskStats? { id.rawValue < perTask.count ? perTask[id.rawValue] : nil }

    /// Per-task figures are kept for the first this many tasks that record any.
    public static let taskLimit = 1_000

    public struct TaskStats: Sendable {
        public var step = Nanos(compact: true)
        public var request = Nanos(compact: true)
        /// Time it waited, by wait kind.
        public var wait: [String: Nanos] { waits.byKind }
        var waits = WaitHistograms(compact: true)
    }

    public init() {}

    private mutating func withTask(_ task: TaskID, _ body: (inout TaskStats) -> Void) {
        let i = task.rawValue
        if i >= perTask.count {
            guard tracked < Self.taskLimit else { return }
            perTask.append(contentsOf: repeatElement(nil, count: i + 1 - perTask.count))
        }
        if perTask[i] == nil {
            guard tracked < Self.taskLimit else { return }
            perTask[i] = TaskStats()
            tracked += 1
        }
        body(&perTask[i]!)
    }

    mutating func record(step nanos: UInt64, task: TaskID) {
        step.record(nanos)
        withTask(task) { $0.step.record(nanos) }
    }

    mutating func record(wait nanos: UInt64, kind: WaitReason, task: TaskID) {
        guard kind != .yield else { return }
        waits.record(nanos, kind)
        withTask(task) { $0.waits.record(nanos, kind) }
    }

    mutating func record(poll nanos: UInt64) {
        poll.record(nanos)
    }

    mutating func record(request nanos: UInt64, task: TaskID) {
        request.record(nanos)
        withTask(task) { $0.request.record(nanos) }
    }
}

/// Wait times by kind: the runtime's own kinds in an array (no hashing per wake), hosts'
/// queues by name.
struct WaitHistograms: Sendable {
    static let kinds = ["recv", "send", "future", "sleep", "join", "external"]
    private let compact: Bool
    private var standard: [Nanos]
    private var custom: [String: Nanos] = [:]

    init(compact: Bool) {
        self.compact = compact
        standard = [Nanos](repeating: Nanos(compact: compact), count: Self.kinds.count)
    }

    mutating func record(_ nanos: UInt64, _ kind: WaitReason) {
        switch kind {
        case .recv: standard[0].record(nanos)
        case .send: standard[1].record(nanos)
        case .future: standard[2].record(nanos)
        case .sleep: standard[3].record(nanos)
        case .join: standard[4].record(nanos)
        case .external: standard[5].record(nanos)
        case .yield: return
        case .custom(let queue, _): custom[queue, default: Nanos(compact: compact)].record(nanos)
        }
    }

    /// Every kind that recorded something.
    var byKind: [String: Nanos] {
        var all = custom
        for (i, h) in standard.enumerated() where h.count > 0 { all[Self.kinds[i]] = h }
        return all
    }
}
