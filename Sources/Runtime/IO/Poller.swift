// The seed's `select(recv_wait, send_wait, [])`, behind one interface with three
// backends: epoll (default), poll, and select (the seed's own, limited to FD_SETSIZE).
// The loop tells a backend the interest of each fd it changed since the last poll;
// the backend reports which fds are ready.

/// A poller backend.
public enum PollerKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible, Encodable {
    case epoll
    case poll
    case select
    public var description: String { rawValue }
}

/// One fd the poller found ready. Errors and hang-ups count as both directions, so that
/// the waiting task wakes and meets the error in its recv/send.
@usableFromInline
package struct PollEvent {
    /// Memberwise, for the package's modules.
    package init(fd: Int32, readable: Bool, writable: Bool, hungUp: Bool = false) {
        self.fd = fd
        self.readable = readable
        self.writable = writable
        self.hungUp = hungUp
    }

    package var fd: Int32
    package var readable: Bool
    package var writable: Bool
    /// The peer hung up or the socket failed (end of file or an error is waiting): it
    /// stays readable whatever a read takes.
    package var hungUp = false
}

/// A poller backend (loop thread only).
@usableFromInline
package protocol Poller: AnyObject {
    var kind: PollerKind { get }
    /// Throws if this backend cannot watch `fd` at all (select and FD_SETSIZE).
    func validate(fd: Int32) throws(LoopError)
    /// Sets what to watch on `fd`; both false: stop watching it.
    func update(fd: Int32, read: Bool, write: Bool) throws(SystemCallError)
    /// Waits up to `timeoutNanos` (nil: no limit) and appends ready fds to `events`.
    func poll(timeoutNanos: UInt64?, into events: inout [PollEvent]) throws(SystemCallError)
    /// Whether `registerEdgeTriggered` is supported (the readiness cache is used).
    var isEdgeTriggered: Bool { get }
    /// Watches `fd` in both directions, edge-triggered, until `forget(fd:)`.
    func registerEdgeTriggered(fd: Int32) throws(SystemCallError)
    /// The fd is about to be closed: drop it without a system call on it.
    func forget(fd: Int32)
    func close()
}

extension Poller {
    var isEdgeTriggered: Bool { false }
    func registerEdgeTriggered(fd: Int32) throws(SystemCallError) {
        preconditionFailure("\(kind) is level-triggered")
    }
}

func makePoller(_ kind: PollerKind, wakeFD: Int32) throws(SystemCallError) -> any Poller {
    switch kind {
    case .epoll: return try EpollPoller(wakeFD: wakeFD)
    case .poll: return PollPoller(wakeFD: wakeFD)
    case .select: return SelectPoller(wakeFD: wakeFD)
    }
}

/// Milliseconds for poll(2)/epoll_wait(2), rounded up so a short timer never spins.
func timeoutMilliseconds(_ nanos: UInt64?) -> Int32 {
    guard let nanos else { return -1 }
    let ms = (nanos + 999_999) / 1_000_000
    return ms > UInt64(Int32.max) ? Int32.max : Int32(ms)
}
