// A record reader gets each step's records in one call at the step's end, in order, with
// the clock readings of the step's boundaries; what happens between steps at once; and
// reading them changes nothing a recording of the loop's inputs keeps.
@testable import Runtime
import Testing
import TestSupport
import TimeTravel

final class RecordLog: LoopRecordReader {
    /// One line per call: the records of that call, space-separated.
    var calls: [String] = []
    var times: [UInt64] = []
    func loop(_ loop: EventLoop, read records: UnsafeBufferPointer<LoopRecord>) {
        var words: [String] = []
        for record in records {
            switch record {
            case .began(let step, let task, let at):
                words.append("began#\(step):\(task.map { "\($0.rawValue)" } ?? "poll")")
                times.append(at)
            case .waits(let id, let wait): words.append("waits:\(id.rawValue):\(loop.publicWait(wait, of: id).reason.kind)")
            case .woke(let id, _, let cause, _): words.append("woke:\(id.rawValue):\(cause)")
            case .pollBegan: words.append("pollBegan")
            case .pollEnded: words.append("pollEnded")
            case .ran(let id, _, _, let end, _, let error):
                words.append("ran:\(id.rawValue)" + (loop.text(error).map { ":\($0)" } ?? ""))
                times.append(end)
            case .polled(let end, let woke, _, let note):
                words.append("polled:\(woke ? "woke" : loop.text(note) ?? "idle")")
                times.append(end)
            case .event(let e):
                switch loop.event(e) {
                case .spawned(let id, let name, _, _): words.append("spawned:\(id.rawValue):\(name)")
                case .exited(let id, let exit): words.append("exited:\(id.rawValue):\(exit)")
                default: words.append("event")
                }
            }
        }
        calls.append(words.joined(separator: " "))
    }
}

@Suite(.timeLimit(.minutes(2))) struct LoopRecordsTests {
    @Test func eachStepIsReadInOneCallInOrder() throws {
        let loop = try EventLoop()
        let log = RecordLog()
        loop.addRecordReader(log)
        let (a, b) = try AsyncSocket.pair(on: loop)
        loop.spawn(name: "reader") { _ = try await a.recv(max: 1) }
        #expect(log.calls == ["spawned:1:reader"], "a spawn between steps is read at once")
        var window: [(UInt64, UInt64)] = []
        for i in 0..<3 {
            if i == 1 { loop.spawn(name: "writer") { try await b.send(all: [1]) } }
            let before = loop.now()
            loop.step()
            window.append((before, loop.now()))
        }
        #expect(log.calls == [
            "spawned:1:reader",
            "began#1:1 waits:1:recv ran:1",
            "spawned:2:writer",
            "began#2:2 waits:2:send ran:2",
            "began#3:poll pollBegan woke:2:fd \(b.fd) writable pollEnded polled:woke",
        ])
        // Each step's start and end are its own clock readings: inside the step's window.
        try #require(log.times.count == 6)
        for (i, (before, after)) in window.enumerated() {
            #expect(before <= log.times[2 * i] && log.times[2 * i] <= log.times[2 * i + 1] && log.times[2 * i + 1] <= after)
        }
        #expect(log.times[5] > log.times[0])
        log.calls.removeAll()
        loop.run()
        #expect(log.calls.contains { $0.contains("exited:2:done") && $0.hasSuffix("ran:2") })
        #expect(log.calls.contains { $0.contains("woke:1:fd \(a.fd) readable") })
        loop.removeRecordReader(log)
        log.calls.removeAll()
        loop.spawn(name: "unread") {}
        loop.step()
        #expect(log.calls.isEmpty, "a reader removed reads nothing more")
    }

    @Test func aResumeErrorAndAnIdleNoteComeAsText() throws {
        let loop = try EventLoop()
        let log = RecordLog()
        loop.addRecordReader(log)
        let sleeper = loop.spawn(name: "sleeper") { try await loop.sleep(for: .seconds(3600)) }
        loop.step()
        _ = loop.cancel(sleeper.id)
        loop.run()
        #expect(log.calls.contains { $0.contains("ran:1:") && $0.contains("exited:1:cancelled") },
                "the step resumed by the cancellation carries its error: \(log.calls)")
        #expect(loop.recordTexts.isEmpty && loop.recordEvents.isEmpty, "what was beside the records is let go once read")
        log.calls.removeAll()
        loop.step(timeout: .zero)
        #expect(log.calls == ["began#\(loop.stepCount):poll polled:no task left"])
    }

    /// A reader may leave while it reads (the records it holds stay valid to the end of
    /// the call, and the next reader still gets them).
    @Test func aReaderMayLeaveWhileItReads() throws {
        final class Leaver: LoopRecordReader {
            var seen = 0
            func loop(_ loop: EventLoop, read records: UnsafeBufferPointer<LoopRecord>) {
                loop.removeRecordReader(self)
                for record in records { if case .ran = record { seen += 1 } }
            }
        }
        let loop = try EventLoop()
        let leaver = Leaver(), log = RecordLog()
        loop.spawn(name: "t") { try await loop.yield() }
        loop.addRecordReader(leaver)
        loop.addRecordReader(log)
        loop.step()
        #expect(leaver.seen == 1)
        #expect(log.calls == ["began#1:1 waits:1:yield ran:1"])
        loop.removeRecordReader(log)
        loop.step()
        #expect(log.calls.count == 1)
        #expect(leaver.seen == 1, "it left")
    }

    /// The last reader may leave while it reads: the records stay where they are until
    /// the call returns.
    @Test func theLastReaderMayLeaveWhileItReads() throws {
        final class Leaver: LoopRecordReader {
            var intact = false
            func loop(_ loop: EventLoop, read records: UnsafeBufferPointer<LoopRecord>) {
                loop.removeRecordReader(self)
                intact = loop.records.count == records.count && UnsafePointer(loop.records.base) == records.baseAddress
            }
        }
        let loop = try EventLoop()
        let leaver = Leaver()
        loop.spawn(name: "t") { try await loop.yield() }
        loop.addRecordReader(leaver)
        loop.step()
        #expect(leaver.intact)
        #expect(loop.records.base == nil, "and the buffer is let go after the call")
    }

    /// A wake's clock reading, taken for the readers, is not an input of the tasks': a
    /// recording of the inputs holds as many clock readings with the monitor's kind of
    /// reader attached as without.
    @Test func readingRecordsChangesNoRecordedInput() throws {
        func recordedClockReadings(reading: Bool) throws -> Int {
            let loop = try EventLoop()
            loop.startRecordingInputs()
            if reading { loop.addRecordReader(RecordLog()) }
            let (a, b) = try AsyncSocket.pair(on: loop)
            loop.spawn(name: "ping") {
                for _ in 0..<50 {
                    try await a.send(all: [1])
                    _ = try await a.recv(max: 1)
                }
            }
            loop.spawn(name: "pong") {
                for _ in 0..<50 {
                    let x = try await b.recv(max: 1)
                    try await b.send(all: x)
                }
            }
            loop.run()
            return try #require(loop.recordedInputs).clock.count
        }
        let unwatched = try recordedClockReadings(reading: false)
        let watched = try recordedClockReadings(reading: true)
        #expect(unwatched > 0)
        #expect(watched == unwatched)
    }
}
