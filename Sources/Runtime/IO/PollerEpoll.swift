// epoll. The loop's own sockets are registered once, edge-triggered, for both directions
// (the readiness cache, Readiness.swift, remembers the edges); any other fd is
// level-triggered, its interest synced lazily before each poll, so a task that waits on
// the same fd and direction again costs no epoll_ctl.
import CLinux
import Glibc

final class EpollPoller: Poller {
    let kind = PollerKind.epoll
    private let epfd: Int32
    private let wakeFD: Int32
    /// What is registered with the kernel now, per fd.
    @exclusivity(unchecked) private var registered: [Int32: UInt32] = [:]
    @exclusivity(unchecked) private var buffer = [epoll_event](repeating: epoll_event(), count: 256)

    init(wakeFD: Int32) throws(SystemCallError) {
        epfd = try Sys.call("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        self.wakeFD = wakeFD
        var ev = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wakeFD))
        _ = try Sys.call("epoll_ctl") { epoll_ctl(epfd, EPOLL_CTL_ADD, wakeFD, &ev) }
    }

    func validate(fd: Int32) throws(LoopError) {}

    var isEdgeTriggered: Bool { true }

    func registerEdgeTriggered(fd: Int32) throws(SystemCallError) {
        let want = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        var ev = epoll_event(events: want, data: epoll_data_t(fd: fd))
        if epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1 {
            // Registered level-triggered before (a poller switch while it was awaited).
            guard errno == EEXIST else { throw SystemCallError("epoll_ctl", errno: .init(rawValue: errno)) }
            _ = try Sys.call("epoll_ctl") { epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) }
        }
        registered[fd] = want
    }

    func update(fd: Int32, read: Bool, write: Bool) throws(SystemCallError) {
        let want = (read ? EPOLLIN.rawValue | EPOLLRDHUP.rawValue : 0) | (write ? EPOLLOUT.rawValue : 0)
        let have = registered[fd] ?? 0
        if want == have { return }
        var ev = epoll_event(events: want, data: epoll_data_t(fd: fd))
        if want == 0 {
            registered[fd] = nil
            // The fd may be gone already (closed by its owner): nothing left to undo.
            if epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev) == -1 && errno != EBADF && errno != ENOENT {
                throw SystemCallError("epoll_ctl", errno: .init(rawValue: errno))
            }
            return
        }
        if have == 0 {
            if epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1 {
                guard errno == EEXIST else { throw SystemCallError("epoll_ctl", errno: .init(rawValue: errno)) }
                _ = try Sys.call("epoll_ctl") { epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) }
            }
        } else if epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == -1 {
            // Closed and reused behind our back (the kernel dropped it): register anew.
            guard errno == ENOENT else { throw SystemCallError("epoll_ctl", errno: .init(rawValue: errno)) }
            _ = try Sys.call("epoll_ctl") { epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) }
        }
        registered[fd] = want
    }

    func poll(timeoutNanos: UInt64?, into events: inout [PollEvent]) throws(SystemCallError) {
        let timeout = timeoutMilliseconds(timeoutNanos)
        let n = try buffer.withUnsafeMutableBufferPointer { buf throws(SystemCallError) in
            try Sys.call("epoll_wait") { epoll_wait(epfd, buf.baseAddress, Int32(buf.count), timeout) }
        }
        let errorBits = EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue
        for i in 0..<Int(n) {
            let e = buffer[i]
            let bad = e.events & errorBits != 0
            events.append(PollEvent(
                fd: e.data.fd,
                readable: e.events & EPOLLIN.rawValue != 0 || bad,
                writable: e.events & EPOLLOUT.rawValue != 0 || bad,
                hungUp: bad))
        }
        if Int(n) == buffer.count { buffer.append(contentsOf: repeatElement(epoll_event(), count: buffer.count)) }
    }

    func forget(fd: Int32) {
        guard registered.removeValue(forKey: fd) != nil else { return }
        var ev = epoll_event()
        _ = epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev)
    }

    func close() {
        _ = Glibc.close(epfd)
        registered.removeAll()
    }
}
