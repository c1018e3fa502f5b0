// The fib microservice on SwiftNIO, as its users would write it: one ServerBootstrap, a
// configurable number of event loops, fib computed inline or, above a threshold, on a
// NIOThreadPool, replies in order. Like the seed's `recv(100)`, each read is one request
// (perf2 sends "1" with no newline); a read may also carry several "\n"-terminated ones.
//
//   nio-peer [--port P] [--loops N] [--pool-above N] [--pool-threads N]
//
// Prints `listening on 127.0.0.1:PORT` once bound (port 0 picks one).
import Glibc
import NIOCore
import NIOPosix

func fib(_ n: Int) -> Int { n <= 2 ? 1 : fib(n - 1) + fib(n - 2) }

struct Options {
    var port = 25001
    var loops = 1
    /// fib(n) for n above this goes to the thread pool; nil: always inline.
    var poolAbove: Int? = nil
    var poolThreads = 4
}

var options = Options()
var args = CommandLine.arguments.dropFirst()
while let flag = args.popFirst() {
    guard let value = args.popFirst().flatMap({ Int($0) }) else {
        fatalError("usage: nio-peer [--port P] [--loops N] [--pool-above N] [--pool-threads N]")
    }
    switch flag {
    case "--port": options.port = value
    case "--loops": options.loops = value
    case "--pool-above": options.poolAbove = value
    case "--pool-threads": options.poolThreads = value
    default: fatalError("unknown option \(flag)")
    }
}

let threadPool = NIOThreadPool(numberOfThreads: options.poolThreads)
if options.poolAbove != nil { threadPool.start() }

/// One connection. Loop-confined, as every NIO handler is.
final class FibHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let poolAbove: Int?
    let pool: NIOThreadPool
    /// The last reply still waiting for the pool: later replies go out after it.
    private var tail: EventLoopFuture<Void>?

    init(poolAbove: Int?, pool: NIOThreadPool) {
        self.poolAbove = poolAbove
        self.pool = pool
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        for line in buffer.readableBytesView.split(separator: UInt8(ascii: "\n")) {
            let text = String(decoding: line, as: UTF8.self).filter { !$0.isWhitespace }
            guard let n = Int(text), (0...45).contains(n) else {
                send("error: bad request", context: context)
                continue
            }
            if let above = poolAbove, n > above {
                let result = pool.runIfActive(eventLoop: context.eventLoop) { fib(n) }
                let previous = tail ?? context.eventLoop.makeSucceededVoidFuture()
                let written = previous.flatMap { result }.assumeIsolated().map { value in
                    self.send(String(value), context: context)
                }.nonisolated()
                tail = written
                written.assumeIsolated().whenComplete { _ in if self.tail === written { self.tail = nil } }
            } else if let previous = tail {
                let value = fib(n)
                let written = previous.assumeIsolated().map { self.send(String(value), context: context) }.nonisolated()
                tail = written
                written.assumeIsolated().whenComplete { _ in if self.tail === written { self.tail = nil } }
            } else {
                send(String(fib(n)), context: context)
            }
        }
    }

    private func send(_ text: String, context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: text.utf8.count + 1)
        out.writeString(text)
        out.writeInteger(UInt8(ascii: "\n"))
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

let group = MultiThreadedEventLoopGroup(numberOfThreads: options.loops)
let poolAbove = options.poolAbove
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(FibHandler(poolAbove: poolAbove, pool: threadPool))
        }
    }
let channel = try bootstrap.bind(host: "127.0.0.1", port: options.port).wait()
// One write(2), so that a pipe reader sees the line at once.
let line = "listening on 127.0.0.1:\(channel.localAddress!.port!)\n"
_ = line.utf8CString.withUnsafeBytes { Glibc.write(1, $0.baseAddress, line.utf8.count) }
try channel.closeFuture.wait()
