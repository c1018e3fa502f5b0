// The history of the loop's state (Sources/TimeTravel/History.swift), checked
// against the live snapshot at every step of a session with every kind of wait: the
// rebuilt past must be byte for byte what the loop showed then. (The scheduling policies
// it was tested under are PolicyTests.)
import Foundation
import Glibc
import Pools
@testable import Runtime
@testable import TimeTravel
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(1))) struct HistoryTests {
    static func json(_ snap: LoopSnapshot) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let tasks = String(decoding: try e.encode(snap.tasks), as: UTF8.self)
        let queues = String(decoding: try e.encode(snap), as: UTF8.self)
        return tasks + "\n" + queues
    }

    /// Spawns tasks that use every wait the runtime has: recv and send on a real socket
    /// pair, sleep, yield, join, a future completed by another thread, a host queue, a
    /// cancel, a task spawned from a task, figures and facts, finished tasks forgotten.
    static func busySession(_ loop: EventLoop) throws -> (unpark: () -> Void, closeAll: () -> Void) {
        let (a, b) = try AsyncSocket.pair(on: loop)
        loop.finishedTaskLimit = 3  // finished tasks leave the table (with their figures)
        let reader = loop.spawn(name: "reader", kind: "reader") {
            for i in 0..<6 {
                let got = try await a.recv(max: 3)
                if got.isEmpty { return }
                loop.record(Double(got.count), as: "bytes")
                loop.setFact("round", "\(i)")
            }
        }
        loop.spawn(name: "writer", kind: "writer") {
            for i in 0..<4 {
                try await b.send(all: [UInt8](repeating: UInt8(i), count: 5))
                try await loop.yield()
            }
        }
        loop.spawn(name: "sleeper") { try await loop.sleep(for: .milliseconds(3)) }
        loop.spawn(name: "sleeper 2") { try await loop.sleep(for: .milliseconds(2)) }
        loop.spawn(name: "joiner") { _ = try await loop.join(reader.id) }
        let future = loop.makeFuture(of: Int.self, label: "fib(9)")
        loop.spawn(name: "awaiter") {
            let v = try await future.get(label: "pool")
            loop.record(Double(v), as: "result")
            loop.spawn(name: "child") {
                for _ in 0..<3 { try await loop.yield() }
            }
        }
        let completer = OSThread(name: "completer") {
            usleep(2_000)
            _ = future.succeed(34)
        }
        completer.start()
        let parked = loop.spawn(name: "parked") { try await loop.park(in: "mailbox", detail: "empty") }
        let doomed = loop.spawn(name: "doomed") { try await loop.sleep(for: .seconds(60)) }
        loop.spawn(name: "canceller") {
            try await loop.yield()
            _ = loop.cancel(doomed.id)
            for n in 0..<5 {
                loop.record(Double(n), as: "n")
                try await loop.yield()
            }
        }
        let counter = loop.spawn(name: "counter") {
            for i in 0..<4 {
                loop.setFact("count", "\(i)")
                try await loop.yield()
            }
        }
        loop.spawn(name: "toucher") {
            try await loop.yield()
            loop.setFact("seen by", "toucher", for: counter.id)
            loop.record(1, as: "touched", for: counter.id)
        }
        return ({ loop.unpark(parked.id) }, { a.close(); b.close() })
    }

    @Test(arguments: [SchedulingPolicy.fifo, .lifo, .random(seed: 7)])
    func everyStepRebuildsToWhatTheLoopShowedThen(policy: SchedulingPolicy) throws {
        let loop = try EventLoop()
        loop.policy = policy
        let start = loop.stepCount
        loop.startHistory()
        let hooks = try Self.busySession(loop)
        var live: [UInt64: String] = [:]
        for i in 0..<300 {
            if i >= 10 { hooks.unpark() }
            if i == 20 { loop.clearFigures(of: TaskID(9)) }  // the canceller's figures, cleared
            if i == 30 { hooks.closeAll() }
            loop.step(timeout: .milliseconds(5))
            let t = loop.historyTime(ofStep: loop.stepCount)!
            live[loop.stepCount] = try Self.json(loop.snapshot(now: t))
            if loop.liveTaskCount == 0 { break }
        }
        #expect(loop.liveTaskCount == 0, "the session ran to its end")
        #expect(live.count > 30)
        // What the session went through, so that the comparison below covers it.
        let all = live.values
        for seen in ["\"recv_wait\":[{", "\"send_wait\":[{", "\"timers\":[{", "\"joins\":[{", "fib(9)",
                     "\"mailbox\"", "\"touched\":[1]", "\"n\":[0", "\"state\":\"cancelled\"", "was closed while"] {
            #expect(all.contains { $0.contains(seen) }, "the session showed \(seen)")
        }
        let last = try #require(live[loop.stepCount])
        #expect(last.components(separatedBy: "\"kind\":").count - 1 == 3, "finished tasks beyond 3 left the table")
        for (step, text) in live.sorted(by: { $0.key < $1.key }) {
            let rebuilt = try #require(loop.snapshot(atStep: step), "step \(step) is kept")
            let got = try Self.json(rebuilt)
            #expect(got == text, "step \(step)")
            if got != text {
                print("REBUILT \(step)\n\(got)\nLIVE\n\(text)")
                break
            }
        }
        #expect(loop.historyStatus?.oldestStep == start)
    }

    /// Keyframes every 1,024 steps and a limit: old segments go, every kept step still
    /// rebuilds, and a step before the oldest is not shown.
    @Test func aLimitedHistoryDropsWholeSegmentsAndStillRebuildsTheRest() throws {
        let loop = try EventLoop()
        loop.startHistory(limit: 2_000)
        loop.spawn(name: "a") { for _ in 0..<3_000 { try await loop.yield() } }
        loop.spawn(name: "b") { for i in 0..<3_000 { loop.setFact("i", "\(i)"); try await loop.yield() } }
        var live: [UInt64: String] = [:]
        while loop.liveTaskCount > 0 {
            loop.step()
            if loop.stepCount % 97 == 0 {
                live[loop.stepCount] = try Self.json(loop.snapshot(now: loop.historyTime(ofStep: loop.stepCount)!))
            }
        }
        let status = try #require(loop.historyStatus)
        #expect(status.stepsKept <= 2_000 + 1_024)
        #expect(status.stepsKept >= 2_000)
        #expect(status.newestStep == loop.stepCount)
        #expect(loop.snapshot(atStep: status.oldestStep - 1) == nil)
        var checked = 0
        for (step, text) in live where step >= status.oldestStep {
            #expect(try Self.json(loop.snapshot(atStep: step)!) == text, "step \(step)")
            checked += 1
        }
        #expect(checked > 15)
    }

    @Test func withoutHistoryNothingIsKept() throws {
        let loop = try EventLoop()
        loop.spawn(name: "a") { try await loop.yield() }
        loop.step()
        #expect(loop.historyStatus == nil)
        #expect(loop.snapshot(atStep: 1) == nil)
    }
}
