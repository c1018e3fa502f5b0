// The monitor's figures on a real loop over 127.0.0.1: its counters count the steps, polls
// and wakes the loop reported, its histograms hold one value per task step and per wait
// (by kind, and per task), and a handler's request latency one per request served.
import Insight
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(1))) struct LoopMonitorStatsTests {
    @Test func countersAndHistogramsCountWhatTheLoopDid() throws {
        // Under poll(2) (no readiness cache under it) every wake is a poll's.
        let loop = try EventLoop(poller: .poll)
        let monitor = LoopMonitor()
        monitor.start(on: loop)
        defer { monitor.stop() }
        let listener = try AsyncSocket.listen(on: loop, port: 0)
        let address = try #require(listener.localAddress)
        let requests = 3
        // A server accepting one connection, and a "handler" (the kind whose requests the
        // monitor times) answering each request on it.
        let handler = Box<TaskID?>(nil)
        let server = loop.spawn(name: "server", kind: "server") {
            let c = try await listener.accept()
            listener.close()
            handler.value = loop.spawn(name: "handler", kind: "handler") {
                for _ in 0..<requests {
                    let request = try await c.recv(max: 100)
                    try await c.send(all: request + Array("!".utf8))
                }
                _ = try await c.recv(max: 100)  // the client's end of file
                c.close()
            }.id
        }
        let replies = Box<[String]>([])
        let client = loop.spawn(name: "client", kind: "client") {
            let s = try await AsyncSocket.connect(on: loop, to: address)
            for i in 0..<requests {
                try await s.send(all: Array("\(i)".utf8))
                replies.value.append(String(decoding: try await s.recv(max: 100), as: UTF8.self))
            }
            s.close()
        }
        let sleeper = loop.spawn(name: "sleeper") { try await loop.sleep(for: .milliseconds(1)) }
        var steps: [StepEvent] = []
        while loop.liveTaskCount > 0 && steps.count < 1_000 { steps.append(loop.step(timeout: .milliseconds(50))) }
        #expect(replies.value == ["0!", "1!", "2!"])
        let handlerID = try #require(handler.value)

        let ran = steps.compactMap(\.taskStep)
        let wakes = steps.flatMap { $0.pollReport?.wakes ?? [] }
        #expect(monitor.counters.steps == UInt64(steps.count))
        #expect(monitor.counters.polls == UInt64(steps.count - ran.count))
        #expect(monitor.counters.wakes == UInt64(wakes.count))
        #expect(monitor.counters.stepNanos == ran.reduce(0) { $0 + $1.busyNanos })

        #expect(monitor.stats.step.count == UInt64(ran.count))
        for task in [server.id, handlerID, client.id, sleeper.id] {
            #expect(monitor.stats.task(task)?.step.count == UInt64(ran.filter { $0.task == task }.count), "task \(task.rawValue)")
        }
        // One wait value per wake, by the kind of wait it left.
        func kind(_ w: WaitReason) -> String {
            switch w {
            case .recv: "recv"
            case .send: "send"
            case .sleep: "sleep"
            default: "\(w)"
            }
        }
        let byKind = Dictionary(grouping: wakes, by: { kind($0.from) }).mapValues { UInt64($0.count) }
        #expect(monitor.stats.wait.mapValues(\.count) == byKind)
        #expect(byKind["sleep"] == 1)
        #expect(monitor.stats.task(sleeper.id)?.wait.mapValues(\.count) == ["sleep": 1])
        // A request: from its bytes waking the handler to the handler waiting for the next.
        #expect(monitor.stats.request.count == UInt64(requests))
        #expect(monitor.stats.task(handlerID)?.request.count == UInt64(requests))
        #expect(monitor.stats.task(client.id)?.request.count == 0, "not a handler")
        #expect(monitor.stats.task(server.id)?.request.count == 0, "not a handler")
        monitor.resetStats()
        #expect(monitor.stats.step.count == 0)
        #expect(monitor.counters.steps == UInt64(steps.count), "counters are not the histograms")
    }
}
