// A plain OS thread, for worker pools and clients that must run outside the loop (like a
// second terminal in the seed). Swift's Task would put the work on the cooperative pool.
import CLinux
import Glibc
import Runtime

/// A joinable POSIX thread running a closure.
public final class OSThread: @unchecked Sendable {
    private var thread = pthread_t()
    private var started = false
    private let body: @Sendable () -> Void
    /// The name shown by debuggers and `ps -L` (at most 15 bytes are kept).
    public let name: String

    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }

    /// Starts the thread (once).
    public func start() {
        precondition(!started, "OSThread \(name) started twice")
        started = true
        let box = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            let me = Unmanaged<OSThread>.fromOpaque(arg!).takeRetainedValue()
            corepl_set_thread_name(me.name)
            me.body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(errnoName(rc))")
    }

    deinit {
        // Neither joined nor detached: detach, so a finished thread's resources are
        // freed (the thread sanitizer reported pool threads leaked that way).
        if started { pthread_detach(thread) }
    }

    /// Waits for the thread to finish.
    public func join() {
        guard started else { return }
        pthread_join(thread, nil)
        started = false
    }

    /// Lets the thread finish on its own; it can no longer be joined.
    public func detach() {
        guard started else { return }
        pthread_detach(thread)
        started = false
    }
}
