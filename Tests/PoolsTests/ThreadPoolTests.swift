// The thread pool through its public API: a piece of work's value or error arrives as its
// future's, the loop's observers see each piece submitted, started on a worker and
// finished, and a shutdown fails what is still queued while the piece running finishes.
import Pools
import Runtime
import Synchronization
import Testing
import TestSupport

/// The pool events a loop reported, as `label kind` lines.
final class PoolLog: LoopObserver {
    var events: [PoolEvent] = []
    func loop(_ loop: EventLoop, observed event: LoopEvent) {
        if case .pool(let p) = event { events.append(p) }
    }
    func kinds(of label: String) -> [PoolEvent.Kind] { events.filter { $0.label == label }.map(\.kind) }
}

struct Refused: Error, Equatable { var n: Int }

@Suite(.timeLimit(.minutes(2))) struct ThreadPoolTests {
    @Test func aValueOrAnErrorArrivesAsTheFuturesAndObserversSeeEachPiece() throws {
        let loop = try EventLoop()
        let pool = ThreadPool(size: 2)
        defer { pool.shutdown(wait: true) }
        #expect(pool.name == "thread:2")
        let log = PoolLog()
        loop.addObserver(log)
        let got = Box<[String]>([])
        let t = loop.spawn(name: "submitter") {
            let square = pool.submit(on: loop, label: "square 7") { 7 * 7 }
            let refused = pool.submit(on: loop, label: "refuse 3") { () throws -> Int in throw Refused(n: 3) }
            got.value.append("\(try await square.get())")
            do {
                got.value.append("no error: \(try await refused.get())")
            } catch let e as Refused {
                got.value.append("refused \(e.n)")
            }
        }
        #expect(loop.stepUntil { loop.state(t.id) == .done })
        #expect(got.value == ["49", "refused 3"])
        // Each piece: submitted (by the task's step), started on a worker, finished there.
        #expect(loop.stepUntil(limit: 100) { log.events.count == 6 }, "\(log.events.map { "\($0.label) \($0.kind)" })")
        for (label, ok) in [("square 7", true), ("refuse 3", false)] {
            let kinds = log.kinds(of: label)
            guard kinds.count == 3, case .submitted = kinds[0], case .started(let w) = kinds[1] else {
                Issue.record("\(label): \(kinds)")
                continue
            }
            #expect((1...2).contains(w), "worker \(w) of 2")
            #expect(kinds[2] == .finished(worker: w, ok: ok), "\(label): finished where it started, ok \(ok)")
        }
        #expect(Set(log.events.map(\.pool)) == ["thread:2"])
        #expect(Set(log.events.map(\.future)).count == 2, "one future per piece")
        #expect(pool.load == (queued: 0, running: 0))
    }

    @Test func aShutdownFailsTheQueuedWorkAndThePieceRunningFinishes() throws {
        let loop = try EventLoop()
        let pool = ThreadPool(size: 1)
        let running = Atomic<Bool>(false), release = Atomic<Bool>(false)
        let first = pool.submit(on: loop, label: "held") { () -> Int in
            running.store(true, ordering: .sequentiallyConsistent)
            while !release.load(ordering: .sequentiallyConsistent) { sleepWall(1_000_000) }
            return 1
        }
        let queued = (2...3).map { i in pool.submit(on: loop, label: "queued \(i)") { i } }
        // The one thread holds the first piece; the others wait behind it.
        #expect(eventually { running.load(ordering: .sequentiallyConsistent) })
        #expect(pool.load == (queued: 2, running: 1))
        pool.shutdown()
        #expect(pool.load.queued == 0)
        let late = pool.submit(on: loop, label: "late") { 4 }
        release.store(true, ordering: .sequentiallyConsistent)
        let outcomes = Box<[String]>([])
        let t = loop.spawn(name: "awaiter") {
            for f in [first] + queued + [late] {
                do {
                    outcomes.value.append("\(try await f.get())")
                } catch let e as PoolError {
                    outcomes.value.append("\(e)")
                }
            }
        }
        #expect(loop.stepUntil { loop.state(t.id) == .done })
        let shutDown = "\(PoolError.shutDown(pool: "thread:1"))"
        #expect(shutDown == "pool thread:1 was shut down")
        #expect(outcomes.value == ["1", shutDown, shutDown, shutDown])
    }
}
