// Errors read like sentences for a person, and carry the errno name ("EADDRINUSE") so a
// reader can search for it. Typed so callers can match on the cases that matter to them.
import CLinux
import Glibc
import SystemPackage

/// The symbolic name of an errno value, such as `"EADDRINUSE"`, or `"errno N"` when the
/// C library does not know it (glibc's `strerrorname_np`).
public func errnoName(_ code: Int32) -> String {
    guard let name = corepl_errno_name(code) else { return "errno \(code)" }
    return String(cString: name)
}

/// A failed system call: which call, and the errno it set.
public struct SystemCallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The C function that failed, e.g. `"epoll_wait"`.
    public var function: String
    /// The errno it returned.
    public var errno: Errno

    public init(_ function: String, errno: Errno) {
        self.function = function
        self.errno = errno
    }

    /// "connect: connection refused (ECONNREFUSED)"
    public var description: String {
        "\(function): \(errno.sentence) (\(errnoName(errno.rawValue)))"
    }
}

extension Errno {
    /// strerror's text with a lower-case first letter, to sit inside a sentence.
    var sentence: String {
        let text = description
        guard let first = text.first else { return text }
        return first.lowercased() + text.dropFirst()
    }
}

/// Misuse of the runtime, reported as an error rather than a crash.
public enum LoopError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Another task already waits on this fd in this direction (curio refuses this too:
    /// the second waiter would silently replace the first).
    case fdAlreadyAwaited(fd: Int32, direction: IODirection, by: TaskID)
    /// The select backend cannot watch fds at or above `FD_SETSIZE`.
    case fdTooLargeForSelect(fd: Int32, limit: Int32)
    /// The fd was closed through the runtime while a task waited on it.
    case closedWhileWaiting(fd: Int32)
    /// A future can be awaited by one task at a time.
    case futureAlreadyAwaited(FutureID, by: TaskID)
    /// The poller cannot be switched while a step is in progress.
    case pollerBusy
    /// A negative or otherwise unusable file descriptor was passed in.
    case badDescriptor(Int32)

    public var description: String {
        switch self {
        case let .fdAlreadyAwaited(fd, direction, by):
            return "fd \(fd) already has a task waiting to \(direction): task \(by.rawValue); two waiters on one fd in one direction are refused"
        case let .fdTooLargeForSelect(fd, limit):
            return "select cannot watch fd \(fd): fds must be below FD_SETSIZE (\(limit)); use the epoll or poll backend"
        case let .closedWhileWaiting(fd):
            return "fd \(fd) was closed while this task waited on it"
        case let .futureAlreadyAwaited(id, by):
            return "future \(id.rawValue) is already awaited by task \(by.rawValue)"
        case .pollerBusy:
            return "the poller can only be switched between steps"
        case let .badDescriptor(fd):
            return "fd \(fd) is not a valid file descriptor"
        }
    }
}

/// Which way a task waits on an fd: to receive (readable) or to send (writable).
public enum IODirection: String, Sendable, Hashable, CustomStringConvertible {
    /// Waiting until the fd is readable (the seed's `recv_wait`).
    case recv
    /// Waiting until the fd is writable (the seed's `send_wait`).
    case send
    public var description: String { rawValue }
}
