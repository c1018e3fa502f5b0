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
/// loop), without a hop through the generic executor on every call. What its calls reach —
/// the kernel, or what a driver chose (a simulated network, a replay's recording) — is decided
/// when it is made (`SocketBackend`, Loop/Seams.swift).
public final class AsyncSocket: @unchecked Sendable {
    public let loop: EventLoop
    /// The file descriptor; -1 once closed. (Loop thread only: no dynamic exclusivity check,
    /// in other modules too — their direct reads of a stored field would be checked.)
    @inlinable public var fd: Int32 { @inline(__always) get { _fd } }
    @usableFromInline @exclusivity(unchecked) var _fd: Int32
    /// Where it listens or which local end it is.
    public let localAddress: SocketAddress?
    /// The other end, for connected sockets.
    public let peerAddress: SocketAddress?
    /// Tells this socket from an earlier one on the same fd number (the readiness cache).
    package let serial: UInt32
    /// What its calls reach.
    package let backend: any SocketBackend

    init(loop: EventLoop, fd: Int32, local: SocketAddress?, peer: SocketAddress?, backend: any SocketBackend) {
        self.loop = loop
        self._fd = fd
        self.serial = nextSocketSerial()
        self.backend = backend
        self.localAddress = local
        self.peerAddress = peer
    }

    /// Wraps an fd the caller owns from now on (e.g. one end of a socketpair): it is made
    /// non-blocking and close-on-exec, and closed by `close()`.
    public convenience init(adopting fd: Int32, on loop: EventLoop) throws(SystemCallError) {
        precondition(!loop.isSourceFD(fd), "fd \(fd) is a wake source's (a simulated socket's) number")
        try Sys.setNonBlocking(fd)
        try Sys.setCloseOnExec(fd)
        self.init(loop: loop, fd: fd, local: nil, peer: nil, backend: loop.socketBackend(simulatable: false))
    }

    /// A connected pair of Unix stream sockets, like the seed's
    /// `future_notify, future_event = socketpair()`.
    public static func pair(on loop: EventLoop) throws(SystemCallError) -> (AsyncSocket, AsyncSocket) {
        let backend = loop.socketBackend(simulatable: false)
        let (a, b) = try loop.socketPair()
        return (AsyncSocket(loop: loop, fd: a, local: nil, peer: nil, backend: backend),
                AsyncSocket(loop: loop, fd: b, local: nil, peer: nil, backend: backend))
    }

    deinit {
        guard fd >= 0 else { return }
        // Through the loop when possible, so the poller forgets the fd before its number
        // can be reused.
        if loop.isOnLoopThread { loop.close(fd) } else { backend.closeOffLoop(fd) }
    }

    /// Whether `close()` has been called.
    public var isClosed: Bool { fd < 0 }

    // MARK: Listening

    /// Binds and listens (SO_REUSEADDR, close-on-exec). Port 0 picks a free port:
    /// `localAddress` reports the one bound. Defaults to 127.0.0.1, not all interfaces.
    /// While the loop's network is simulated, the socket is the simulated network's
    /// (port 0 picks the next simulated port, from 30000).
    public static func listen(
        on loop: EventLoop, host: String = SocketAddress.loopback, port: UInt16, backlog: Int32 = 128
    ) throws(SocketError) -> AsyncSocket {
        let wanted = try SocketAddress(host: host, port: port)
        let backend = loop.socketBackend(simulatable: true)
        let (fd, bound) = try backend.listen(wanted, backlog: backlog, loop: loop)
        return AsyncSocket(loop: loop, fd: fd, local: bound, peer: nil, backend: backend)
    }

    /// Waits until a connection arrives (in recv_wait, labelled "accept") and accepts it.
    nonisolated(nonsending) public func accept(fileID: StaticString = #fileID, line: UInt = #line) async throws -> AsyncSocket {
        while true {
            try checkOpen("accept")
            try await loop.socketWait(fd, serial: serial, write: false, label: "accept",
                                      location: CodeLocation(fileID: fileID, line: line))
            let e: Int32
            switch try backend.accept(fd, loop: loop) {
            case let .connection(client, local, peer):
                return AsyncSocket(loop: loop, fd: client, local: local, peer: peer, backend: backend)
            case .failed(let errno):
                e = errno
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
        let backend = loop.socketBackend(simulatable: true)
        let (fd, e, local) = try backend.connect(to: address, loop: loop)
        let socket = AsyncSocket(loop: loop, fd: fd, local: local, peer: address, backend: backend)
        if e != 0 {
            guard e == EINPROGRESS || e == EINTR else {
                socket.close()
                throw SocketError(.system(Errno(rawValue: e)), operation: "connect", address: address.description)
            }
            let err: Int32
            do {
                try await loop.socketWait(fd, serial: socket.serial, write: true, label: "connect",
                                          location: CodeLocation(fileID: fileID, line: line))
                err = try backend.connectResult(fd, loop: loop)
            } catch {
                socket.close()
                throw error
            }
            if err != 0 {
                socket.close()
                throw SocketError(.system(Errno(rawValue: err)), operation: "connect", address: address.description)
            }
        }
        backend.connected(fd)
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
        return try backend.recv(self, max: Swift.max(1, max))
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
            let sent = try data.withUnsafeBytes { buf throws(SocketError) in
                try backend.send(self, UnsafeRawBufferPointer(rebasing: buf[offset...]))
            }
            offset += sent ?? 0
            // Would block, or the buffer took only part: not writable until the poller
            // says so again.
            if offset < data.count { loop.notReady(fd, serial: serial, write: true) }
        }
    }

    /// Shuts down the sending side (the peer then reads end of file).
    public func shutdownWrite() {
        backend.shutdownWrite(fd, loop: loop)
    }

    /// Closes the socket through the loop: a task waiting on it wakes with
    /// `LoopError.closedWhileWaiting` instead of waiting forever. Safe to call twice.
    public func close() {
        guard fd >= 0 else { return }
        loop.close(fd)
        _fd = -1
    }

    private func checkOpen(_ operation: String) throws(SocketError) {
        if fd < 0 { throw SocketError(.closed, operation: operation, address: peerAddress?.description ?? localAddress?.description) }
    }
}
