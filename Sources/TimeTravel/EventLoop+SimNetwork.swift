// The loop's side of the simulated network (SimNetwork.swift): turning it on and off,
// resetting a connection, and delivering what arrived at each poll step.
import Runtime
import SystemPackage

extension EventLoop {
    /// Whether new sockets are simulated (`net sim`): see SimNetwork.swift.
    public var isNetworkSimulated: Bool {
        assertOnLoopThread()
        return simActive
    }

    /// Makes the sockets created from now on simulated (`true`) or real. Sockets already
    /// made keep their kind.
    public func setNetworkSimulated(_ on: Bool) {
        assertOnLoopThread()
        if on && sim == nil { sim = SimNetwork() }
        simActive = on
    }

    /// The faults of the simulated network (see `NetFaults`); settable while it exists.
    public var networkFaults: NetFaults {
        get { sim?.faults ?? NetFaults() }
        set {
            assertOnLoopThread()
            if sim == nil { sim = SimNetwork() }
            sim!.faults = newValue
        }
    }

    /// Resets the simulated connection `fd` belongs to (either end): both ends' next
    /// calls fail with ECONNRESET, their waiting tasks wake at the next poll.
    /// - Returns: false if `fd` is no connected simulated socket.
    @discardableResult
    public func resetSimulatedConnection(_ fd: Int32) -> Bool {
        assertOnLoopThread()
        guard let sim, sim.reset(fd, now: now()) else { return false }
        flushNetEvents()
        return true
    }

    /// One line on the simulated network, or nil if it was never used.
    public var networkSummary: String? {
        guard let sim else { return nil }
        return "\(simActive ? "simulated" : "real (simulated sockets left: \(sim.endpoints.count))"): \(sim.summary)"
    }

    /// Whether a socket of the simulated network listens on `address`'s port (only
    /// in-loop clients made while `net sim` is on can reach it).
    public func isSimulatedListener(_ address: SocketAddress) -> Bool {
        assertOnLoopThread()
        return sim?.listens(on: address.port) ?? false
    }

    /// Hands the simulated network's events to observers.
    func flushNetEvents() {
        guard let sim, !sim.events.isEmpty else { return }
        let events = sim.events
        sim.events.removeAll()
        if watched { for e in events { emit(.net(e)) } }
    }
}

/// The simulated network is the loop's wake source: its sockets are not the kernel's, and
/// at each poll step it delivers what has arrived and wakes who can go on.
extension SimNetwork: WakeSource {
    func owns(_ fd: Int32) -> Bool { Self.owns(fd) }

    /// Delivers what has arrived by now and wakes, in fd order, every task waiting on a
    /// simulated socket that is now ready.
    func wakeReady(_ loop: EventLoop) {
        deliver(upTo: loop.now())
        loop.flushNetEvents()
        var fds: [Int32] = []
        for fd in loop.queues.recv.largeFDs where owns(fd) { fds.append(fd) }
        for fd in loop.queues.send.largeFDs where owns(fd) { fds.append(fd) }
        guard !fds.isEmpty else { return }
        fds.sort()
        var last: Int32 = -1
        for fd in fds where fd != last {
            last = fd
            if let r = loop.queues.recv[fd], isReady(fd, write: false) { loop.wake(r, cause: .readable(fd: fd)) }
            if let r = loop.queues.send[fd], isReady(fd, write: true) { loop.wake(r, cause: .writable(fd: fd)) }
        }
    }

    /// Whether a task waits on a socket that is ready, or a segment is on its way.
    func hasWork(_ loop: EventLoop) -> Bool {
        if nextArrival != nil { return true }
        for fd in loop.queues.recv.largeFDs where owns(fd) && isReady(fd, write: false) { return true }
        for fd in loop.queues.send.largeFDs where owns(fd) && isReady(fd, write: true) { return true }
        return false
    }

    func close(_ fd: Int32, loop: EventLoop) { close(fd, now: loop.now()) }
}

extension AsyncSocket {
    /// Whether the socket lives on the loop's simulated network (`net sim`), not in the kernel.
    public var isSimulated: Bool { backend.onSimulatedNetwork }
}
