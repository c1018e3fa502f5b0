// The seed's AsyncSocket: a non-blocking TCP socket whose operations suspend the running
// task in recv_wait or send_wait first, exactly as the seed's `yield 'recv', self.sock`
// does before each call. Every suspension records the caller's file and line. Under epoll
// a wait on a socket the loop knows ready costs no poll (Readiness.swift); each call tells
// the loop when it found the socket not ready.
import CLinux
import Glibc
import SystemPackage

/// A socket failure that reads like a sentence:
/// `"127.0.0.1:25000: address already in use (EADDRINUSE)"`.
public struct SocketError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// A system call failed with this errno.
        case system(Errno)
        /// The socket was closed.
        case closed
        /// An address could not be understood.
        case badAddress
    }
    public var code: Code
    /// The call or step that failed (`"bind"`, `"connect"`, `"recv"`, …).
    public var operation: String
    /// The address involved, as text, if any.
    public var address: String?
    var detail: String?

    public init(_ code: Code, operation: String, address: String? = nil, detail: String? = nil) {
        self.code = code
        self.operation = operation
        self.address = address
        self.detail = detail
    }

    init(_ error: SystemCallError, address: SocketAddress?) {
        self.init(.system(error.errno), operation: error.function, address: address?.description)
    }

    /// The errno, for system failures.
    public var errno: Errno? {
        if case .system(let e) = code { return e }
        return nil
    }

    /// True when the call failed for want of a resource that frees up again (out of fds
    /// in the process or the system, or out of kernel buffers): worth retrying later,
    /// unlike a failure of the socket itself.
    public var isResourceExhaustion: Bool {
        guard let e = errno else { return false }
        return e == .tooManyOpenFiles || e == .tooManyOpenFilesInSystem || e == .noBufferSpace || e == .noMemory
    }

    public var description: String {
        let what: String
        switch code {
        case .system(let e): what = detail ?? "\(e.sentence) (\(errnoName(e.rawValue)))"
        case .closed: what = detail ?? "socket is closed"
        case .badAddress: what = detail ?? "bad address"
        }
        if let address { return "\(address): \(what)" }
        return "\(operation): \(what)"
    }
}

/// A non-blocking TCP socket driven by an `EventLoop` (loop thread only). Its async
/// methods are `nonisolated(nonsending)`: they run on the calling task's executor (the
/// loop), without a hop through the generic executor on every call.
public final class AsyncSocket: @unchecked Sendable {
    public let loop: EventLoop
    /// The file descriptor; -1 once closed. (Loop thread only: no dynamic exclusivity check.)
    @exclusivity(unchecked) public private(set) var fd: Int32
    /// Where it listens or which local end it is.
    public let localAddress: SocketAddress?
    /// The other end, for connected sockets.
    public let peerAddress: SocketAddress?
    /// Tells this socket from an earlier one on the same fd number (the readiness cache).
    let serial: UInt32
    /// Made by a replay: its fd is the journal's number, no fd of this process.
    let replayed: Bool

    init(loop: EventLoop, fd: Int32, local: SocketAddress?, peer: SocketAddress?) {
        self.loop = loop
        self.fd = fd
        self.serial = nextSocketSerial()
        self.replayed = loop.isReplaying
        self.localAddress = local
        self.peerAddress = peer
    }

    /// Wraps an fd the caller owns from now on (e.g. one end of a socketpair): it is made
    /// non-blocking and close-on-exec, and closed by `close()`.
    public convenience init(adopting fd: Int32, on loop: EventLoop) throws(SystemCallError) {
        precondition(!SimNetwork.owns(fd), "fd \(fd) is a simulated socket's number")
        try Sys.setNonBlocking(fd)
        try Sys.setCloseOnExec(fd)
        self.init(loop: loop, fd: fd, local: nil, peer: nil)
    }

    /// A connected pair of Unix stream sockets, like the seed's
    /// `future_notify, future_event = socketpair()`.
    public static func pair(on loop: EventLoop) throws(SystemCallError) -> (AsyncSocket, AsyncSocket) {
        var fds: [Int32] = [-1, -1]
        if loop.isReplaying {
            guard case .pair(let a, let b)? = loop.replayInput("socketpair", { if case .pair = $0 { return true } else { return false } }) else {
                throw SystemCallError("socketpair (replay diverged)", errno: .ioError)
            }
            fds = [a, b]
        } else {
            _ = try Sys.call("socketpair") {
                socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds)
            }
            if loop.inputJournal != nil { loop.recordInput(.pair(fds[0], fds[1])) }
        }
        return (AsyncSocket(loop: loop, fd: fds[0], local: nil, peer: nil),
                AsyncSocket(loop: loop, fd: fds[1], local: nil, peer: nil))
    }

    deinit {
        guard fd >= 0 else { return }
        // Through the loop when possible, so the poller forgets the fd before its number
        // can be reused.
        if loop.isOnLoopThread { loop.close(fd) } else if !SimNetwork.owns(fd) && !replayed { _ = Glibc.close(fd) }
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { fd < 0 }

    /// Whether the socket lives on the loop's simulated network (`net sim`), not in the kernel.
    public var isSimulated: Bool { SimNetwork.owns(fd) }

    // MARK: Listening

    /// Binds and listens (SO_REUSEADDR, close-on-exec). Port 0 picks a free port:
    /// `localAddress` reports the one bound. Defaults to 127.0.0.1, not all interfaces.
    /// While the loop's network is simulated, the socket is the simulated network's
    /// (port 0 picks the next simulated port, from 30000).
    public static func listen(
        on loop: EventLoop, host: String = SocketAddress.loopback, port: UInt16, backlog: Int32 = 128
    ) throws(SocketError) -> AsyncSocket {
        let wanted = try SocketAddress(host: host, port: port)
        if loop.simActive, let sim = loop.sim {
            let (fd, bound) = try sim.listen(wanted, backlog: backlog)
            return AsyncSocket(loop: loop, fd: fd, local: bound, peer: nil)
        }
        if loop.isReplaying {
            switch loop.replayInput("listen on \(wanted)", { input in
                switch input {
                case .listen: return true
                case .failed(let call, _, _): return ["socket", "setsockopt", "bind", "listen", "getsockname"].contains(call)
                default: return false
                }
            }) {
            case .listen(let fd, let address)?:
                return AsyncSocket(loop: loop, fd: fd, local: try SocketAddress(parsing: address), peer: nil)
            case .failed(let call, _, let e)?:
                throw SocketError(.system(Errno(rawValue: e)), operation: call, address: wanted.description)
            default:
                throw loop.replayFailure("listen")
            }
        }
        let fd: Int32
        do {
            fd = try newSocket(address: wanted)
        } catch {
            if loop.inputJournal != nil, let e = error.errno { loop.recordInput(.failed(call: error.operation, fd: -1, errno: e.rawValue)) }
            throw error
        }
        do throws(SystemCallError) {
            var one: Int32 = 1
            _ = try Sys.call("setsockopt") { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
            var sa = wanted.sockaddrIn
            _ = try Sys.call("bind") {
                withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                } }
            }
            _ = try Sys.call("listen") { Glibc.listen(fd, backlog) }
            let bound = try localName(fd)
            if loop.inputJournal != nil { loop.recordInput(.listen(fd: fd, address: bound.description)) }
            return AsyncSocket(loop: loop, fd: fd, local: bound, peer: nil)
        } catch {
            _ = Glibc.close(fd)
            if loop.inputJournal != nil { loop.recordInput(.failed(call: error.function, fd: -1, errno: error.errno.rawValue)) }
            throw SocketError(error, address: wanted)
        }
    }

    /// Waits until a connection arrives (in recv_wait, labelled "accept") and accepts it.
    nonisolated(nonsending) public func accept(fileID: StaticString = #fileID, line: UInt = #line) async throws -> AsyncSocket {
        while true {
            try checkOpen("accept")
            try await loop.socketWait(fd, serial: serial, write: false, label: "accept",
                                      location: CodeLocation(fileID: fileID, line: line))
            if isSimulated {
                guard let (client, local, peer) = loop.sim!.accept(fd) else { continue }
                return AsyncSocket(loop: loop, fd: client, local: local, peer: peer)
            }
            let e: Int32
            if loop.isReplaying {
                guard case .accept(_, let client, let peer, let local)? = loop.replayInput(
                    "accept on fd \(fd)", fd: fd, { if case .accept = $0 { return true } else { return false } }) else {
                    throw loop.replayFailure("accept")
                }
                if client >= 0 {
                    return AsyncSocket(loop: loop, fd: client, local: local.flatMap { try? SocketAddress(parsing: $0) },
                                       peer: peer.flatMap { try? SocketAddress(parsing: $0) })
                }
                e = -client
            } else {
                var sa = sockaddr_in()
                var len = socklen_t(MemoryLayout<sockaddr_in>.size)
                let client = withUnsafeMutablePointer(to: &sa) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                        loop.allowingThreads { corepl_accept4(fd, sa, &len, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)) }
                    }
                }
                if client >= 0 {
                    Self.setNoDelay(client)
                    let local = try? Self.localName(client), peer = SocketAddress(sa)
                    if loop.inputJournal != nil {
                        loop.recordInput(.accept(fd: fd, client: client, peer: peer.description, local: local?.description))
                    }
                    return AsyncSocket(loop: loop, fd: client, local: local, peer: peer)
                }
                e = Glibc.errno
                if loop.inputJournal != nil { loop.recordInput(.accept(fd: fd, client: -e, peer: nil, local: nil)) }
            }
            // Spurious wake-ups and connections reset before accept: wait again.
            if e == EAGAIN || e == EWOULDBLOCK { loop.notReady(fd, serial: serial, write: false) }
            if e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ECONNABORTED || e == EPROTO { continue }
            throw SocketError(.system(Errno(rawValue: e)), operation: "accept", address: localAddress?.description)
        }
    }

    // MARK: Connecting

    /// Connects to `address`, waiting in send_wait (labelled "connect") until the
    /// connection is established. While the loop's network is simulated, only a
    /// simulated listener can answer.
    nonisolated(nonsending) public static func connect(
        on loop: EventLoop, to address: SocketAddress, fileID: StaticString = #fileID, line: UInt = #line
    ) async throws -> AsyncSocket {
        if loop.simActive, let sim = loop.sim {
            let (fd, local) = try sim.connect(to: address, now: loop.now())
            loop.flushNetEvents()
            let socket = AsyncSocket(loop: loop, fd: fd, local: local, peer: address)
            do {
                try await loop.socketWait(fd, serial: socket.serial, write: true, label: "connect",
                                          location: CodeLocation(fileID: fileID, line: line))
            } catch {
                socket.close()
                throw error
            }
            if let e = sim.connectFailure(fd) {
                socket.close()
                throw SocketError(.system(e), operation: "connect", address: address.description)
            }
            return socket
        }
        let replaying = loop.isReplaying
        let fd: Int32, e: Int32
        if replaying {
            switch loop.replayInput("connect to \(address)", { input in
                if case .connect = input { return true }
                if case .failed("socket", _, _) = input { return true }
                return false
            }) {
            case .connect(let f, let err)?: (fd, e) = (f, err)
            case .failed(let call, _, let err)?: throw SocketError(.system(Errno(rawValue: err)), operation: call, address: address.description)
            default: throw loop.replayFailure("connect")
            }
        } else {
            do {
                fd = try newSocket(address: address)
            } catch {
                if loop.inputJournal != nil, let err = error.errno { loop.recordInput(.failed(call: error.operation, fd: -1, errno: err.rawValue)) }
                throw error
            }
            var sa = address.sockaddrIn
            let r = withUnsafePointer(to: &sa) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    loop.allowingThreads { Glibc.connect(fd, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
            e = r == -1 ? Glibc.errno : 0
            if loop.inputJournal != nil { loop.recordInput(.connect(fd: fd, errno: e)) }
        }
        let socket = AsyncSocket(loop: loop, fd: fd, local: nil, peer: address)
        if e != 0 {
            guard e == EINPROGRESS || e == EINTR else {
                socket.close()
                throw SocketError(.system(Errno(rawValue: e)), operation: "connect", address: address.description)
            }
            do {
                try await loop.socketWait(fd, serial: socket.serial, write: true, label: "connect",
                                          location: CodeLocation(fileID: fileID, line: line))
            } catch {
                socket.close()
                throw error
            }
            var err: Int32 = 0
            if replaying {
                guard case .connected(_, let recorded)? = loop.replayInput(
                    "connect's result on fd \(fd)", fd: fd, { if case .connected = $0 { return true } else { return false } }) else {
                    socket.close()
                    throw loop.replayFailure("connect")
                }
                err = recorded
            } else {
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
                if loop.inputJournal != nil { loop.recordInput(.connected(fd: fd, errno: err)) }
            }
            if err != 0 {
                socket.close()
                throw SocketError(.system(Errno(rawValue: err)), operation: "connect", address: address.description)
            }
        }
        if !replaying { setNoDelay(fd) }
        return socket
    }

    // MARK: Data

    /// Waits in recv_wait until readable, then receives up to `max` bytes. An empty
    /// result means end of file (the peer closed or shut down its sending side).
    nonisolated(nonsending) public func recv(max: Int, fileID: StaticString = #fileID, line: UInt = #line) async throws -> [UInt8] {
        while true {
            try checkOpen("recv")
            try await loop.socketWait(fd, serial: serial, write: false, label: "recv",
                                      location: CodeLocation(fileID: fileID, line: line))
            if let bytes = try tryRecv(max: max) { return bytes }
        }
    }

    /// Receives up to `max` bytes without waiting: nil if that would block, empty at end
    /// of file. Fewer than `max` bytes means the socket had no more just then (a stream
    /// socket's recv takes all it has): the next recv waits for more.
    public func tryRecv(max: Int) throws(SocketError) -> [UInt8]? {
        try checkOpen("recv")
        let want = Swift.max(1, max)
        if isSimulated { return try loop.sim!.recv(fd, max: want, address: peerAddress) }
        let bytes: [UInt8]?
        if replayed {
            guard case .recv(_, let recorded) = try replayedCall("recv", { if case .recv = $0 { true } else { false } }) else {
                throw loop.replayFailure("recv")
            }
            bytes = recorded
        } else {
            do throws(SystemCallError) {
                bytes = try loop.withReceiveBuffer(atLeast: want) { buffer throws(SystemCallError) -> [UInt8]? in
                    let n = try Sys.nonBlocking("recv") { loop.allowingThreads { Glibc.recv(fd, buffer.baseAddress, want, 0) } }
                    return n.map { [UInt8](UnsafeRawBufferPointer(rebasing: buffer[..<$0])) }
                }
            } catch {
                if loop.inputJournal != nil { loop.recordInput(.failed(call: error.function, fd: fd, errno: error.errno.rawValue)) }
                throw SocketError(error, address: peerAddress)
            }
            if loop.inputJournal != nil { loop.recordInput(.recv(fd: fd, bytes: bytes)) }
        }
        if let bytes, bytes.isEmpty || bytes.count == want { return bytes }
        // Would block, or a short read: not readable until the poller says so again.
        loop.notReady(fd, serial: serial, write: false)
        return bytes
    }

    /// Sends every byte, waiting in send_wait before each attempt (as the seed does).
    /// A peer that has gone away surfaces as EPIPE or ECONNRESET, never as SIGPIPE.
    nonisolated(nonsending) public func send(all bytes: some Collection<UInt8>, fileID: StaticString = #fileID, line: UInt = #line) async throws {
        try await send(all: Array(bytes), fileID: fileID, line: line)
    }

    /// Sends every byte of `data`, waiting in send_wait before each attempt; the overload
    /// a byte array takes (not generic: a call from another module runs specialized code).
    nonisolated(nonsending) public func send(all data: [UInt8], fileID: StaticString = #fileID, line: UInt = #line) async throws {
        var offset = 0
        while offset < data.count {
            try checkOpen("send")
            try await loop.socketWait(fd, serial: serial, write: true, label: "send",
                                      location: CodeLocation(fileID: fileID, line: line))
            let sent: Int?
            if isSimulated {
                let sim = loop.sim!, now = loop.now()
                sent = try data.withUnsafeBytes { buf throws(SocketError) in
                    try sim.send(fd, UnsafeRawBufferPointer(rebasing: buf[offset...]), address: peerAddress, now: now)
                }
                loop.flushNetEvents()
            } else if replayed {
                guard case .send(_, let count) = try replayedCall("send", { if case .send = $0 { true } else { false } }) else {
                    throw loop.replayFailure("send")
                }
                sent = count
            } else { do throws(SystemCallError) {
                sent = try Sys.nonBlocking("send") {
                    data.withUnsafeBytes { buf in
                        loop.allowingThreads { Glibc.send(fd, buf.baseAddress! + offset, buf.count - offset, Int32(MSG_NOSIGNAL)) }
                    }
                }
                if loop.inputJournal != nil { loop.recordInput(.send(fd: fd, count: sent)) }
            } catch {
                if loop.inputJournal != nil { loop.recordInput(.failed(call: error.function, fd: fd, errno: error.errno.rawValue)) }
                throw SocketError(error, address: peerAddress)
            } }
            offset += sent ?? 0
            // Would block, or the buffer took only part: not writable until the poller
            // says so again.
            if offset < data.count { loop.notReady(fd, serial: serial, write: true) }
        }
    }

    /// Shuts down the sending side (the peer then reads end of file).
    public func shutdownWrite() {
        if isSimulated { loop.sim?.shutdownWrite(fd, now: loop.now()) } else if fd >= 0 && !replayed { Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }

    /// Closes the socket through the loop: a task waiting on it wakes with
    /// `LoopError.closedWhileWaiting` instead of waiting forever. Safe to call twice.
    public func close() {
        guard fd >= 0 else { return }
        loop.close(fd)
        fd = -1
    }

    // MARK: Helpers

    /// In a replay: the journal's answer to `call` on this socket — the input `matches`
    /// accepts, or the failure recorded for the call, thrown as it was.
    private func replayedCall(_ call: String, _ matches: (LoopInput) -> Bool) throws(SocketError) -> LoopInput {
        let input = loop.replayInput("\(call) fd \(fd)", fd: fd) { input in
            if case .failed(let c, _, _) = input, c == call { return true }
            return matches(input)
        }
        switch input {
        case .failed(let c, _, let e)?:
            throw SocketError(.system(Errno(rawValue: e)), operation: c, address: peerAddress?.description)
        case let input?:
            return input
        case nil:
            throw loop.replayFailure(call)
        }
    }

    private func checkOpen(_ operation: String) throws(SocketError) {
        if fd < 0 { throw SocketError(.closed, operation: operation, address: peerAddress?.description ?? localAddress?.description) }
    }

    private static func newSocket(address: SocketAddress) throws(SocketError) -> Int32 {
        do throws(SystemCallError) {
            return try Sys.call("socket") {
                socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            }
        } catch {
            throw SocketError(error, address: address)
        }
    }

    private static func localName(_ fd: Int32) throws(SystemCallError) -> SocketAddress {
        var sa = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try Sys.call("getsockname") {
            withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        }
        return SocketAddress(sa)
    }

    private static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}
