// How many of the lines tasks print on their own (a client's latencies, its rates) reach
// the screen: at the interactive prompt, a perf1 asking for fib(30) prints a few hundred a
// second, and nothing typed can be read between them. Each task may show a few lines a
// second (a token bucket: a burst of as many at once, then one every 1/N s); the rest are
// held back, counted, and said in one line every few seconds (and after each command).
// Held-back lines are still results: the transcript keeps them, so `expect output
// contains` finds them, and the task's figures are recorded whatever is shown.
import Runtime

/// Shows at most `perSecond` lines a second from each task and counts the rest (any
/// thread).
final class TaskLineLimiter: Sendable {
    /// How long held-back lines are counted before they are summed up in one line (sooner
    /// after a command).
    static let summaryPeriod: UInt64 = 5_000_000_000

    private struct Held {
        var label: String
        var count: Int
    }

    private struct State {
        /// Lines a second each task may show; nil: every line shows.
        var perSecond: Int?
        /// Each task's tokens, and when they were last topped up.
        var buckets: [Int: (tokens: Double, at: UInt64)] = [:]
        /// Lines held back since the last summary, by task, in the order first held.
        var held: [(task: Int, Held)] = []
        /// When the first line since the last summary was held.
        var heldSince: UInt64?
        /// Whether a summary has said how to change the limit yet.
        var hinted = false
    }

    private let state = Locked(State())
    private let clock: Locked<@Sendable () -> UInt64>

    init(clock: @escaping @Sendable () -> UInt64 = { monotonicNanos() }) {
        self.clock = Locked(clock)
    }

    /// Lines a second each task may show; nil shows every line.
    var perSecond: Int? {
        get { state.withLock { $0.perSecond } }
        set {
            state.withLock {
                $0.perSecond = newValue
                $0.buckets.removeAll()
            }
        }
    }

    /// Replaces the clock (tests).
    func setClock(_ now: @escaping @Sendable () -> UInt64) {
        clock.withLock { $0 = now }
    }

    /// Whether a line of `task` (`label`: its kind, for the summary) shows; and the summary
    /// of what was held back, when one is due.
    func admit(task: TaskID?, label: String) -> (show: Bool, summary: String?) {
        let now = clock.withLock { $0 }()
        return state.withLock { s in
            guard let rate = s.perSecond else { return (true, nil) }
            var summary: String?
            if let since = s.heldSince, now &- since >= Self.summaryPeriod { summary = Self.takeSummary(&s) }
            let key = task?.rawValue ?? -1
            let burst = Double(rate)
            var bucket = s.buckets[key] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + Double(now &- bucket.at) / 1e9 * Double(rate))
            bucket.at = now
            defer { s.buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return (true, summary)
            }
            if let i = s.held.firstIndex(where: { $0.task == key }) {
                s.held[i].1.count += 1
            } else {
                s.held.append((key, Held(label: label, count: 1)))
            }
            if s.heldSince == nil { s.heldSince = now }
            return (false, summary)
        }
    }

    /// The summary of what was held back, if anything was: always with `force`, else only
    /// once lines have been held for `summaryPeriod`.
    func flush(force: Bool) -> String? {
        let now = clock.withLock { $0 }()
        return state.withLock { s in
            guard let since = s.heldSince, force || now &- since >= Self.summaryPeriod else { return nil }
            return Self.takeSummary(&s)
        }
    }

    /// Whether lines are held back that no summary has counted yet.
    var holding: Bool { state.withLock { $0.heldSince != nil } }

    /// `… 1,834 lines from task 3 (perf1) held back; 'show 3' has its figures`, or for
    /// several tasks `… 2,410 lines held back: 1,834 from task 3 (perf1), 576 from task 4
    /// (perf1); 'show TASK' has their figures`. The first also says how to change it.
    private static func takeSummary(_ s: inout State) -> String? {
        defer {
            s.held.removeAll()
            s.heldSince = nil
        }
        guard !s.held.isEmpty else { return nil }
        func who(_ task: Int, _ held: Held) -> String {
            task < 0 ? held.label : "task \(task) (\(held.label))"
        }
        var text: String
        if s.held.count == 1, let (task, held) = s.held.first {
            text = "… \(grouped(held.count)) \(held.count == 1 ? "line" : "lines") from \(who(task, held)) held back"
            text += task < 0 ? "" : "; 'show \(task)' has its figures"
        } else {
            let total = s.held.reduce(0) { $0 + $1.1.count }
            let each = s.held.map { "\(grouped($0.1.count)) from \(who($0.task, $0.1))" }.joined(separator: ", ")
            text = "… \(grouped(total)) lines held back: \(each); 'show TASK' has their figures"
        }
        if !s.hinted {
            s.hinted = true
            let limit = s.perSecond.map { "at most \($0 == 1 ? "1 line" : "\($0) lines") a second" } ?? "every line"
            text += " (each task shows \(limit); 'output limit N' or 'output limit off' changes it)"
        }
        return text
    }

    /// `1,834`
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }
}
