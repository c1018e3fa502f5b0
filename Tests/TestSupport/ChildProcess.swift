// A child process for tests, where every read and every wait has a deadline: a child that
// hangs fails its test with what it printed so far, and is killed, instead of hanging the
// suite.
import CLinux
import Glibc
import Runtime

/// A test's child process, its stdin, stdout and stderr on pipes.
public final class ChildProcess: @unchecked Sendable {
    public let pid: pid_t
    private var stdinFD: Int32
    private let stdoutFD: Int32
    private let stderrFD: Int32
    private var outBuffer: [UInt8] = []
    private var errBuffer: [UInt8] = []
    private var outEOF = false
    private var errEOF = false
    private var exitStatus: Int32?

    /// Something a child did not do in time.
    public struct Timeout: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Starts `path` with `arguments`. `environment` entries (`NAME=value`) are added to
    /// this process's environment.
    public init(_ path: String, _ arguments: [String], environment: [String] = []) throws {
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw SystemCallError("pipe", errno: .init(rawValue: errno))
        }
        // (Glibc's module lacks pipe2: set close-on-exec right away instead.)
        for fd in inPipe + outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var env: [UnsafeMutablePointer<CChar>?] = []
        var e = environ
        while let p = e.pointee { env.append(strdup(p)); e += 1 }
        env += environment.map { strdup($0) }
        env.append(nil)
        defer { env.forEach { free($0) } }
        // The child starts with no signal blocked and default actions (the test runner's
        // threads may block some), as Foundation's Process does.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        _ = corepl_spawnattr_clean_signals(&attributes)
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, env)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard rc == 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw SystemCallError("posix_spawn \(path)", errno: .init(rawValue: rc))
        }
        pid = child
        stdinFD = inPipe[1]
        stdoutFD = outPipe[0]
        stderrFD = errPipe[0]
        _ = fcntl(stdoutFD, F_SETFL, O_NONBLOCK)
        _ = fcntl(stderrFD, F_SETFL, O_NONBLOCK)
    }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        if stdinFD >= 0 { close(stdinFD) }
        close(stdoutFD)
        close(stderrFD)
    }

    /// What the child wrote to stdout / stderr so far (read up to now).
    public var output: String { pump(0); return String(decoding: outBuffer, as: UTF8.self) }
    public var errors: String { pump(0); return String(decoding: errBuffer, as: UTF8.self) }

    /// Writes to the child's stdin.
    public func write(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress! + sent, $0.count - sent) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Closes the child's stdin (end of file).
    public func closeInput() {
        if stdinFD >= 0 { close(stdinFD); stdinFD = -1 }
    }

    /// Reads until stdout holds a line containing `text`; returns that line.
    @discardableResult
    public func waitForLine(containing text: String, timeout: Duration = .seconds(60)) throws -> String {
        let deadline = monotonicNanos() &+ timeout.clampedNanoseconds
        var searched = 0
        while true {
            let lines = outBuffer.split(separator: 10, omittingEmptySubsequences: false)
            // The last piece may be an unfinished line: only whole lines count.
            for line in lines.dropLast().dropFirst(searched) {
                let s = String(decoding: line, as: UTF8.self)
                if s.contains(text) { return s }
            }
            searched = max(0, lines.count - 1)
            let now = monotonicNanos()
            if outEOF || now >= deadline {
                throw Timeout(description: "no line containing '\(text)' within \(timeout)\(outEOF ? " (stdout closed)" : ""); stdout: \(output.suffix(2000)) stderr: \(errors.suffix(2000))")
            }
            pump(min(deadline - now, 100_000_000))
        }
    }

    /// Waits for the child to exit; returns its exit status (128+N for signal N). Kills it
    /// (SIGKILL) and throws if it has not exited by then.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(60)) throws -> Int32 {
        if let exitStatus { return exitStatus }
        let deadline = monotonicNanos() &+ timeout.clampedNanoseconds
        while true {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                exitStatus = code
                // Collect what is still in the pipes.
                for _ in 0..<100 where !(outEOF && errEOF) { pump(50_000_000) }
                return code
            }
            if monotonicNanos() >= deadline {
                kill(pid, SIGKILL)
                var s: Int32 = 0
                waitpid(pid, &s, 0)
                exitStatus = 128 + SIGKILL
                throw Timeout(description: "the child did not exit within \(timeout); stdout: \(output.suffix(2000)) stderr: \(errors.suffix(2000))")
            }
            pump(20_000_000)
        }
    }

    /// Sends a signal.
    public func signal(_ sig: Int32) {
        kill(pid, sig)
    }

    /// The child's CPU time (user + system) so far, in seconds, from /proc; nil if /proc
    /// does not show it (a check on it must not pass for want of a figure).
    public var cpuSeconds: Double? {
        guard let f = fopen("/proc/\(pid)/stat", "r") else { return nil }
        defer { fclose(f) }
        var buf = [CChar](repeating: 0, count: 1024)
        guard fgets(&buf, 1024, f) != nil else { return nil }
        let line = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Fields after the command's closing parenthesis: state is field 3; utime 14, stime 15.
        guard let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Polls the pipes for up to `nanos` and appends what arrived; false if nothing did.
    @discardableResult
    private func pump(_ nanos: UInt64) -> Bool {
        var fds = [pollfd(fd: outEOF ? -1 : stdoutFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: errEOF ? -1 : stderrFD, events: Int16(POLLIN), revents: 0)]
        if outEOF && errEOF { return false }
        let r = poll(&fds, 2, Int32(nanos / 1_000_000))
        guard r > 0 else { return false }
        var got = false
        for (i, fd) in [stdoutFD, stderrFD].enumerated() where fds[i].revents != 0 {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                got = true
                if i == 0 { outBuffer += chunk[0..<n] } else { errBuffer += chunk[0..<n] }
            } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                if i == 0 { outEOF = true } else { errEOF = true }
            }
        }
        return got
    }
}

/// Runs a program to its end, with a time limit, feeding it `stdin`.
public func runChild(_ path: String, _ arguments: [String], stdin: String? = nil, environment: [String] = [],
                     timeout: Duration = .seconds(120)) throws -> (status: Int32, out: String, err: String) {
    let child = try ChildProcess(path, arguments, environment: environment)
    if let stdin { child.write(stdin) }
    child.closeInput()
    let status = try child.waitForExit(timeout: timeout)
    return (status, child.output, child.errors)
}
