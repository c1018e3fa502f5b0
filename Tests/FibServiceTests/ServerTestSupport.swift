// A scripted client for the server tests: a task on the same loop that sends chunks and
// reads lines, so every exchange is driven by stepping the loop.
@testable import FibService
import Glibc
import Runtime
import Synchronization
import Testing
import TestSupport

/// One thing a scripted client does.
enum ClientStep: Sendable {
    case send(String)
    case sendBytes([UInt8])
    /// Read one reply line (without its newline).
    case readLine
    /// Shut down the sending side (a half-close).
    case shutdownWrite
    /// Read until end of file; every line read is kept.
    case readToEOF
    /// Close the connection abruptly.
    case close
}

/// What a scripted client saw.
final class Transcript: @unchecked Sendable {
    var lines: [String] = []
    var sawEOF = false
}

/// Collects every line the service wrote (loop thread or client threads).
final class Lines: Sendable {
    private let store = Locked<[String]>([])
    var all: [String] { store.withLock { $0 } }
    var sink: LineSink { LineSink { line, _ in self.store.withLock { $0.append(line) } } }
}

extension EventLoop {
    /// Spawns a scripted client and runs the loop until it finishes; returns what it saw.
    func script(_ address: SocketAddress, _ steps: [ClientStep], sourceLocation: SourceLocation = #_sourceLocation) -> Transcript {
        let transcript = Transcript()
        let task = spawn(name: "scripted client", kind: "test") {
            let s = try await AsyncSocket.connect(on: self, to: address)
            var buffer: [UInt8] = []
            func line() async throws -> String? {
                while true {
                    if let nl = buffer.firstIndex(of: 10) {
                        let l = String(decoding: buffer[..<nl], as: UTF8.self)
                        buffer.removeSubrange(...nl)
                        return l
                    }
                    let data = try await s.recv(max: 65536)
                    if data.isEmpty { return nil }
                    buffer += data
                }
            }
            for step in steps {
                switch step {
                case .send(let text): try await s.send(all: Array(text.utf8))
                case .sendBytes(let bytes): try await s.send(all: bytes)
                case .readLine:
                    guard let l = try await line() else { transcript.sawEOF = true; return }
                    transcript.lines.append(l)
                case .shutdownWrite: s.shutdownWrite()
                case .readToEOF:
                    while let l = try await line() { transcript.lines.append(l) }
                    transcript.sawEOF = true
                case .close: s.close()
                }
            }
            s.close()
        }
        let outcome = run(until: .taskDone(task.id), pollTimeout: .milliseconds(50))
        if case .taskDone = outcome {} else { Issue.record("client did not finish: \(outcome)", sourceLocation: sourceLocation) }
        if case .failed(let e)? = taskInfo(task.id)?.state { Issue.record("client failed: \(e)", sourceLocation: sourceLocation) }
        return transcript
    }

    /// A fib server on a free port.
    func fibServer(pool: PoolSpec = .thread(2), wait: WaitMode = .yield, gil: Bool = false,
                   output: LineSink = .discard) throws -> FibServerHandle {
        try FibServer.spawn(on: self, options: FibServerOptions(port: 0, pool: pool, wait: wait, gil: gil), output: output)
    }

    /// Cancels every live task and runs until they are gone.
    func shutDownEverything() {
        for t in snapshot().tasks where !t.state.isFinished { cancel(t.id) }
        run(until: .steps(10_000), pollTimeout: .milliseconds(10))
    }
}
