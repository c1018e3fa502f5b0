// What the Trace tests draw: a real loop serving one echo over 127.0.0.1 (port 0) whose
// reply is computed on a thread pool, stepped to its end with a `TraceRecorder` attached,
// and every `StepEvent` the loop returned meanwhile, to hold the recording against. The
// work starts computing only once the server waits on its future, so the future always
// wakes it in a poll (never done before the server asks for it).
import Pools
import Runtime
import Synchronization
import Testing
import TestSupport
import Trace

struct RecordedEcho {
    let loop: EventLoop
    let recorder: TraceRecorder
    let server: TaskID
    let client: TaskID
    /// What each `step()` returned, in order.
    let steps: [StepEvent]
    /// What the client got back.
    let reply: String

    /// Records the echo from the loop's first step to its last.
    init(limit: Int = TraceRecorder.defaultLimit, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let loop = try EventLoop()
        let pool = ThreadPool(size: 1)
        defer { pool.shutdown(wait: true) }
        let listener = try AsyncSocket.listen(on: loop, port: 0)
        let address = try #require(listener.localAddress, sourceLocation: sourceLocation)
        let recorder = TraceRecorder(limit: limit)
        recorder.start(on: loop)
        let go = Atomic<Bool>(false)
        let server = loop.spawn(name: "server", kind: "echo") {
            let c = try await listener.accept()
            let data = try await c.recv(max: 100)
            let reversed = try await pool.submit(on: loop, label: "reverse") {
                while !go.load(ordering: .sequentiallyConsistent) { sleepWall(100_000) }
                return Array(data.reversed())
            }.get()
            try await c.send(all: reversed)
            c.close()
            listener.close()
        }.id
        self.server = server
        let got = Box("")
        client = loop.spawn(name: "client", kind: "client") {
            let s = try await AsyncSocket.connect(on: loop, to: address)
            try await s.send(all: Array("ping".utf8))
            got.value = String(decoding: try await s.recv(max: 100), as: UTF8.self)
            s.close()
        }.id
        var steps: [StepEvent] = []
        while loop.liveTaskCount > 0 && steps.count < 1_000 {
            steps.append(loop.step(timeout: .milliseconds(50)))
            if case .future? = loop.state(server)?.waitReason { go.store(true, ordering: .sequentiallyConsistent) }
        }
        recorder.stop()
        #expect(loop.liveTaskCount == 0, "the echo ran to its end", sourceLocation: sourceLocation)
        self.loop = loop
        self.recorder = recorder
        self.steps = steps
        self.reply = got.value
    }

    /// The recorded task steps and polls, oldest first.
    var stepRecords: [StepRecord] { recorder.events.compactMap { if case .step(let s) = $0 { s } else { nil } } }
    var pollRecords: [PollRecord] { recorder.events.compactMap { if case .poll(let p) = $0 { p } else { nil } } }
    var workRecords: [WorkRecord] { recorder.events.compactMap { if case .work(let w) = $0 { w } else { nil } } }
}
