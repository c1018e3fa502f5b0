// What the simulated network (SimNetwork.swift) is told: the faults it applies to what is
// sent. (What it tells observers, `NetEvent`, is the core's: Runtime/Loop/NetEvent.swift.)
import Runtime
import SystemPackage

public struct NetFaults: Sendable, Hashable, CustomStringConvertible {
    /// One-way delay of every segment (and of a connection's set-up).
    public var delayNanos: UInt64 = 0
    /// The chance, 0…1, that a data segment is lost and sent again.
    public var dropRate: Double = 0
    /// How late a lost segment arrives (Linux's minimum retransmission timeout, 200 ms).
    public var retransmitNanos: UInt64 = 200_000_000
    /// The seed of the draws that decide which segments are lost.
    public var seed: UInt64 = 1

    public init() {}

    /// Whether any fault is set.
    public var isEmpty: Bool { delayNanos == 0 && dropRate == 0 }

    /// `"delay 5.0 ms, drop 10% (retransmit after 200 ms, seed 1)"`, or `"none"`.
    public var description: String {
        var parts: [String] = []
        if delayNanos > 0 { parts.append("delay \(DurationText.format(.nanoseconds(Int64(delayNanos))))") }
        if dropRate > 0 {
            let pct = (dropRate * 1000).rounded() / 10
            let pctText = pct == pct.rounded() ? String(Int(pct)) : String(pct)
            parts.append("drop \(pctText)% (retransmit after \(DurationText.format(.nanoseconds(Int64(retransmitNanos)))), seed \(seed))")
        }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}
