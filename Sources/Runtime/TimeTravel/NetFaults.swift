// What the simulated network (SimNetwork.swift) is told and tells: the faults it applies
// to what is sent, and the events it shows observers (the trace) and `queues`.
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

/// Something the simulated network did that no socket call shows: a fault taking effect.
public struct NetEvent: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// A data segment of `bytes` bytes was lost; it arrives `lateNanos` later than it would have.
        case dropped(bytes: Int, lateNanos: UInt64)
        /// A connection attempt found the listener's backlog full: its SYN is sent again later.
        case synDropped(lateNanos: UInt64)
        /// The connection was reset (both ends' next calls fail with ECONNRESET).
        case reset
    }
    public var kind: Kind
    /// The end that sent (or, for a reset, the end named).
    public var fd: Int32
    /// The other end, if any.
    public var peer: Int32?
    /// When, on the loop's clock.
    public var at: UInt64

    public var description: String {
        let to = peer.map { " → fd \($0)" } ?? ""
        switch kind {
        case .dropped(let bytes, let late):
            return "net: lost \(bytes) byte\(bytes == 1 ? "" : "s") fd \(fd)\(to), sent again (\(DurationText.format(.nanoseconds(Int64(late)))) late)"
        case .synDropped(let late):
            return "net: backlog full, connect from fd \(fd) retried in \(DurationText.format(.nanoseconds(Int64(late))))"
        case .reset:
            return "net: reset fd \(fd)\(to)"
        }
    }
}

/// The simulated network of one loop (loop thread only).
