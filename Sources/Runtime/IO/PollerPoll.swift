// poll(2): the pollfd array is rebuilt from the interest table before each call.
import Glibc

final class PollPoller: Poller {
    let kind = PollerKind.poll
    private let wakeFD: Int32
    private var interest: [Int32: Int16] = [:]
    private var fds: [pollfd] = []

    init(wakeFD: Int32) {
        self.wakeFD = wakeFD
    }

    func validate(fd: Int32) throws(LoopError) {}

    func update(fd: Int32, read: Bool, write: Bool) throws(SystemCallError) {
        let want = Int16(read ? POLLIN : 0) | Int16(write ? POLLOUT : 0)
        interest[fd] = want == 0 ? nil : want
    }

    func poll(timeoutNanos: UInt64?, into events: inout [PollEvent]) throws(SystemCallError) {
        fds.removeAll(keepingCapacity: true)
        fds.append(pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0))
        for (fd, want) in interest { fds.append(pollfd(fd: fd, events: want, revents: 0)) }
        let timeout = timeoutMilliseconds(timeoutNanos)
        let n = try fds.withUnsafeMutableBufferPointer { buf throws(SystemCallError) in
            try Sys.call("poll") { Glibc.poll(buf.baseAddress, nfds_t(buf.count), timeout) }
        }
        guard n > 0 else { return }
        let bad = Int16(POLLERR | POLLHUP | POLLNVAL)
        for p in fds where p.revents != 0 {
            events.append(PollEvent(
                fd: p.fd,
                readable: p.revents & (Int16(POLLIN) | bad) != 0,
                writable: p.revents & (Int16(POLLOUT) | bad) != 0))
        }
    }

    func forget(fd: Int32) { interest[fd] = nil }

    func close() { interest.removeAll() }
}
