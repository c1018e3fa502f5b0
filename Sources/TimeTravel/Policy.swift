// Which ready task a step runs: the seed's `tasks.popleft()` (fifo), the newest (lifo), or
// one drawn by a seeded generator (random), to shake out ordering bugs. Only the choice
// changes: the ready queue keeps its order, and so does everything else.
import Runtime
import DequeModule

/// How a step chooses the ready task it runs.
public enum SchedulingPolicy: Sendable, Hashable, CustomStringConvertible {
    /// The head of the ready queue (the seed's `popleft`). The default.
    case fifo
    /// The tail: the task made ready last.
    case lifo
    /// A task drawn from the whole queue by SplitMix64 seeded with `seed`: one seed, one
    /// sequence of choices.
    case random(seed: UInt64)

    /// `fifo`, `lifo`, `random --seed 42`.
    public var description: String {
        switch self {
        case .fifo: return "fifo"
        case .lifo: return "lifo"
        case .random(let seed): return "random --seed \(seed)"
        }
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and the same numbers on every
/// platform for a seed.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in 0..<n (n > 0), without modulo bias worth speaking of for queue lengths.
    mutating func below(_ n: Int) -> Int {
        Int(truncatingIfNeeded: next().multipliedFullWidth(by: UInt64(n)).high)
    }
}

extension EventLoop {
    /// How steps choose the ready task to run (default `.fifo`, the seed's). May change
    /// between any two steps; setting `.random(seed:)` restarts that seed's sequence.
    public var policy: SchedulingPolicy {
        get {
            assertOnLoopThread()
            return schedulingPolicy
        }
        set {
            assertOnLoopThread()
            if newValue == .fifo && timeMachine == nil { return }
            schedulingPolicy = newValue
            if case .random(let seed) = newValue { machine.policyRandom = SplitMix64(state: seed) }
        }
    }

    /// Takes the entry the policy chooses out of the ready queue (a step's pick while the
    /// policy is not FIFO).
    @inline(never)
    func popByPolicy() -> ReadyEntry? {
        guard !ready.isEmpty else { return nil }
        switch schedulingPolicy {
        case .fifo: return ready.popFirst()
        case .lifo: return ready.popLast()
        case .random:
            let i = machine.policyRandom.below(ready.count)
            return ready.remove(at: ready.index(ready.startIndex, offsetBy: i))
        }
    }
}
