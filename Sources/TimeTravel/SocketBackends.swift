// The socket backends of time travel (the seam is Runtime/Loop/Seams.swift): the kernel with
// every answer recorded in the input recording, a replay answering from the recording, and the
// simulated network. Which one a socket gets is decided once, when it is made
// (`timeTravelSocketBackend(simulatable:)`, the driver's answer to the loop); its calls never ask again.
import Runtime
import Glibc
import SystemPackage

extension EventLoop {
    /// The backend for a socket made now: the simulated network's while `net sim` is on
    /// (for listeners and connections: `simulatable`), a replay's while the loop replays,
    /// the recording kernel's while it records its inputs, else the kernel's.
    func timeTravelSocketBackend(simulatable: Bool) -> any SocketBackend {
        if simulatable && simActive, let sim { return SimulatedSockets(sim) }
        if isReplaying { return ReplayingSockets.shared }
        if inputRecording != nil { return RecordingSockets.shared }
        return KernelSockets.shared
    }

    /// A connected pair of Unix stream sockets, from the recording in a replay, recorded
    /// while recording.
    func inputSocketPair() throws(SystemCallError) -> (Int32, Int32) {
        if isReplaying {
            guard case .pair(let a, let b)? = replayInput("socketpair", { if case .pair = $0 { return true } else { return false } }) else {
                throw SystemCallError("socketpair (replay diverged)", errno: .ioError)
            }
            return (a, b)
        }
        let (a, b) = try KernelSockets.shared.pair()
        if inputRecording != nil { recordInput(.pair(a, b)) }
        return (a, b)
    }
}

/// The kernel's answers, each recorded in the loop's input recording as it is given.
final class RecordingSockets: SocketBackend {
    static let shared = RecordingSockets()
    private let kernel = KernelSockets.shared

    var onSimulatedNetwork: Bool { false }

    func listen(_ address: SocketAddress, backlog: Int32, loop: EventLoop) throws(SocketError) -> (fd: Int32, bound: SocketAddress) {
        do {
            let (fd, bound) = try kernel.listen(address, backlog: backlog, loop: loop)
            loop.recordInput(.listen(fd: fd, address: bound.description))
            return (fd, bound)
        } catch {
            if let e = error.errno { loop.recordInput(.failed(call: error.operation, fd: -1, errno: e.rawValue)) }
            throw error
        }
    }

    func accept(_ fd: Int32, loop: EventLoop) throws(SocketError) -> AcceptAttempt {
        let attempt = try kernel.accept(fd, loop: loop)
        switch attempt {
        case let .connection(client, local, peer):
            loop.recordInput(.accept(fd: fd, client: client, peer: peer?.description, local: local?.description))
        case .failed(let e):
            loop.recordInput(.accept(fd: fd, client: -e, peer: nil, local: nil))
        }
        return attempt
    }

    func connect(to address: SocketAddress, loop: EventLoop) throws(SocketError) -> (fd: Int32, errno: Int32, local: SocketAddress?) {
        do {
            let (fd, e, local) = try kernel.connect(to: address, loop: loop)
            loop.recordInput(.connect(fd: fd, errno: e))
            return (fd, e, local)
        } catch {
            if let e = error.errno { loop.recordInput(.failed(call: error.operation, fd: -1, errno: e.rawValue)) }
            throw error
        }
    }

    func connectResult(_ fd: Int32, loop: EventLoop) throws(SocketError) -> Int32 {
        let err = try kernel.connectResult(fd, loop: loop)
        loop.recordInput(.connected(fd: fd, errno: err))
        return err
    }

    func connected(_ fd: Int32) { kernel.connected(fd) }

    func recv(_ socket: AsyncSocket, max: Int) throws(SocketError) -> [UInt8]? {
        let loop = socket.loop, fd = socket.fd
        do {
            let bytes = try kernel.recv(socket, max: max)
            loop.recordInput(.recv(fd: fd, bytes: bytes))
            return bytes
        } catch {
            if let e = error.errno { loop.recordInput(.failed(call: error.operation, fd: fd, errno: e.rawValue)) }
            throw error
        }
    }

    func send(_ socket: AsyncSocket, _ bytes: UnsafeRawBufferPointer) throws(SocketError) -> Int? {
        let loop = socket.loop, fd = socket.fd
        do {
            let sent = try kernel.send(socket, bytes)
            loop.recordInput(.send(fd: fd, count: sent))
            return sent
        } catch {
            if let e = error.errno { loop.recordInput(.failed(call: error.operation, fd: fd, errno: e.rawValue)) }
            throw error
        }
    }

    func shutdownWrite(_ fd: Int32, loop: EventLoop) { kernel.shutdownWrite(fd, loop: loop) }
    func closeOffLoop(_ fd: Int32) { kernel.closeOffLoop(fd) }
}

/// A replay's sockets: no fd of this process; every answer is the recording's next input.
final class ReplayingSockets: SocketBackend {
    static let shared = ReplayingSockets()

    var onSimulatedNetwork: Bool { false }

    func listen(_ address: SocketAddress, backlog: Int32, loop: EventLoop) throws(SocketError) -> (fd: Int32, bound: SocketAddress) {
        switch loop.replayInput("listen on \(address)", { input in
            switch input {
            case .listen: return true
            case .failed(let call, _, _): return ["socket", "setsockopt", "bind", "listen", "getsockname"].contains(call)
            default: return false
            }
        }) {
        case .listen(let fd, let bound)?:
            return (fd, try SocketAddress(parsing: bound))
        case .failed(let call, _, let e)?:
            throw SocketError(.system(Errno(rawValue: e)), operation: call, address: address.description)
        default:
            throw loop.replayFailure("listen")
        }
    }

    func accept(_ fd: Int32, loop: EventLoop) throws(SocketError) -> AcceptAttempt {
        guard case .accept(_, let client, let peer, let local)? = loop.replayInput(
            "accept on fd \(fd)", fd: fd, { if case .accept = $0 { return true } else { return false } }) else {
            throw loop.replayFailure("accept")
        }
        guard client >= 0 else { return .failed(errno: -client) }
        return .connection(fd: client, local: local.flatMap { try? SocketAddress(parsing: $0) },
                           peer: peer.flatMap { try? SocketAddress(parsing: $0) })
    }

    func connect(to address: SocketAddress, loop: EventLoop) throws(SocketError) -> (fd: Int32, errno: Int32, local: SocketAddress?) {
        switch loop.replayInput("connect to \(address)", { input in
            if case .connect = input { return true }
            if case .failed("socket", _, _) = input { return true }
            return false
        }) {
        case .connect(let fd, let e)?: return (fd, e, nil)
        case .failed(let call, _, let e)?: throw SocketError(.system(Errno(rawValue: e)), operation: call, address: address.description)
        default: throw loop.replayFailure("connect")
        }
    }

    func connectResult(_ fd: Int32, loop: EventLoop) throws(SocketError) -> Int32 {
        guard case .connected(_, let recorded)? = loop.replayInput(
            "connect's result on fd \(fd)", fd: fd, { if case .connected = $0 { return true } else { return false } }) else {
            throw loop.replayFailure("connect")
        }
        return recorded
    }

    func connected(_ fd: Int32) {}

    func recv(_ socket: AsyncSocket, max: Int) throws(SocketError) -> [UInt8]? {
        guard case .recv(_, let bytes) = try answer("recv", socket, { if case .recv = $0 { true } else { false } }) else {
            throw socket.loop.replayFailure("recv")
        }
        if let bytes, bytes.isEmpty || bytes.count == max { return bytes }
        socket.loop.notReady(socket.fd, serial: socket.serial, write: false)
        return bytes
    }

    func send(_ socket: AsyncSocket, _ bytes: UnsafeRawBufferPointer) throws(SocketError) -> Int? {
        guard case .send(_, let count) = try answer("send", socket, { if case .send = $0 { true } else { false } }) else {
            throw socket.loop.replayFailure("send")
        }
        return count
    }

    func shutdownWrite(_ fd: Int32, loop: EventLoop) {}
    func closeOffLoop(_ fd: Int32) {}

    /// The recording's answer to `call` on `socket` — the input `matches` accepts, or the
    /// failure recorded for the call, thrown as it was.
    private func answer(_ call: String, _ socket: AsyncSocket, _ matches: (LoopInput) -> Bool) throws(SocketError) -> LoopInput {
        let loop = socket.loop, fd = socket.fd
        let input = loop.replayInput("\(call) fd \(fd)", fd: fd) { input in
            if case .failed(let c, _, _) = input, c == call { return true }
            return matches(input)
        }
        switch input {
        case .failed(let c, _, let e)?:
            throw SocketError(.system(Errno(rawValue: e)), operation: c, address: socket.peerAddress?.description)
        case let input?:
            return input
        case nil:
            throw loop.replayFailure(call)
        }
    }
}

/// Sockets of the loop's simulated network (`net sim`, SimNetwork.swift).
final class SimulatedSockets: SocketBackend, @unchecked Sendable {
    private let sim: SimNetwork

    init(_ sim: SimNetwork) { self.sim = sim }

    var onSimulatedNetwork: Bool { true }

    func listen(_ address: SocketAddress, backlog: Int32, loop: EventLoop) throws(SocketError) -> (fd: Int32, bound: SocketAddress) {
        try sim.listen(address, backlog: backlog)
    }

    func accept(_ fd: Int32, loop: EventLoop) throws(SocketError) -> AcceptAttempt {
        guard let (client, local, peer) = sim.accept(fd) else { return .failed(errno: EINTR) }
        return .connection(fd: client, local: local, peer: peer)
    }

    func connect(to address: SocketAddress, loop: EventLoop) throws(SocketError) -> (fd: Int32, errno: Int32, local: SocketAddress?) {
        let (fd, local) = try sim.connect(to: address, now: loop.now())
        loop.flushNetEvents()
        return (fd, EINPROGRESS, local)
    }

    func connectResult(_ fd: Int32, loop: EventLoop) throws(SocketError) -> Int32 {
        sim.connectFailure(fd)?.rawValue ?? 0
    }

    func connected(_ fd: Int32) {}

    func recv(_ socket: AsyncSocket, max: Int) throws(SocketError) -> [UInt8]? {
        try sim.recv(socket.fd, max: max, address: socket.peerAddress)
    }

    func send(_ socket: AsyncSocket, _ bytes: UnsafeRawBufferPointer) throws(SocketError) -> Int? {
        let loop = socket.loop
        let sent = try sim.send(socket.fd, bytes, address: socket.peerAddress, now: loop.now())
        loop.flushNetEvents()
        return sent
    }

    func shutdownWrite(_ fd: Int32, loop: EventLoop) { sim.shutdownWrite(fd, now: loop.now()) }
    func closeOffLoop(_ fd: Int32) {}
}
