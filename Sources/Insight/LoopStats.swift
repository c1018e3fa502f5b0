// Latency histograms for `stats`: step time, wait time by wait kind, poll time, and request
// latency (handler tasks), for the loop and per task. HdrHistogram's buckets (three
// significant digits, 1 ns to an hour), recorded in a few instructions.
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

/// A histogram of nanoseconds, with HdrHistogram's buckets and answers (three
/// significant digits, or two for `compact`; 1 ns to an hour): the same figures as
/// hdrhistogram-swift's `Histogram` for the same values (InsightTests compares them), in
/// a recording of a few instructions. The monitor records twice or more per step, so
/// the general histogram's layers (a counts array inside a struct inside the stats,
/// checked for uniqueness at each level, and its auto-resizing) cost more than the step.
/// A value type: a copy is copied on its first write.
public struct Nanos: Sendable {
    private var storage: NanosStorage

    /// Three significant digits over 1 ns to an hour, or, `compact`, two digits (per-task
    /// figures). Counts are allocated as far as the largest value recorded so far needs
    /// (at most about 130 KB, or 17 KB for `compact`).
    public init(compact: Bool = false) {
        // Shared until the first value: a histogram that records nothing allocates nothing.
        storage = compact ? NanosStorage.emptyCompact : NanosStorage.empty
    }

    /// Records one value (clamped to 1 ns…1 hour).
    @inline(__always)
    public mutating func record(_ nanos: UInt64) {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        storage.record(Swift.min(Swift.max(nanos, 1), NanosStorage.highest))
    }

    /// How many values it holds.
    public var count: UInt64 { storage.total }

    /// count, p50, p90, p99, p99.9 and max.
    public var distribution: Distribution {
        Distribution(count: storage.total, p50: storage.value(atPercentile: 50), p90: storage.value(atPercentile: 90),
                     p99: storage.value(atPercentile: 99), p999: storage.value(atPercentile: 99.9),
                     max: storage.maxValue == 0 ? 0 : storage.highestEquivalent(storage.maxValue))
    }
}

/// The counts of a `Nanos` (HdrHistogram's layout with a lowest discernible value of 1:
/// bucket 0 holds `subBucketCount` values at unit resolution, each later bucket the upper
/// half of its sub-buckets at twice the previous resolution).
final class NanosStorage: @unchecked Sendable {
    static let highest: UInt64 = 3_600_000_000_000
    /// Empty storage every new `Nanos` shares (never written: a write copies it first).
    static let empty = NanosStorage(digits: 3)
    static let emptyCompact = NanosStorage(digits: 2)
    /// log2 of half the sub-buckets (10 for three digits, 7 for two).
    let halfMagnitude: Int
    let subBucketMask: UInt64
    /// 64 minus the bits of the largest value of bucket 0.
    let leadingZeroBase: Int
    private var counts: UnsafeMutablePointer<UInt32>
    private var capacity: Int
    private(set) var total: UInt64 = 0
    private(set) var maxValue: UInt64 = 0
    private var minNonZero: UInt64 = .max

    init(digits: Int) {
        // HdrHistogram: unit resolution up to 2 × 10^digits, rounded up to a power of two
        // (2,000 → 2^11; 200 → 2^8).
        precondition(digits == 2 || digits == 3)
        let subBucketMagnitude = digits == 3 ? 11 : 8
        halfMagnitude = subBucketMagnitude - 1
        subBucketMask = UInt64(1 << subBucketMagnitude) - 1
        leadingZeroBase = 64 - subBucketMagnitude
        capacity = 2 << halfMagnitude  // buckets 0 and 1
        counts = .allocate(capacity: capacity)
        counts.initialize(repeating: 0, count: capacity)
    }

    deinit { counts.deallocate() }

    func copy() -> NanosStorage {
        let c = NanosStorage(digits: halfMagnitude == 10 ? 3 : 2)
        c.grow(to: capacity)
        c.counts.update(from: counts, count: capacity)
        (c.total, c.maxValue, c.minNonZero) = (total, maxValue, minNonZero)
        return c
    }

    @inline(__always)
    func record(_ value: UInt64) {
        // (Masking shifts: the amounts are in range, and a checked shift costs a branch
        // for each side of 64.)
        let bucket = leadingZeroBase &- (value | subBucketMask).leadingZeroBitCount
        let subBucket = Int(truncatingIfNeeded: value &>> UInt64(truncatingIfNeeded: bucket))
        let index = ((bucket &+ 1) &<< halfMagnitude) &+ (subBucket &- (1 &<< halfMagnitude))
        if index >= capacity { grow(to: index + 1) }
        counts[index] &+= 1
        total &+= 1
        if value > maxValue { maxValue = value }
        if value < minNonZero { minNonZero = value }
    }

    private func grow(to needed: Int) {
        guard needed > capacity else { return }
        // Whole buckets of `half` counts each.
        let half = 1 << halfMagnitude
        let newCapacity = (needed + half - 1) / half * half
        let next = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        next.update(from: counts, count: capacity)
        (next + capacity).initialize(repeating: 0, count: newCapacity - capacity)
        counts.deallocate()
        (counts, capacity) = (next, newCapacity)
    }

    private func valueFrom(index: Int) -> UInt64 {
        let half = 1 << halfMagnitude
        var bucket = (index >> halfMagnitude) - 1
        var subBucket = (index & (half - 1)) + half
        if bucket < 0 {
            subBucket -= half
            bucket = 0
        }
        return UInt64(subBucket) << UInt64(bucket)
    }

    /// The largest value counted with `value`.
    func highestEquivalent(_ value: UInt64) -> UInt64 {
        let bucket = leadingZeroBase - (value | subBucketMask).leadingZeroBitCount
        let subBucket = Int(value >> UInt64(bucket))
        let lowest = UInt64(subBucket) << UInt64(bucket)
        let size: UInt64 = 1 << UInt64(subBucket >= (2 << halfMagnitude) ? bucket + 1 : bucket)
        return lowest + size - 1
    }

    /// HdrHistogram's `valueAtPercentile` (for 0 < percentile < 100).
    func value(atPercentile percentile: Double) -> UInt64 {
        guard total > 0 else { return 0 }
        let requested = Swift.min(Swift.max(percentile.nextDown, 0.0), 100.0)
        let countAtPercentile = Swift.max(1, UInt64(((requested * Double(total)) / 100.0).rounded(.up)))
        var running: UInt64 = 0
        for i in 0..<capacity {
            running += UInt64(counts[i])
            if running >= countAtPercentile {
                return Swift.max(Swift.min(highestEquivalent(valueFrom(index: i)), maxValue), minNonZero)
            }
        }
        return 0
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
    private var perTask = ContiguousArray<TaskStats>()
    private var tracked = 0

    /// One task's figures, if it recorded any (and was among the first `taskLimit`).
    public func task(_ id: TaskID) -> TaskStats? {
        id.rawValue < perTask.count && perTask[id.rawValue].tracked ? perTask[id.rawValue] : nil
    }

    /// Per-task figures are kept for the first this many tasks that record any.
    public static let taskLimit = 1_000

    public struct TaskStats: Sendable {
        public var step = Nanos(compact: true)
        public var request = Nanos(compact: true)
        /// Time it waited, by wait kind.
        public var wait: [String: Nanos] { waits.byKind }
        var waits = WaitHistograms(compact: true)
        /// Whether it is one of the tasks figures are kept for (the others are holes).
        var tracked = false
    }

    public init() {}

    /// Whether figures are kept for the task at `i` (making it so while under the limit).
    /// Recording goes straight into the array's element: no closure, no optional.
    @inline(__always)
    private mutating func tracks(_ i: Int) -> Bool {
        if i < perTask.count && perTask[i].tracked { return true }
        return track(i)
    }

    private mutating func track(_ i: Int) -> Bool {
        guard tracked < Self.taskLimit else { return false }
        if i >= perTask.count { perTask.append(contentsOf: repeatElement(TaskStats(), count: i + 1 - perTask.count)) }
        perTask[i].tracked = true
        tracked += 1
        return true
    }

    mutating func record(step nanos: UInt64, task: TaskID) {
        step.record(nanos)
        if tracks(task.rawValue) { perTask[task.rawValue].step.record(nanos) }
    }

    mutating func record(wait nanos: UInt64, kind: WaitReason, task: TaskID) {
        guard kind != .yield else { return }
        waits.record(nanos, kind)
        if tracks(task.rawValue) { perTask[task.rawValue].waits.record(nanos, kind) }
    }

    mutating func record(poll nanos: UInt64) {
        poll.record(nanos)
    }

    mutating func record(request nanos: UInt64, task: TaskID) {
        request.record(nanos)
        if tracks(task.rawValue) { perTask[task.rawValue].request.record(nanos) }
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
