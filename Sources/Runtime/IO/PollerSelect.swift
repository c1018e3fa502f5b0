// select(2), the seed's own poller. An fd_set holds FD_SETSIZE (1024) bits; an fd at or
// above that would write past it, so such fds are refused before they get here.
import Glibc

final class SelectPoller: Poller {
    let kind = PollerKind.select
    /// FD_SETSIZE on Linux.
    static let limit: Int32 = Int32(MemoryLayout<fd_set>.size * 8)
    private let wakeFD: Int32
    private var readFDs = Set<Int32>()
    private var writeFDs = Set<Int32>()

    init(wakeFD: Int32) {
        self.wakeFD = wakeFD
    }

    func validate(fd: Int32) throws(LoopError) {
        if fd < 0 { throw .badDescriptor(fd) }
        if fd >= Self.limit { throw .fdTooLargeForSelect(fd: fd, limit: Self.limit) }
    }

    func update(fd: Int32, read: Bool, write: Bool) throws(SystemCallError) {
        precondition(fd >= 0 && fd < Self.limit, "select backend given fd \(fd)")
        if read { readFDs.insert(fd) } else { readFDs.remove(fd) }
        if write { writeFDs.insert(fd) } else { writeFDs.remove(fd) }
    }

    func poll(timeoutNanos: UInt64?, into events: inout [PollEvent]) throws(SystemCallError) {
        var r = fd_set()
        var w = fd_set()
        Self.set(wakeFD, in: &r)
        var maxFD = wakeFD
        for fd in readFDs { Self.set(fd, in: &r); maxFD = max(maxFD, fd) }
        for fd in writeFDs { Self.set(fd, in: &w); maxFD = max(maxFD, fd) }
        var tv = timeval()
        let n: Int32
        if let nanos = timeoutNanos {
            tv.tv_sec = Int(nanos / 1_000_000_000)
            tv.tv_usec = Int((nanos % 1_000_000_000 + 999) / 1000)
            n = try Sys.call("select") { Glibc.select(maxFD + 1, &r, &w, nil, &tv) }
        } else {
            n = try Sys.call("select") { Glibc.select(maxFD + 1, &r, &w, nil, nil) }
        }
        guard n > 0 else { return }
        var seen = Set<Int32>()
        for fd in readFDs.union([wakeFD]).union(writeFDs) where !seen.contains(fd) {
            seen.insert(fd)
            let readable = Self.isSet(fd, in: &r)
            let writable = Self.isSet(fd, in: &w)
            if readable || writable { events.append(PollEvent(fd: fd, readable: readable, writable: writable)) }
        }
    }

    func forget(fd: Int32) {
        readFDs.remove(fd)
        writeFDs.remove(fd)
    }

    func close() {
        readFDs.removeAll()
        writeFDs.removeAll()
    }

    private static func set(_ fd: Int32, in set: inout fd_set) {
        withUnsafeMutableBytes(of: &set) { raw in
            let words = raw.bindMemory(to: Int.self)
            let bits = Int.bitWidth
            words[Int(fd) / bits] |= 1 << (Int(fd) % bits)
        }
    }

    private static func isSet(_ fd: Int32, in set: inout fd_set) -> Bool {
        withUnsafeMutableBytes(of: &set) { raw in
            let words = raw.bindMemory(to: Int.self)
            let bits = Int.bitWidth
            return words[Int(fd) / bits] & (1 << (Int(fd) % bits)) != 0
        }
    }
}
