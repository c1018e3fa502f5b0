// Ctrl-C and SIGTERM for front ends without a terminal of their own (scripts, pipes,
// `corepl serve`): the signal interrupts what runs instead of killing the process.
import CLinux
import Glibc
import Pools
import Runtime

/// Runs `onSignal` (on a thread of its own) at SIGINT or SIGTERM instead of dying, for as
/// long as the trap lives. The signals are forwarded by a C handler through a pipe, so it
/// does not matter which of the process's threads the kernel delivers them to.
public final class SignalTrap {
    private static let signals = [SIGINT, SIGTERM]
    private let writeFD: Int32

    /// Starts forwarding SIGINT and SIGTERM to `onSignal`.
    public init(_ onSignal: @escaping @Sendable () -> Void) {
        var fds: [Int32] = [-1, -1]
        guard corepl_pipe2(&fds, O_CLOEXEC | O_NONBLOCK) == 0 else { fatalError("pipe: \(errnoName(errno))") }
        let readFD = fds[0]
        writeFD = fds[1]
        _ = fcntl(readFD, F_SETFL, 0)  // the watcher blocks; the handler's end does not
        for sig in Self.signals { _ = corepl_forward_signal(sig, writeFD, 1) }
        let watcher = OSThread(name: "signals") {
            var byte: UInt8 = 0
            while true {
                let n = read(readFD, &byte, 1)
                if n == 1 { onSignal() } else if n < 0 && errno == EINTR { continue } else { break }
            }
            _ = Glibc.close(readFD)
        }
        watcher.start()
        watcher.detach()
    }

    /// Gives the signals their default action back; the watcher thread sees the pipe
    /// closed and ends (a host that runs scripts again and again keeps no thread per run).
    deinit {
        for sig in Self.signals { corepl_unforward_signal(sig) }
        _ = Glibc.close(writeFD)
    }
}
