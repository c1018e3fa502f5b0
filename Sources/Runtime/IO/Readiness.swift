// The readiness cache: what the loop knows of its own sockets between polls. Under epoll
// an AsyncSocket's fd is registered once, edge-triggered, for both directions; each edge
// the poller reports marks the fd readable or writable here, and the mark stays until a
// call on the fd says otherwise (EAGAIN, a short read, a partial send). A task that waits
// in recv_wait or send_wait on an fd marked ready goes through that wait as the seed's
// does, but the loop moves it back to ready at once instead of asking the poller: the
// wait shows in every step, and costs no system call. Level-triggered backends (poll,
// select) and fds the loop does not own (`readable(_:)` / `writable(_:)` on a raw fd)
// keep the seed's way: interest per direction, synced before each poll.
import Synchronization

/// Per-fd readiness of the loop's own sockets (loop thread only).
struct ReadinessCache {
    static let registered: UInt8 = 1
    static let readable: UInt8 = 2
    static let writable: UInt8 = 4
    /// The peer hung up (or an error is pending): end of file or the error is always
    /// there to read, so a short read does not make it unreadable.
    static let hungUp: UInt8 = 8

    /// By fd: the socket's serial (0: none) and its bits. A socket closed behind the
    /// loop's back leaves a stale entry, which the next socket on that fd number does not
    /// match: it registers anew.
    private var entries: [(serial: UInt32, bits: UInt8)] = []

    /// The bits of `fd` if it belongs to the socket `serial`, else nil.
    @inline(__always)
    func bits(_ fd: Int32, serial: UInt32) -> UInt8? {
        let i = Int(fd)
        guard i < entries.count, entries[i].serial == serial else { return nil }
        return entries[i].bits
    }

    /// Whether `fd` is registered edge-triggered (by any socket).
    @inline(__always)
    func isRegistered(_ fd: Int32) -> Bool {
        let i = Int(fd)
        return i < entries.count && entries[i].bits & Self.registered != 0
    }

    mutating func set(_ fd: Int32, serial: UInt32, bits: UInt8) {
        let i = Int(fd)
        if i >= entries.count {
            entries.append(contentsOf: repeatElement((serial: UInt32(0), bits: UInt8(0)), count: Swift.max(i + 1 - entries.count, entries.count)))
        }
        entries[i] = (serial, bits)
    }

    /// An edge from the poller: `fd` may be read from / written to now.
    @inline(__always)
    mutating func mark(_ event: PollEvent) {
        let i = Int(event.fd)
        guard i < entries.count, entries[i].bits & Self.registered != 0 else { return }
        if event.readable { entries[i].bits |= Self.readable }
        if event.writable { entries[i].bits |= Self.writable }
        if event.hungUp { entries[i].bits |= Self.hungUp }
    }

    /// A call on `fd` found it not ready (EAGAIN, a short read, a partial send). A socket
    /// whose peer hung up stays readable.
    @inline(__always)
    mutating func clear(_ fd: Int32, serial: UInt32, _ bit: UInt8) {
        let i = Int(fd)
        guard i < entries.count, entries[i].serial == serial else { return }
        if bit == Self.readable && entries[i].bits & Self.hungUp != 0 { return }
        entries[i].bits &= ~bit
    }

    /// The fd is being closed.
    mutating func forget(_ fd: Int32) {
        let i = Int(fd)
        if i >= 0 && i < entries.count { entries[i] = (0, 0) }
    }

    /// A new poller: nothing is registered with it yet.
    mutating func reset() {
        entries.removeAll()
    }
}

/// Serial numbers of sockets, so that the cache never confuses two sockets that had the
/// same fd number one after the other.
let socketSerials = Atomic<UInt32>(0)

func nextSocketSerial() -> UInt32 {
    var s = socketSerials.add(1, ordering: .relaxed).newValue
    if s == 0 { s = socketSerials.add(1, ordering: .relaxed).newValue }
    return s
}

extension EventLoop {
    /// Suspends the running task in recv_wait (`write` false) or send_wait on a socket of
    /// the loop's own. Under an edge-triggered poller the fd is registered at its first
    /// wait; when the cache knows it ready, the task goes through the wait and straight
    /// back to ready (woken `stillReady`), with no poll.
    @inline(__always)
    func socketWait(_ fd: Int32, serial: UInt32, write: Bool, label: StaticString, location: CodeLocation) async throws {
        guard fd >= 0 else { throw LoopError.badDescriptor(fd) }
        let reason: StoredWait.Reason = write ? .send(fd) : .recv(fd)
        if let source = wakeSource, source.owns(fd) {
            // A wake source's socket (the simulated network's): it knows whether it is ready.
            try await suspend(as: reason, label: label, location: location, stillReady: source.isReady(fd, write: write))
            return
        }
        if edgeTriggered {
            let bits = try readinessBits(fd, serial: serial)
            if bits & (write ? ReadinessCache.writable : ReadinessCache.readable) != 0 {
                try await suspend(as: reason, label: label, location: location, stillReady: true)
                return
            }
        }
        try await suspend(as: reason, label: label, location: location)
    }

    /// The cache's bits for a socket, registering its fd first if it is new.
    @inline(__always)
    func readinessBits(_ fd: Int32, serial: UInt32) throws(SystemCallError) -> UInt8 {
        if let bits = readiness.bits(fd, serial: serial) { return bits }
        if kernelFDs { try poller.registerEdgeTriggered(fd: fd) }
        readiness.set(fd, serial: serial, bits: ReadinessCache.registered)
        return ReadinessCache.registered
    }

    /// A call on a socket of the loop's found it not ready in that direction.
    @inline(__always)
    package func notReady(_ fd: Int32, serial: UInt32, write: Bool) {
        if edgeTriggered { readiness.clear(fd, serial: serial, write ? ReadinessCache.writable : ReadinessCache.readable) }
    }
}

extension EventLoop {
    /// Lends a scratch buffer of at least `size` bytes to receive into (loop thread only):
    /// one 64 KiB buffer for the loop's life, so a recv allocates only its result.
    func withReceiveBuffer<T, E: Error>(
        atLeast size: Int, _ body: (UnsafeMutableRawBufferPointer) throws(E) -> T
    ) throws(E) -> T {
        if size > Self.receiveBufferSize {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            defer { buffer.deallocate() }
            return try body(buffer)
        }
        if receiveBuffer == nil {
            receiveBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.receiveBufferSize, alignment: 16)
        }
        return try body(receiveBuffer.unsafelyUnwrapped)
    }

    static let receiveBufferSize = 65536
}
