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
    public var wait: [String: Nanos] = [:]
    /// Handler tasks: from the request's bytes arriving (its recv woke) to the handler
    /// waiting for the next one (the reply sent).
    public var request = Nanos()
    /// The same, per task.
    public var tasks: [TaskID: TaskStats] = [:]

    /// Per-task figures are kept for the first this many tasks that record any.
    public static let taskLimit = 1_000

    public struct TaskStats: Sendable {
        public var step = Nanos(compact: true)
        public var wait: [String: Nanos] = [:]
        public var request = Nanos(compact: true)
    }

    public init() {}

    private mutating func withTask(_ task: TaskID, _ body: (inout TaskStats) -> Void) {
        if tasks[task] == nil && tasks.count >= Self.taskLimit { return }
        body(&tasks[task, default: TaskStats()])
    }

    mutating func record(step nanos: UInt64, task: TaskID) {
        step.record(nanos)
        withTask(task) { $0.step.record(nanos) }
    }

    mutating func record(wait nanos: UInt64, kind: String, task: TaskID) {
        wait[kind, default: Nanos()].record(nanos)
        withTask(task) { $0.wait[kind, default: Nanos(compact: true)].record(nanos) }
    }


    mutating func record(poll nanos: UInt64) {
        poll.record(nanos)
    }

    mutating func record(request nanos: UInt64, task: TaskID) {
        request.record(nanos)
        withTask(task) { $0.request.record(nanos) }
    }
}
