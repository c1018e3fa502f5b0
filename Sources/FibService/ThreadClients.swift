// The clients again, on their own OS thread with blocking sockets — like a second terminal
// in the seed — so they measure the server from outside its loop. Used by
// `corepl perf1/perf2` and by the REPL's `spawn … --thread`.
import Glibc
import Pools
import Runtime
import TimeTravel
import Synchronization

/// A fib client on the calling thread, with blocking sockets. Stoppable from any thread.
public final class BlockingClient: Sendable {
    public let address: SocketAddress
    /// The clock the client times with: latencies, rates, deadlines and stamps.
    public let clock: @Sendable () -> UInt64
    private let stopFlag = Atomic<Bool>(false)

    /// A client of the server at `address`, timing with `clock` (default the monotonic
    /// clock; a loop's `sharedClock` when its figures are compared with the loop's, so
    /// that time the loop stood paused is not counted).
    public init(address: SocketAddress, clock: @escaping @Sendable () -> UInt64 = { monotonicNanos() }) {
        self.address = address
        self.clock = clock
    }

    /// Asks a running client to stop after its current request (any thread). A client
    /// blocked on a starved server notices within 100 ms.
    public func requestStop() { stopFlag.store(true, ordering: .relaxed) }

    var stopped: Bool { stopFlag.load(ordering: .relaxed) }

    /// perf1: fib(n) repeatedly, a latency line (`0.2326`) per reply. Stamps `sent` and
    /// `replied` on `stamps` as they happen.
    public func perf1(n: Int, duration: Duration?, stamps: Stamps? = nil,
                      output: (String) -> Void, record: (String, Double) -> Void) throws {
        let conn = try Connection(to: address)
        defer { conn.close() }
        let deadline = duration.map { clock() &+ $0.clampedNanoseconds }
        while !stopped, deadline.map({ clock() < $0 }) ?? true {
            let start = clock()
            try conn.send("\(n)\n")
            stamps?.add(Stamp.sent, at: start)
            guard let reply = try conn.readLine(stop: stopFlag) else { return }
            let end = clock()
            stamps?.add(Stamp.replied, at: end)
            if reply.hasPrefix("error:") { throw ClientError("server replied '\(reply)'") }
            let seconds = Double(end - start) / 1e9
            record(Figure.latency, seconds)
            output(formatSeconds(seconds))
        }
    }

    /// perf2: fib(1) ping-pong, `N reqs/sec` each second (0 while the server is starved);
    /// records `reqs_per_sec` and, every 100 ms, `reqs_per_100ms` (a reply counts in the
    /// tick it arrived in, however long it took); stamps each reply as `replied`.
    public func perf2(duration: Duration?, stamps: Stamps? = nil,
                      output: (String) -> Void, record: (String, Double) -> Void) throws {
        let conn = try Connection(to: address)
        defer { conn.close() }
        let start = clock()
        let deadline = duration.map { start &+ $0.clampedNanoseconds }
        var nextTick = start + 100_000_000
        var ticks = 0
        var tickCount = 0
        var count = 0
        var inFlight = false
        func report(upTo now: UInt64) {
            while now >= nextTick {
                record(Figure.reqsPer100ms, Double(tickCount))
                tickCount = 0
                nextTick += 100_000_000
                ticks += 1
                if ticks == 10 {
                    record(Figure.reqsPerSec, Double(count))
                    output("\(count) reqs/sec")
                    count = 0
                    ticks = 0
                }
            }
        }
        while !stopped {
            let now = clock()
            report(upTo: now)
            if let deadline, now >= deadline { return }
            if !inFlight {
                try conn.send("1\n")
                inFlight = true
            }
            switch try conn.readLineOrTimeout() {
            case .line(let reply):
                guard reply == "1" else { throw ClientError("server replied '\(reply)'") }
                // Close the ticks that passed while it waited before counting the reply.
                let arrived = clock()
                stamps?.add(Stamp.replied, at: arrived)
                report(upTo: arrived)
                count += 1
                tickCount += 1
                inFlight = false
            case .timeout:
                continue
            case .closed:
                throw ClientError("\(address): the server closed the connection")
            }
        }
    }

    /// One request per n, in order: `fib(N) = X in 2.4 ms`. Stamps `sent` and `replied`.
    public func request(ns: [Int], stamps: Stamps? = nil,
                        output: (String) -> Void, record: (String, Double) -> Void) throws {
        let conn = try Connection(to: address)
        defer { conn.close() }
        var failure: String?
        for n in ns where !stopped {
            let start = clock()
            try conn.send("\(n)\n")
            stamps?.add(Stamp.sent, at: start)
            guard let reply = try conn.readLine(stop: stopFlag) else { return }
            let end = clock()
            stamps?.add(Stamp.replied, at: end)
            let seconds = Double(end - start) / 1e9
            record(Figure.latency, seconds)
            if let value = Int(reply) {
                record(Figure.result, Double(value))
                output("fib(\(n)) = \(value) in \(formatMillis(seconds))")
            } else {
                failure = failure ?? reply
                output("fib(\(n)): \(reply)")
            }
        }
        if let failure { throw ClientError("server replied '\(failure)'") }
    }
}

/// A blocking TCP connection with a 100 ms receive timeout, so stop requests are seen.
final class Connection {
    private var fd: Int32
    private let address: SocketAddress
    private var buffer: [UInt8] = []

    enum Read { case line(String), timeout, closed }

    init(to address: SocketAddress) throws {
        self.address = address
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError(.system(.init(rawValue: errno)), operation: "socket", address: address.description) }
        var sa = address.sockaddrIn
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            let e = errno
            // Through close(), which forgets the fd: the connection is whole by now, so its
            // deinit runs after the throw, and a second close of the number could close
            // another thread's new socket (a client beside it failed with EBADF).
            close()
            throw SocketError(.system(.init(rawValue: e)), operation: "connect", address: address.description)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw SocketError(.system(.init(rawValue: errno)), operation: "send", address: address.description) }
            sent += n
        }
    }

    /// A line, waiting as long as it takes (until `stop`); nil if stopped.
    func readLine(stop: borrowing Atomic<Bool>) throws -> String? {
        while true {
            switch try readLineOrTimeout() {
            case .line(let l): return l
            case .timeout: if stop.load(ordering: .relaxed) { return nil }
            case .closed: throw ClientError("\(address): the server closed the connection")
            }
        }
    }

    func readLineOrTimeout() throws -> Read {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let line = String(decoding: buffer[..<nl], as: UTF8.self).trimmingWhitespace()
                buffer.removeSubrange(...nl)
                return .line(line)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer += chunk[0..<n]
                continue
            }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .timeout }
            throw SocketError(.system(.init(rawValue: errno)), operation: "recv", address: address.description)
        }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { close() }
}

extension LoopClients {
    /// Which client to run on a thread.
    public enum ThreadedKind: Sendable {
        case perf1(n: Int)
        case perf2
        case request([Int])
    }

    /// Runs a client on its own OS thread, represented on the loop by a task (kind
    /// `perf1`/`perf2`/`request`) that waits for the thread and records its figures.
    /// Cancelling the task stops the thread.
    @discardableResult
    public static func threaded(_ kind: ThreadedKind, on loop: EventLoop, to address: SocketAddress,
                                duration: Duration? = nil, name: String? = nil, output: LineSink) -> TaskHandle {
        let (kindName, suffix): (String, String)
        switch kind {
        case .perf1: (kindName, suffix) = ("perf1", "")
        case .perf2: (kindName, suffix) = ("perf2", "")
        case .request(let ns): (kindName, suffix) = ("request", " " + ns.map(String.init).joined(separator: " "))
        }
        return loop.spawn(name: name ?? "\(kindName) --thread \(address)\(suffix)", kind: kindName) {
            let me = loop.currentTask!
            let stamps = loop.stamps(for: me)
            let shared = loop.sharedClock
            let client = BlockingClient(address: address, clock: { shared.now() })
            // The thread's outcome is an outside input: a journal keeps how it ended, and a
            // replay (which opens no socket) takes that from the journal without the thread.
            let finished = loop.makeOutsideFuture(label: "\(kindName) thread", countsAsPending: false)
            if loop.isReplayingInputs {
                try await finished.get(label: "thread")
                return
            }
            let thread = OSThread(name: kindName) {
                let write: (String) -> Void = { output.write($0, me) }
                let record: (String, Double) -> Void = { name, value in
                    loop.execute { loop.record(value, as: name, for: me) }
                }
                finished.complete(Result {
                    switch kind {
                    case .perf1(let n): try client.perf1(n: n, duration: duration, stamps: stamps, output: write, record: record)
                    case .perf2: try client.perf2(duration: duration, stamps: stamps, output: write, record: record)
                    case .request(let ns): try client.request(ns: ns, stamps: stamps, output: write, record: record)
                    }
                })
            }
            thread.start()
            defer {
                client.requestStop()
                thread.detach()
            }
            try await finished.get(label: "thread")
        }
    }
}
