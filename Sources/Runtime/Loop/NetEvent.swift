// What a wake source's network tells observers (the simulated network's lost segments,
// retried connects and resets: TimeTravel/SimNetwork.swift), as `LoopEvent.net`.

/// Something the simulated network did that no socket call shows: a fault taking effect.
public struct NetEvent: Sendable, Hashable, CustomStringConvertible {
    /// Memberwise, for the package's modules.
    package init(kind: Kind, fd: Int32, peer: Int32? = nil, at: UInt64) {
        self.kind = kind
        self.fd = fd
        self.peer = peer
        self.at = at
    }

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
