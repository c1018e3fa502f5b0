// The seed's perf1 and perf2 clients, and one-shot requests, as cooperative tasks on the
// loop. Their figures (latencies, per-second counts) are recorded on their task, where the
// REPL and tests read them; their lines go to a LineSink.
import Runtime

/// Reads reply lines from a socket.
struct LineReader {
    let socket: AsyncSocket
    private var buffer: [UInt8] = []

    init(_ socket: AsyncSocket) { self.socket = socket }

    /// The next line without its newline; nil at end of file.
    mutating func next(fileID: StaticString = #fileID, line: UInt = #line) async throws -> String? {
        while true {
            if let nl = buffer.firstIndex(of: 10) {
                let text = String(decoding: buffer[..<nl], as: UTF8.self)
                buffer.removeSubrange(...nl)
                return text.trimmingWhitespace()
            }
            let data = try await socket.recv(max: 4096, fileID: fileID, line: line)
            if data.isEmpty { return nil }
            buffer += data
        }
    }
}

/// The server closed the connection, or answered with an error.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Names of the figures the clients record.
public enum Figure {
    /// perf1 and request: seconds per reply.
    public static let latency = "latency"
    /// perf2: replies per second, one value per second.
    public static let reqsPerSec = "reqs_per_sec"
    /// perf2: replies per 100 ms, one value per 100 ms (fine enough to see a one-second
    /// starvation whatever its phase against the per-second windows).
    public static let reqsPer100ms = "reqs_per_100ms"
    /// request: the replies' values.
    public static let result = "result"
}

/// The clients, as tasks on a loop.
public enum LoopClients {
    /// perf1: repeated fib(n) requests on one connection, printing each latency in
    /// seconds (`0.2326`) and recording it as `latency`. Runs until cancelled or, with a
    /// duration, until it has passed (counted from the client's first step).
    @discardableResult
    public static func perf1(on loop: EventLoop, to address: SocketAddress, n: Int = 30,
                             duration: Duration? = nil, name: String? = nil, output: LineSink) -> TaskHandle {
        loop.spawn(name: name ?? "perf1 \(address)", kind: "perf1") {
            // The duration counts from the client's first step, and the clock is read in a
            // step: a reading a task depends on is one the input journal keeps, so a replay
            // gets the same deadline (one read by the spawning command would not be).
            let deadline = duration.map { loop.now() &+ $0.clampedNanoseconds }
            let socket = try await AsyncSocket.connect(on: loop, to: address)
            defer { socket.close() }
            var reader = LineReader(socket)
            let id = loop.currentTask
            let stamps = loop.stamps()
            while deadline.map({ loop.now() < $0 }) ?? true {
                let start = loop.now()
                try await socket.send(all: Array("\(n)\n".utf8))
                stamps?.add(Stamp.sent, at: start)
                guard let reply = try await reader.next() else { throw ClientError("the server closed the connection") }
                let end = loop.now()
                stamps?.add(Stamp.replied, at: end)
                if reply.hasPrefix("error:") { throw ClientError("server replied '\(reply)'") }
                let seconds = Double(end - start) / 1e9
                loop.record(seconds, as: Figure.latency)
                output.write(formatSeconds(seconds), id)
            }
        }
    }

    /// perf2: fib(1) ping-pong on one connection, printing `N reqs/sec` each second and
    /// recording each count as `reqs_per_sec` (and every 100 ms as `reqs_per_100ms`). A monitor task does the counting, like the
    /// seed's monitor thread, so a starved server shows as `0 reqs/sec`. With a duration,
    /// it stops once that has passed (counted from its first step).
    @discardableResult
    public static func perf2(on loop: EventLoop, to address: SocketAddress,
                             duration: Duration? = nil, name: String? = nil, output: LineSink) -> TaskHandle {
        let counter = Counter()
        return loop.spawn(name: name ?? "perf2 \(address)", kind: "perf2") {
            // From the client's first step, read in the step (as perf1's).
            let deadline = duration.map { loop.now() &+ $0.clampedNanoseconds }
            let socket = try await AsyncSocket.connect(on: loop, to: address)
            defer { socket.close() }
            let me = loop.currentTask!
            let monitor = loop.spawn(name: "perf2 monitor", kind: "monitor") {
                var second = 0
                var ticks = 0
                var nextTick = loop.now() + 100_000_000
                func close(_ n: Int) {
                    loop.record(Double(n), as: Figure.reqsPer100ms, for: me)
                    second += n
                    ticks += 1
                    if ticks == 10 {
                        loop.record(Double(second), as: Figure.reqsPerSec, for: me)
                        output.write("\(second) reqs/sec", me)
                        (second, ticks) = (0, 0)
                    }
                }
                while true {
                    let now = loop.now()
                    try await loop.sleep(for: .nanoseconds(Int64(nextTick > now ? nextTick - now : 0)))
                    // A loop blocked past several ticks served nobody in them: they count 0,
                    // and what arrived since counts in the last one.
                    while loop.now() >= nextTick + 100_000_000 {
                        close(0)
                        nextTick += 100_000_000
                    }
                    close(counter.take())
                    nextTick += 100_000_000
                }
            }
            defer { loop.cancel(monitor.id) }
            var reader = LineReader(socket)
            let stamps = loop.stamps()
            while deadline.map({ loop.now() < $0 }) ?? true {
                try await socket.send(all: Array("1\n".utf8))
                guard let reply = try await reader.next() else { throw ClientError("the server closed the connection") }
                if reply != "1" { throw ClientError("server replied '\(reply)'") }
                stamps?.add(Stamp.replied, at: loop.now())
                counter.add()
            }
        }
    }

    /// One request per n, in order, printing `fib(N) = X` and recording `result` and
    /// `latency`; an error reply is printed and recorded as a failure of the task.
    @discardableResult
    public static func request(on loop: EventLoop, to address: SocketAddress, ns: [Int],
                               name: String? = nil, output: LineSink) -> TaskHandle {
        loop.spawn(name: name ?? "request \(address) \(ns.map(String.init).joined(separator: " "))", kind: "request") {
            let socket = try await AsyncSocket.connect(on: loop, to: address)
            defer { socket.close() }
            var reader = LineReader(socket)
            let id = loop.currentTask
            let stamps = loop.stamps()
            var failures: [String] = []
            for n in ns {
                let start = loop.now()
                try await socket.send(all: Array("\(n)\n".utf8))
                stamps?.add(Stamp.sent, at: start)
                guard let reply = try await reader.next() else { throw ClientError("the server closed the connection") }
                let end = loop.now()
                stamps?.add(Stamp.replied, at: end)
                let seconds = Double(end - start) / 1e9
                loop.record(seconds, as: Figure.latency)
                if let value = Int(reply) {
                    loop.record(Double(value), as: Figure.result)
                    output.write("fib(\(n)) = \(value) in \(formatMillis(seconds))", id)
                } else {
                    failures.append(reply)
                    output.write("fib(\(n)): \(reply)", id)
                }
            }
            if !failures.isEmpty { throw ClientError("server replied '\(failures[0])'") }
        }
    }
}

/// `2.4 ms`, `1.21 s`
public func formatMillis(_ seconds: Double) -> String {
    if seconds >= 1 { return "\((seconds * 100).rounded() / 100) s" }
    return "\((seconds * 10_000).rounded() / 10) ms"
}

/// A count shared by a client and its monitor (loop thread only).
final class Counter: @unchecked Sendable {
    private var value = 0
    func add() { value += 1 }
    func take() -> Int {
        defer { value = 0 }
        return value
    }
}
