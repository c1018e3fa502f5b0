// The loop's side of the simulated network (SimNetwork.swift): turning it on and off,
// resetting a connection, and delivering what arrived at each poll step.
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

    /// Whether `fd` is a socket of the simulated network.
    @inline(__always)
    func isSimulated(_ fd: Int32) -> Bool { fd >= SimNetwork.fdBase && sim != nil }

    /// Hands the simulated network's events to observers.
    func flushNetEvents() {
        guard let sim, !sim.events.isEmpty else { return }
        let events = sim.events
        sim.events.removeAll()
        if !observers.isEmpty { for e in events { notify(.net(e)) } }
    }

    /// At a poll step: delivers what has arrived by now and wakes, in fd order, every task
    /// waiting on a simulated socket that is now ready.
    func wakeSimulated() {
        guard let sim else { return }
        sim.deliver(upTo: now())
        flushNetEvents()
        var fds: [Int32] = []
        for fd in queues.recv.largeFDs where fd >= SimNetwork.fdBase { fds.append(fd) }
        for fd in queues.send.largeFDs where fd >= SimNetwork.fdBase { fds.append(fd) }
        guard !fds.isEmpty else { return }
        fds.sort()
        var last: Int32 = -1
        for fd in fds where fd != last {
            last = fd
            if let r = queues.recv[fd], sim.isReady(fd, write: false) { wake(r, cause: .readable(fd: fd)) }
            if let r = queues.send[fd], sim.isReady(fd, write: true) { wake(r, cause: .writable(fd: fd)) }
        }
    }

    /// Whether the simulated network has a task to wake or a segment on its way.
    var simHasWork: Bool {
        guard let sim else { return false }
        if sim.nextArrival != nil { return true }
        for fd in queues.recv.largeFDs where fd >= SimNetwork.fdBase && sim.isReady(fd, write: false) { return true }
        for fd in queues.send.largeFDs where fd >= SimNetwork.fdBase && sim.isReady(fd, write: true) { return true }
        return false
    }
}
