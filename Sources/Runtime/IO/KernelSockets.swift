// The kernel's sockets: the backend (`SocketBackend`, Loop/Seams.swift) an `AsyncSocket`
// gets when no driver chooses another. A backend makes one non-blocking attempt; the
// waiting (recv_wait, send_wait) stays in `AsyncSocket`.
import CLinux
import Glibc
import SystemPackage

/// The kernel's sockets: the seed's non-blocking calls, with the GIL released around each.
package final class KernelSockets: SocketBackend {
    package static let shared = KernelSockets()

    package var onSimulatedNetwork: Bool { false }

    package func listen(_ address: SocketAddress, backlog: Int32, loop: EventLoop) throws(SocketError) -> (fd: Int32, bound: SocketAddress) {
        let fd = try Self.newSocket(address: address)
        do throws(SystemCallError) {
            var one: Int32 = 1
            _ = try Sys.call("setsockopt") { setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
            var sa = address.sockaddrIn
            _ = try Sys.call("bind") {
                withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                } }
            }
            _ = try Sys.call("listen") { Glibc.listen(fd, backlog) }
            return (fd, try Self.localName(fd))
        } catch {
            _ = Glibc.close(fd)
            throw SocketError(error, address: address)
        }
    }

    package func accept(_ fd: Int32, loop: EventLoop) throws(SocketError) -> AcceptAttempt {
        var sa = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let client = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                loop.allowingThreads { corepl_accept4(fd, sa, &len, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue)) }
            }
        }
        guard client >= 0 else { return .failed(errno: Glibc.errno) }
        Self.setNoDelay(client)
        return .connection(fd: client, local: try? Self.localName(client), peer: SocketAddress(sa))
    }

    package func connect(to address: SocketAddress, loop: EventLoop) throws(SocketError) -> (fd: Int32, errno: Int32, local: SocketAddress?) {
        let fd = try Self.newSocket(address: address)
        var sa = address.sockaddrIn
        let r = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                loop.allowingThreads { Glibc.connect(fd, sa, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        return (fd, r == -1 ? Glibc.errno : 0, nil)
    }

    package func connectResult(_ fd: Int32, loop: EventLoop) throws(SocketError) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        return err
    }

    package func connected(_ fd: Int32) { Self.setNoDelay(fd) }

    package func recv(_ socket: AsyncSocket, max: Int) throws(SocketError) -> [UInt8]? {
        let loop = socket.loop, fd = socket.fd
        let bytes: [UInt8]?
        do throws(SystemCallError) {
            bytes = try loop.withReceiveBuffer(atLeast: max) { buffer throws(SystemCallError) -> [UInt8]? in
                let n = try Sys.nonBlocking("recv") { loop.allowingThreads { Glibc.recv(fd, buffer.baseAddress, max, 0) } }
                return n.map { [UInt8](UnsafeRawBufferPointer(rebasing: buffer[..<$0])) }
            }
        } catch {
            throw SocketError(error, address: socket.peerAddress)
        }
        if let bytes, bytes.isEmpty || bytes.count == max { return bytes }
        // Would block, or a short read: not readable until the poller says so again.
        loop.notReady(fd, serial: socket.serial, write: false)
        return bytes
    }

    package func send(_ socket: AsyncSocket, _ bytes: UnsafeRawBufferPointer) throws(SocketError) -> Int? {
        let loop = socket.loop, fd = socket.fd
        do throws(SystemCallError) {
            return try Sys.nonBlocking("send") {
                loop.allowingThreads { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
            }
        } catch {
            throw SocketError(error, address: socket.peerAddress)
        }
    }

    package func shutdownWrite(_ fd: Int32, loop: EventLoop) {
        if fd >= 0 { Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }

    package func closeOffLoop(_ fd: Int32) { _ = Glibc.close(fd) }

    /// A connected pair of Unix stream sockets.
    package func pair() throws(SystemCallError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try Sys.call("socketpair") {
            socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds)
        }
        return (fds[0], fds[1])
    }

    static func newSocket(address: SocketAddress) throws(SocketError) -> Int32 {
        do throws(SystemCallError) {
            return try Sys.call("socket") {
                socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
            }
        } catch {
            throw SocketError(error, address: address)
        }
    }

    static func localName(_ fd: Int32) throws(SystemCallError) -> SocketAddress {
        var sa = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try Sys.call("getsockname") {
            withUnsafeMutablePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        }
        return SocketAddress(sa)
    }

    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}
