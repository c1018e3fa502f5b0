// Time stamps of a task's events (a request sent, a reply received), for measuring what
// happened during an interval rather than per fixed tick: "how many replies did perf2 get
// while the long request was in flight?" A client thread stamps from its own thread as the
// reply arrives, so a stamp says when it happened, not when the loop heard of it.

/// A task's named series of time stamps on its loop's clock (nanoseconds). Any thread may add or
/// read; each series keeps its latest `capacity` stamps.
public final class Stamps: Sendable {
    /// How many stamps a series keeps (older ones are dropped, 10% at a time).
    public static let capacity = 200_000

    /// (A pthread mutex, `Locked`: the thread sanitizer does not see the ordering that
    /// `Synchronization.Mutex`'s futex gives, and reported a thread client's stamp and the
    /// history's read of the counts, both under the lock, as a race.)
    private let series = Locked<[String: [UInt64]]>([:])

    /// An empty set of series.
    public init() {}

    /// Adds a stamp to series `name`: a reading of the loop's clock (`EventLoop.now()`, or
    /// `sharedClock.now()` on another thread), so that stamps compare with the loop's times.
    public func add(_ name: String, at nanos: UInt64) {
        series.withLock { s in
            s[name, default: []].append(nanos)
            if s[name]!.count > Self.capacity { s[name]!.removeFirst(Self.capacity / 10) }
        }
    }

    /// A copy of series `name` (empty if it has none), in the order added.
    public func values(_ name: String) -> [UInt64] {
        series.withLock { $0[name] ?? [] }
    }

    /// How many stamps each series holds.
    public var counts: [String: Int] {
        series.withLock { $0.mapValues(\.count) }
    }

    /// Forgets every stamp.
    public func removeAll() {
        series.withLock { $0.removeAll() }
    }
}

/// The names of the stamps the bundled clients add.
public enum Stamp {
    /// A request went out (perf1, request).
    public static let sent = "sent"
    /// A reply came in (perf1, perf2, request).
    public static let replied = "replied"
}

extension Stamps {
    /// The number of stamps of series `name` in the closed interval `from...to`.
    public func count(_ name: String, from: UInt64, to: UInt64) -> Int {
        guard from <= to else { return 0 }
        let v = values(name)
        // Stamps come in time order from one writer, so two binary searches suffice.
        return lowerBound(v, to + 1) - lowerBound(v, from)
    }

    private func lowerBound(_ v: [UInt64], _ x: UInt64) -> Int {
        var (lo, hi) = (0, v.count)
        while lo < hi {
            let mid = (lo + hi) / 2
            if v[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
