// How long the loop thread waited for a CPU: what tells a step the machine slowed down from
// a step that computed or blocked. A thread's wall-clock time is the time it ran, the time
// it blocked (in a call: the task's doing, as example 03's wait on a future is), and the
// time it was ready but not running because the CPUs were busy with other threads (no
// task's doing). The kernel counts the last one per thread: `run_delay`, the second field
// of /proc/thread-self/schedstat (nanoseconds). CPU time alone (CLOCK_THREAD_CPUTIME_ID)
// could not tell a blocking call from a thread kept off the CPU.
import Glibc

/// Reads the calling thread's time spent waiting for a CPU, in nanoseconds since it
/// started. A read is one `pread` system call on a file kept open (reopened when called
/// from another thread); where the file cannot be read (no /proc, a kernel without
/// scheduler statistics) every read is nil from then on.
struct CPUWaitClock {
    private var fd: Int32 = -1
    private var owner: pthread_t = 0
    private var unavailable = false

    /// The thread's total wait for a CPU, or nil when the kernel does not say.
    mutating func read() -> UInt64? {
        if unavailable { return nil }
        let me = pthread_self()
        if fd < 0 || pthread_equal(owner, me) == 0 {
            close()
            fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                unavailable = true
                return nil
            }
            owner = me
        }
        // "<ns on the CPU> <ns waiting for a CPU> <timeslices>\n"
        let value = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 96) { buffer -> UInt64? in
            let n = pread(fd, buffer.baseAddress, buffer.count, 0)
            guard n > 0 else { return nil }
            var field = 0, number: UInt64 = 0, digits = 0
            for byte in buffer[..<n] {
                if byte >= 48 && byte <= 57 {
                    if field == 1 {
                        number = number &* 10 &+ UInt64(byte - 48)
                        digits += 1
                    }
                } else {
                    if field == 1 { break }
                    field += 1
                }
            }
            return field == 1 && digits > 0 ? number : nil
        }
        if value == nil { unavailable = true; close() }
        return value
    }

    /// Closes the file (the next read opens it again).
    mutating func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }
}
