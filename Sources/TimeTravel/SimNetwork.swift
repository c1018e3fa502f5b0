// The simulated network (`net sim`, docs/TIME-TRAVEL.md): TCP between sockets of the same
// loop as in-memory byte queues. A socket created while it is on (`AsyncSocket.listen`,
// `connect`, and what `accept` returns) never reaches the kernel: the loop gives it a
// number from `SimNetwork.fdBase` up (2^20, above Linux's default `fs.nr_open`, so no
// real fd has it), answers its recv/send/accept here, and finds it readable or writable
// here at each poll step, in fd order, instead of asking the poller. Readiness is the
// kernel's for a loopback stream socket: readable when bytes, end of file or an error is
// waiting (a listener: a connection to accept); writable while the peer's receive buffer
// has room; a connect completes through send_wait. Nothing here reads the real clock or
// depends on the process: a session of in-loop parts on the virtual clock is a pure
// function of its script.
//
// Faults apply to what is sent after they are set: a one-way delay, a chance a segment is
// lost (TCP sends it again after a retransmission timeout, so it arrives that much late,
// still in order), and resetting a connection. Each shows as a `NetEvent` to observers
// (the trace) and in `queues`.
import Runtime
import DequeModule
import HeapModule
import SystemPackage

/// Faults the simulated network applies to what is sent from the moment they are set.
final class SimNetwork {
    /// The first fd number of a simulated socket (2^20): above `fs.nr_open`'s default, so
    /// the kernel never hands out such a number and the two kinds never meet.
    static let fdBase: Int32 = 1 << 20
    /// Each end's receive buffer: a send takes what fits, the rest waits in send_wait.
    static let defaultBufferSize = 256 * 1024

    final class Endpoint {
        enum State { case listening, connecting, connected }
        let fd: Int32
        var state: State
        var local: SocketAddress
        var peerAddress: SocketAddress?
        var peerFD: Int32?
        /// Bytes arrived and not read yet.
        var inbound = Deque<UInt8>()
        /// Bytes on their way to this end (sent, not arrived).
        var inFlight = 0
        /// When the last segment on its way here arrives: later ones never overtake it.
        var arrivalFloor: UInt64 = 0
        /// The peer shut down its side: once `inbound` is read, recv returns end of file.
        var finArrived = false
        /// This end shut down its sending side (or closed).
        var writeShut = false
        /// The connection was reset or refused: the next call fails with this.
        var failure: Errno?
        // A listener's.
        var backlog = 0
        var pending = Deque<Int32>()

        init(fd: Int32, state: State, local: SocketAddress) {
            self.fd = fd
            self.state = state
            self.local = local
        }
    }

    struct Segment: Comparable {
        enum Payload { case data([UInt8]), fin, syn(client: Int32), established, refused }
        var due: UInt64
        var sequence: UInt64
        var to: Int32
        var payload: Payload
        static func < (a: Segment, b: Segment) -> Bool { (a.due, a.sequence) < (b.due, b.sequence) }
        static func == (a: Segment, b: Segment) -> Bool { a.sequence == b.sequence }
    }

    private(set) var endpoints: [Int32: Endpoint] = [:]
    private var listeners: [UInt16: Int32] = [:]
    private var nextFD = SimNetwork.fdBase
    private var nextListenPort: UInt16 = 30000
    private var nextClientPort: UInt16 = 50000
    private var inFlight = Heap<Segment>()
    private var sequence: UInt64 = 0
    private var random = SplitMix64(state: 1)
    var faults = NetFaults() {
        didSet { if faults.seed != oldValue.seed { random = SplitMix64(state: faults.seed) } }
    }
    var bufferSize = SimNetwork.defaultBufferSize
    /// Events for observers, taken by the loop after each call.
    var events: [NetEvent] = []
    // Totals, for `queues`.
    private(set) var segmentsLost = 0
    private(set) var resets = 0

    static func owns(_ fd: Int32) -> Bool { fd >= fdBase }

    /// Whether a simulated socket listens on `port`.
    func listens(on port: UInt16) -> Bool { listeners[port] != nil }

    private func newFD() -> Int32 {
        defer { nextFD += 1 }
        return nextFD
    }

    private func error(_ e: Errno, _ operation: String, _ address: SocketAddress?, _ detail: String? = nil) -> SocketError {
        SocketError(.system(e), operation: operation, address: address?.description, detail: detail)
    }

    // MARK: Sockets

    /// Listens on `address` (port 0: the next free simulated port, from 30000).
    func listen(_ address: SocketAddress, backlog: Int32) throws(SocketError) -> (fd: Int32, bound: SocketAddress) {
        var bound = address
        if bound.port == 0 {
            while listeners[nextListenPort] != nil { nextListenPort &+= 1 }
            bound.port = nextListenPort
            nextListenPort &+= 1
        } else if listeners[bound.port] != nil {
            throw error(.addressInUse, "bind", address, "address already in use on the simulated network (EADDRINUSE)")
        }
        let fd = newFD()
        let e = Endpoint(fd: fd, state: .listening, local: bound)
        e.backlog = Int(max(1, backlog))
        endpoints[fd] = e
        listeners[bound.port] = fd
        return (fd, bound)
    }

    /// Starts connecting to `address`: the new socket waits in send_wait until it is
    /// established (at once without a delay). No listener: refused at once.
    func connect(to address: SocketAddress, now: UInt64) throws(SocketError) -> (fd: Int32, local: SocketAddress) {
        guard listeners[address.port] != nil else {
            throw error(.connectionRefused, "connect", address,
                        "connection refused: nothing listens there on the simulated network ('net real' reaches real servers) (ECONNREFUSED)")
        }
        let fd = newFD()
        let local = try! SocketAddress(port: nextClientPort)
        nextClientPort = nextClientPort == 65535 ? 50000 : nextClientPort + 1
        let e = Endpoint(fd: fd, state: .connecting, local: local)
        e.peerAddress = address
        endpoints[fd] = e
        send(Segment(due: now &+ faults.delayNanos, sequence: 0, to: listeners[address.port]!, payload: .syn(client: fd)), now: now)
        return (fd, local)
    }

    /// Takes a connection off a listener's queue: nil when there is none.
    func accept(_ fd: Int32) -> (fd: Int32, local: SocketAddress, peer: SocketAddress?)? {
        guard let l = endpoints[fd], l.state == .listening, let c = l.pending.popFirst(), let e = endpoints[c] else { return nil }
        return (c, e.local, e.peerAddress)
    }

    /// Why a connect failed, once it is no longer in progress (nil: established).
    func connectFailure(_ fd: Int32) -> Errno? {
        endpoints[fd]?.failure
    }

    /// Receives up to `max` bytes: nil if none are there, empty at end of file.
    func recv(_ fd: Int32, max: Int, address: SocketAddress?) throws(SocketError) -> [UInt8]? {
        guard let e = endpoints[fd] else { throw SocketError(.closed, operation: "recv") }
        if let f = e.failure { throw error(f, "recv", address) }
        if e.inbound.isEmpty { return e.finArrived ? [] : nil }
        let n = min(max, e.inbound.count)
        let bytes = Array(e.inbound.prefix(n))
        e.inbound.removeFirst(n)
        return bytes
    }

    /// Sends what fits in the peer's receive buffer: the count taken, nil if none fits.
    func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, address: SocketAddress?, now: UInt64) throws(SocketError) -> Int? {
        guard let e = endpoints[fd] else { throw SocketError(.closed, operation: "send") }
        if let f = e.failure { throw error(f, "send", address) }
        if e.writeShut { throw error(.brokenPipe, "send", address) }
        guard let p = e.peerFD, let peer = endpoints[p] else {
            // The peer closed: a real peer answers with a reset.
            e.failure = .connectionReset
            throw error(.connectionReset, "send", address)
        }
        let room = room(in: peer)
        guard room > 0 else { return nil }
        let n = min(room, bytes.count)
        var due = now &+ faults.delayNanos
        if faults.dropRate > 0, Double(random.next() >> 11) / Double(1 << 53) < faults.dropRate {
            due &+= faults.retransmitNanos
            segmentsLost += 1
            events.append(NetEvent(kind: .dropped(bytes: n, lateNanos: faults.retransmitNanos), fd: fd, peer: p, at: now))
        }
        send(Segment(due: due, sequence: 0, to: p, payload: .data(Array(bytes.prefix(n)))), now: now)
        return n
    }

    /// Shuts down `fd`'s sending side: the peer reads end of file after what was sent.
    func shutdownWrite(_ fd: Int32, now: UInt64) {
        guard let e = endpoints[fd], !e.writeShut else { return }
        e.writeShut = true
        if let p = e.peerFD, endpoints[p] != nil {
            send(Segment(due: now &+ faults.delayNanos, sequence: 0, to: p, payload: .fin), now: now)
        }
    }

    /// Closes `fd`: the peer reads end of file; a listener's unaccepted connections are reset.
    func close(_ fd: Int32, now: UInt64) {
        guard let e = endpoints[fd] else { return }
        shutdownWrite(fd, now: now)
        if e.state == .listening {
            if listeners[e.local.port] == fd { listeners[e.local.port] = nil }
            for c in e.pending { reset(c, now: now, event: false) }
        }
        if let p = e.peerFD { endpoints[p]?.peerFD = nil }
        endpoints[fd] = nil
    }

    /// Resets the connection `fd` belongs to: both ends' next calls fail with ECONNRESET.
    /// - Returns: false if `fd` is not a connected simulated socket.
    @discardableResult
    func reset(_ fd: Int32, now: UInt64, event: Bool = true) -> Bool {
        guard let e = endpoints[fd], e.state != .listening else { return false }
        let peer = e.peerFD
        for x in [fd, peer].compactMap({ $0 }) {
            guard let end = endpoints[x] else { continue }
            end.failure = .connectionReset
            end.inbound.removeAll()
            end.inFlight = 0
            end.peerFD = nil
        }
        // What was on its way is gone with the connection.
        let kept = inFlight.unordered.filter { $0.to != fd && $0.to != peer }
        inFlight = Heap(kept)
        resets += 1
        if event { events.append(NetEvent(kind: .reset, fd: fd, peer: peer, at: now)) }
        return true
    }

    // MARK: Readiness

    /// Whether a call on `fd` in that direction would not block (or would fail).
    func isReady(_ fd: Int32, write: Bool) -> Bool {
        guard let e = endpoints[fd] else { return true }  // closed: the call meets that
        if e.failure != nil { return true }
        switch e.state {
        case .listening: return !write && !e.pending.isEmpty
        case .connecting: return false
        case .connected:
            if !write { return !e.inbound.isEmpty || e.finArrived }
            if e.writeShut { return true }
            guard let p = e.peerFD, let peer = endpoints[p] else { return true }
            return room(in: peer) > 0
        }
    }

    /// What the receive buffer of `end` can still take: bytes neither read nor on their way.
    private func room(in end: Endpoint) -> Int {
        bufferSize - end.inbound.count - end.inFlight
    }

    /// The earliest time a segment on its way arrives.
    var nextArrival: UInt64? { inFlight.min?.due }

    /// Delivers every segment due by `now`, in order.
    func deliver(upTo now: UInt64) {
        while let s = inFlight.min, s.due <= now {
            _ = inFlight.removeMin()
            arrive(s, now: now)
        }
    }

    private func send(_ s: Segment, now: UInt64) {
        var s = s
        sequence += 1
        s.sequence = sequence
        let target = endpoints[s.to]
        if let target, case .data(let bytes) = s.payload { target.inFlight += bytes.count }
        // In order: nothing overtakes what was sent before it to the same end.
        if let target {
            s.due = max(s.due, target.arrivalFloor)
            target.arrivalFloor = s.due
        }
        if s.due <= now { arrive(s, now: now) } else { inFlight.insert(s) }
    }

    private func arrive(_ s: Segment, now: UInt64) {
        guard let e = endpoints[s.to] else {
            // Sent to an end that has closed: a connect meets a refusal.
            if case .syn(let client) = s.payload { refuse(client, now: now) }
            return
        }
        switch s.payload {
        case .data(let bytes):
            e.inFlight -= bytes.count
            guard e.failure == nil else { return }
            e.inbound.append(contentsOf: bytes)
        case .fin:
            e.finArrived = true
        case .syn(let client):
            guard let c = endpoints[client], c.state == .connecting else { return }
            guard e.state == .listening, listeners[e.local.port] == e.fd else { refuse(client, now: now); return }
            if e.pending.count >= e.backlog {
                // Linux drops a SYN the accept queue has no room for; the client sends it again.
                let late: UInt64 = 1_000_000_000
                events.append(NetEvent(kind: .synDropped(lateNanos: late), fd: client, peer: e.fd, at: now))
                var again = s
                again.due = now &+ late
                sequence += 1
                again.sequence = sequence
                inFlight.insert(again)
                return
            }
            let server = Endpoint(fd: newFD(), state: .connected, local: e.local)
            server.peerAddress = c.local
            server.peerFD = client
            c.peerFD = server.fd
            endpoints[server.fd] = server
            e.pending.append(server.fd)
            send(Segment(due: now &+ faults.delayNanos, sequence: 0, to: client, payload: .established), now: now)
        case .established:
            if e.state == .connecting { e.state = .connected }
        case .refused:
            e.failure = .connectionRefused
        }
    }

    private func refuse(_ client: Int32, now: UInt64) {
        send(Segment(due: now &+ faults.delayNanos, sequence: 0, to: client, payload: .refused), now: now)
    }

    // MARK: What `queues` shows

    /// `"4 sockets (1 listening, 3 connected), 2 segments (120 B) on their way"` and the faults.
    var summary: String {
        let listening = endpoints.values.filter { $0.state == .listening }.count
        let connecting = endpoints.values.filter { $0.state == .connecting }.count
        var parts = ["\(endpoints.count) socket\(endpoints.count == 1 ? "" : "s") (\(listening) listening, \(endpoints.count - listening - connecting) connected\(connecting > 0 ? ", \(connecting) connecting" : ""))"]
        if !inFlight.isEmpty {
            let bytes = inFlight.unordered.reduce(0) { n, s in
                if case .data(let b) = s.payload { return n + b.count }
                return n
            }
            let n = inFlight.count
            parts.append("\(n) segment\(n == 1 ? "" : "s")\(bytes > 0 ? " (\(bytes) B)" : "") on \(n == 1 ? "its" : "their") way")
        }
        parts.append("faults: \(faults)")
        if segmentsLost > 0 || resets > 0 { parts.append("\(segmentsLost) lost, \(resets) reset") }
        return parts.joined(separator: "; ")
    }
}
