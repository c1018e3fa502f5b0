// The seed's ProcessPoolExecutor: N real OS worker processes. Each is a small executable
// started with posix_spawn (never fork: forking a multithreaded Swift process is unsafe),
// talking one line in, one line out over a socketpair on its stdin/stdout. Every other fd
// is closed in the child, so a worker never holds a listening socket open. One proxy
// thread per worker does the blocking I/O and completes futures, which wakes the loop.
import CLinux
import Glibc
import Runtime
import Synchronization

/// A pool of worker processes speaking a line protocol: a request line in, a reply line
/// out (`error: …` for a failure).
public final class ProcessPool: @unchecked Sendable {
    /// `"process:2"`
    public let name: String
    /// How often an idle proxy thread checks that its worker is alive.
    static let idleCheckNanos: UInt64 = 100_000_000
    public let size: Int
    /// The worker executable's path.
    public let executable: String
    let arguments: [String]
    private let queue: WorkQueue<WorkerProcess?>
    private var threads: [OSThread] = []
    private let registry = WorkerRegistry()
    /// The pause gate of the loop it serves (`stopsWithLoop`).
    private let pausedBy = Locked<PauseGate?>(nil)

    /// Starts `size` workers of `executable` (found by `locate(_:)` if not a path).
    ///
    /// - Throws: `PoolError.cannotStart` if the executable cannot be found or started.
    public init(size: Int, executable: String, arguments: [String] = [], name: String? = nil) throws {
        self.size = max(1, size)
        self.queue = WorkQueue(workers: max(1, size))
        self.name = name ?? "process:\(max(1, size))"
        guard let path = ProcessPool.locate(executable) else {
            throw PoolError.cannotStart(pool: self.name, reason: "cannot find the worker executable '\(executable)' (set COREPL_WORKER to its path)")
        }
        self.executable = path
        self.arguments = arguments
        // Start every worker now, so a broken executable fails here, not at the first request.
        var first: [WorkerProcess] = []
        for i in 1...self.size {
            do {
                first.append(try WorkerProcess(path: path, arguments: arguments, number: i))
            } catch {
                first.forEach { $0.kill() }
                throw PoolError.cannotStart(pool: self.name, reason: "\(error)")
            }
        }
        for (i, worker) in first.enumerated() {
            registry.set(i + 1, pid: worker.pid)
            let queue = self.queue, registry = self.registry
            let thread = OSThread(name: "proc-\(i + 1)") { [path, arguments] in
                var context: WorkerProcess? = worker
                func replaceIfDead() {
                    if context == nil || !context!.isAlive {
                        context?.reap()
                        context = try? WorkerProcess(path: path, arguments: arguments, number: i + 1)
                        registry.set(i + 1, pid: context?.pid)
                    }
                }
                while true {
                    // While idle, look at the worker every 100 ms: one killed between
                    // requests is reaped and replaced then, not left a zombie until the
                    // next request.
                    let item: WorkItem<WorkerProcess?>
                    switch queue.take(idleNanos: ProcessPool.idleCheckNanos) {
                    case .item(let next): item = next
                    case .idle: replaceIfDead(); continue
                    case .stopping: context?.terminate(); registry.set(i + 1, pid: nil); return
                    }
                    replaceIfDead()
                    item.run(&context, i + 1)
                    queue.done()
                    // A worker that died on this request is reaped and replaced now.
                    replaceIfDead()
                }
            }
            threads.append(thread)
            thread.start()
        }
    }

    /// Sends `request` (one line, no newline) to a worker; the future completes with the
    /// reply line, or fails with the worker's `error: …` text or `PoolError.workerDied`.
    /// Call on the loop thread.
    ///
    /// - Parameter virtualCost: on a virtual clock, how long the work takes.
    public func submit(on loop: EventLoop, label: String, request: String, virtualCost: Duration? = nil) -> LoopFuture<String> {
        let pool = name
        stopsWithLoop(loop)
        return queue.submit(on: loop, pool: pool, label: label, virtualCost: virtualCost) { context, worker in
            guard let process = context else {
                return .failure(PoolError.cannotStart(pool: pool, reason: "worker \(worker) could not be restarted"))
            }
            return process.roundTrip(request, pool: pool, label: label)
        }
    }

    /// While `loop` is paused its workers are stopped (SIGSTOP) and continued with it: a
    /// computation at a breakpoint stands still with the loop (PauseGate.swift).
    private func stopsWithLoop(_ loop: EventLoop) {
        let gate = loop.pauseGate
        let joined = pausedBy.withLock { current -> Bool in
            guard current !== gate else { return false }
            current?.removeListener(self)
            current = gate
            return true
        }
        guard joined else { return }
        let registry = self.registry
        gate.addListener(self) { closing in
            for pid in registry.pids { Glibc.kill(pid, closing ? SIGSTOP : SIGCONT) }
        }
    }

    /// The live workers' process ids, by worker number (any thread).
    public var workerPIDs: [Int32] { registry.pids }

    /// Work waiting for a worker, and work running now (any thread).
    public var load: (queued: Int, running: Int) { queue.load }

    /// Fails queued work, kills the workers (a computation in flight fails with
    /// `PoolError.shutDown`) and waits for their proxy threads.
    public func shutdown() {
        pausedBy.withLock { $0?.removeListener(self); $0 = nil }
        for item in queue.stop(waiters: size) { item.abandon() }
        for pid in registry.pids { Glibc.kill(pid, SIGKILL) }
        for t in threads { t.join() }
        threads.removeAll()
    }

    deinit {
        if !threads.isEmpty { shutdown() }
    }

    /// Finds an executable: `COREPL_WORKER` for `corepl-worker`, a path as given, the
    /// directory of the running executable (where SwiftPM puts every product), or PATH.
    public static func locate(_ name: String) -> String? {
        if name == "corepl-worker", let env = getenv("COREPL_WORKER") {
            let path = String(cString: env)
            return access(path, X_OK) == 0 ? path : nil
        }
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        if n > 0 {
            let exe = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var dir = exe.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            // A test bundle sits in the build directory too (…/corepl-PackageTests.xctest).
            if dir.hasSuffix(".xctest") { dir = dir.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") }
            let candidate = dir + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        if let pathEnv = getenv("PATH") {
            for dir in String(cString: pathEnv).split(separator: ":") {
                let candidate = "\(dir)/\(name)"
                if access(candidate, X_OK) == 0 { return candidate }
            }
        }
        return nil
    }
}

/// Which pid each worker number has now (any thread).
final class WorkerRegistry: @unchecked Sendable {
    private let lock = Locked<[Int: Int32]>([:])

    func set(_ worker: Int, pid: Int32?) {
        lock.withLock { $0[worker] = pid }
    }

    var pids: [Int32] {
        lock.withLock { m in m.keys.sorted().compactMap { m[$0] } }
    }
}

/// One worker process and the parent's end of its socketpair (proxy thread only).
/// Handed to its proxy thread at start and used there only.
final class WorkerProcess: @unchecked Sendable {
    let pid: Int32
    let number: Int
    private var fd: Int32
    private var exited: Int32?
    private var pending: [UInt8] = []

    init(path: String, arguments: [String], number: Int) throws(SystemCallError) {
        self.number = number
        var fds: [Int32] = [-1, -1]
        _ = try Sys.call("socketpair") { socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        // Belt and braces: every fd of ours is close-on-exec already; close the rest too.
        _ = corepl_spawn_closefrom(&actions, 3)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // No signal blocked or ignored in the worker, whatever this thread has.
        _ = corepl_spawnattr_clean_signals(&attributes)
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        Glibc.close(fds[1])
        guard rc == 0 else {
            Glibc.close(fds[0])
            throw SystemCallError("posix_spawn", errno: .init(rawValue: rc))
        }
        pid = child
        fd = fds[0]
    }

    deinit {
        if fd >= 0 { Glibc.close(fd) }
    }

    /// True until the process is known to have exited.
    var isAlive: Bool {
        if exited != nil { return false }
        var status: Int32 = 0
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { exited = status; return false }
        return r == 0
    }

    /// Sends one request line and reads one reply line.
    func roundTrip(_ request: String, pool: String, label: String) -> Result<String, any Error> {
        let line = Array((request + "\n").utf8)
        var sent = 0
        while sent < line.count {
            let n = line.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return .failure(died(pool: pool, label: label)) }
            sent += n
        }
        while true {
            if let newline = pending.firstIndex(of: 10) {
                let reply = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if reply.hasPrefix("error: ") { return .failure(WorkerError(message: String(reply.dropFirst(7)))) }
                return .success(reply)
            }
            var buf = [UInt8](repeating: 0, count: 256)
            let n = buf.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return .failure(died(pool: pool, label: label)) }
            pending.append(contentsOf: buf[0..<n])
        }
    }

    private func died(pool: String, label: String) -> any Error {
        reap()
        let status = exited.map(Self.describe) ?? "connection lost"
        Glibc.close(fd)
        fd = -1
        return PoolError.workerDied(pool: pool, pid: pid, status: status, work: label)
    }

    /// Collects the exit status (blocking: the process is gone or going).
    func reap() {
        guard exited == nil else { return }
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        exited = status
    }

    /// Asks the worker to exit (end of file on its stdin), then reaps it.
    func terminate() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
        if isAlive { Glibc.kill(pid, SIGKILL) }
        reap()
    }

    func kill() {
        Glibc.kill(pid, SIGKILL)
        reap()
    }

    static func describe(_ status: Int32) -> String {
        let sig = status & 0x7f
        if sig == 0 { return "exited with status \((status >> 8) & 0xff)" }
        let name = sig == SIGKILL ? "SIGKILL" : sig == SIGTERM ? "SIGTERM" : sig == SIGSEGV ? "SIGSEGV" : "signal \(sig)"
        return "killed by \(name)"
    }
}

/// An `error: …` line from a worker.
public struct WorkerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
