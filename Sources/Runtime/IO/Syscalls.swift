// Every system call of the runtime goes through here: EINTR is retried, EAGAIN becomes
// "would block" (nil), anything else a typed SystemCallError naming the call.
import Glibc
import SystemPackage

package enum Sys {
    /// Runs `body` until it does not fail with EINTR; throws on -1.
    @inline(__always)
    package static func call<T: FixedWidthInteger>(_ name: StaticString, _ body: () -> T) throws(SystemCallError) -> T {
        while true {
            let r = body()
            if r != -1 { return r }
            let e = Glibc.errno
            if e == EINTR { continue }
            throw SystemCallError("\(name)", errno: Errno(rawValue: e))
        }
    }

    /// Like `call`, but EAGAIN/EWOULDBLOCK (and EINPROGRESS for connect) return nil.
    @inline(__always)
    package static func nonBlocking<T: FixedWidthInteger>(_ name: StaticString, _ body: () -> T) throws(SystemCallError) -> T? {
        while true {
            let r = body()
            if r != -1 { return r }
            let e = Glibc.errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return nil }
            throw SystemCallError("\(name)", errno: Errno(rawValue: e))
        }
    }

    /// Sets O_NONBLOCK on an fd.
    package static func setNonBlocking(_ fd: Int32) throws(SystemCallError) {
        let flags = try call("fcntl") { fcntl(fd, F_GETFL) }
        if flags & O_NONBLOCK == 0 {
            _ = try call("fcntl") { fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        }
    }

    /// Sets FD_CLOEXEC on an fd, so worker processes never inherit it.
    package static func setCloseOnExec(_ fd: Int32) throws(SystemCallError) {
        let flags = try call("fcntl") { fcntl(fd, F_GETFD) }
        if flags & FD_CLOEXEC == 0 {
            _ = try call("fcntl") { fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Ignores SIGPIPE process-wide, once: a peer that went away must surface as EPIPE
    /// from send(), never kill the process.
    static let ignoreSIGPIPE: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()
}
