// The seed's fib_server and fib_handler: a task that accepts connections and spawns one
// handler task per connection, each named after its peer. Handlers frame requests with
// RequestFramer and compute fib where the server's pool says, waiting as it says.
import Glibc
import Pools
import Runtime

/// Where the fib service's tasks write their lines: a terminal, a REPL, a test's buffer.
/// Called on the loop thread or, for thread-mode clients, on their own thread.
public struct LineSink: Sendable {
    public let write: @Sendable (_ line: String, _ task: TaskID?) -> Void

    public init(_ write: @escaping @Sendable (_ line: String, _ task: TaskID?) -> Void) {
        self.write = write
    }

    /// Writes each line to standard output with one write(2), so that piped output
    /// arrives line by line.
    public static let standardOutput = LineSink { line, _ in writeLine(line, to: 1) }

    /// Discards every line.
    public static let discard = LineSink { _, _ in }
}

/// How a fib server is set up.
public struct FibServerOptions: Sendable {
    public var host: String = SocketAddress.loopback
    /// 0 picks a free port.
    public var port: UInt16 = 25000
    public var pool: PoolSpec = .default
    /// fib(n) for n below this is computed on the loop, whatever the pool (0: every
    /// request goes to the pool, as in the seed). `defaultInlineBelow` with the default
    /// pool, where a thread hand-off costs far more than a small fib.
    public var inlineBelow: Int = 0
    public var wait: WaitMode = .yield
    /// Requests above this n are refused.
    public var ceiling: Int = 45
    public var backlog: Int32 = 128
    /// The server task's name (default: `server HOST:PORT`).
    public var name: String?
    /// Whether the thread pool computes under a GIL shared with the loop (the GIL switch).
    public var gil: Bool = false
    /// The GIL's switch interval (nil: as it is; 5 ms at first).
    public var switchInterval: Duration?
    /// On a virtual clock, what fib(30) costs on the server's pool (see `FibPool.virtualFib30`).
    public var virtualFib30: Duration = FibPool.defaultVirtualFib30

    public init(host: String = SocketAddress.loopback, port: UInt16 = 25000, pool: PoolSpec = .default,
                wait: WaitMode = .yield, ceiling: Int = 45, name: String? = nil,
                gil: Bool = false, switchInterval: Duration? = nil, inlineBelow: Int = 0) {
        self.name = name
        self.inlineBelow = inlineBelow
        self.gil = gil
        self.switchInterval = switchInterval
        self.host = host
        self.port = port
        self.pool = pool
        self.wait = wait
        self.ceiling = ceiling
    }
}

/// A running fib server: its task, the address it bound, and its pool.
public struct FibServerHandle: Sendable {
    public let task: TaskHandle
    public let address: SocketAddress
    public let pool: FibPool
    public let options: FibServerOptions
}

/// A number and "\n" as bytes (a small String: no allocation but the array's).
/// Appends `value` and a newline to `line`, digits straight into the bytes (no String:
/// this runs once per request).
func replyLine(_ value: Int, into line: inout [UInt8]) {
    var magnitude = value.magnitude
    let start = line.count
    repeat {
        line.append(UInt8(truncatingIfNeeded: magnitude % 10) &+ 48)
        magnitude /= 10
    } while magnitude > 0
    if value < 0 { line.append(45) }
    line[start...].reverse()
    line.append(10)
}

/// How much a handler receives at a time.
let receiveSize = 4096

/// What the default configuration computes on the loop: fib(n) for n below 20 takes
/// microseconds, less than handing it to a pool thread and back.
public let defaultInlineBelow = 20

/// How long a server waits before accepting again when it ran out of fds.
let acceptBackoff: Duration = .milliseconds(100)

/// The fib microservice.
public enum FibServer {
    /// Binds now — so a port in use is an error here, not later — starts the pool, and
    /// spawns the server task (it only enters the ready queue). Writes
    /// `listening on HOST:PORT` (the port actually bound) to `output`.
    ///
    /// - Throws: `SocketError` (e.g. `127.0.0.1:25000: address already in use
    ///   (EADDRINUSE)`), `PoolError`, or `FibServiceError` for a ceiling out of range.
    public static func spawn(on loop: EventLoop, options: FibServerOptions, output: LineSink) throws -> FibServerHandle {
        guard (0...fibLargestN).contains(options.ceiling) else {
            throw FibServiceError("the ceiling must be from 0 to \(fibLargestN) (fib(\(fibLargestN + 1)) does not fit in 64 bits)")
        }
        let listener = try AsyncSocket.listen(on: loop, host: options.host, port: options.port, backlog: options.backlog)
        let address = listener.localAddress!
        let pool: FibPool
        do {
            pool = try FibPool(options.pool, gilOf: options.gil ? loop : nil, switchInterval: options.switchInterval,
                               inlineBelow: options.inlineBelow)
            pool.virtualFib30 = options.virtualFib30
        } catch {
            listener.close()
            throw error
        }
        let task = loop.spawn(name: options.name ?? "server \(address)", kind: "server") {
            defer {
                listener.close()
                pool.shutdown()
            }
            var backingOffSince: UInt64?
            var retries = 0
            while true {
                let client: AsyncSocket
                do {
                    client = try await listener.accept()
                } catch let error as SocketError where error.isResourceExhaustion {
                    // Out of fds (or kernel buffers) for a moment. The connection stays in
                    // the backlog and the listener stays readable, so retrying at once
                    // would spin the loop: back off, as NIO's accept handler does, and
                    // serve again once fds free up.
                    if backingOffSince == nil {
                        backingOffSince = loop.now()
                        output.write("accept: \(error); retrying every \(DurationText.format(acceptBackoff))", nil)
                    }
                    retries += 1
                    loop.setFact("accept", "\(error) (backing off, \(retries) retries)")
                    try await loop.sleep(for: acceptBackoff)
                    continue
                }
                if let since = backingOffSince {
                    let waited = DurationText.format(.nanoseconds(Int64(loop.now() &- since)))
                    output.write("accept: accepting again after \(waited) (\(retries) retries)", nil)
                    loop.setFact("accept", "ok after backing off \(waited)")
                    backingOffSince = nil
                    retries = 0
                }
                let peer = client.peerAddress.map(\.description) ?? "?"
                loop.spawn(name: "handler \(peer)", kind: "handler") {
                    try await serve(client, pool: pool, options: options, loop: loop)
                }
            }
        }
        loop.setFact("address", address.description, for: task.id)
        loop.setFact("pool", pool.description, for: task.id)
        loop.setFact("wait", options.wait.description, for: task.id)
        if let gil = pool.gil {
            loop.setFact("gil", "on (switch interval \(DurationText.format(gil.switchInterval)))", for: task.id)
        }
        output.write("listening on \(address)", task.id)
        return FibServerHandle(task: task, address: address, pool: pool, options: options)
    }

    /// One connection: requests in, one reply line each, in order. A client that has gone
    /// away (reset, or a send fails) ends the handler quietly, its result dropped.
    static func serve(_ client: AsyncSocket, pool: FibPool, options: FibServerOptions, loop: EventLoop) async throws {
        defer { client.close() }
        var framer = RequestFramer(ceiling: options.ceiling)
        // Kept between requests: no allocation for them per request.
        var items: [RequestFramer.Item] = []
        var reply: [UInt8] = []
        while true {
            guard let data = try? await client.recv(max: receiveSize) else { return }
            var endOfFile = data.isEmpty
            items.removeAll(keepingCapacity: true)
            framer.feed(data, into: &items)
            // An unterminated request counts only once nothing more is immediately there:
            // a recv that did not fill the buffer took all the socket had (as the seed's
            // recv(100) takes one request); after a full one, look again without waiting.
            var last = data.count
            while framer.hasPartial && !endOfFile {
                let more: [UInt8]?
                if last < receiveSize {
                    more = nil
                } else {
                    do { more = try client.tryRecv(max: receiveSize) } catch { return }
                }
                guard let more else {
                    if let item = framer.flushPartial() { items.append(item) }
                    break
                }
                last = more.count
                if more.isEmpty { endOfFile = true } else { framer.feed(more, into: &items) }
            }
            if endOfFile, let item = framer.flushPartial() { items.append(item) }
            for item in items {
                var close = false
                reply.removeAll(keepingCapacity: true)
                switch item {
                case .request(let n):
                    do {
                        replyLine(try await pool.fib(n, on: loop, wait: options.wait), into: &reply)
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        reply = Array("error: \(error)\n".utf8)
                    }
                case .bad(let reason):
                    reply = Array("error: \(reason)\n".utf8)
                case .fatal(let reason):
                    reply = Array("error: \(reason)\n".utf8)
                    close = true
                }
                do {
                    try await client.send(all: reply)
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    return  // the client is gone: drop the result
                }
                if close { return }
            }
            if endOfFile { return }
        }
    }
}
