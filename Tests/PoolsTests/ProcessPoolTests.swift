// The process pool through its public API, with corepl-worker as its worker (one line in,
// one line out): a reply is the future's value, a worker's `error: …` line fails only its
// own request (the worker goes on), and an executable that cannot be found is refused when
// the pool is made, not at the first request.
import Glibc
import Pools
import Runtime
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(2))) struct ProcessPoolTests {
    @Test func anErrorLineFailsItsRequestAndTheSameWorkerAnswersTheNext() throws {
        guard let pool = try workerPool(size: 1) else { return }
        let loop = try EventLoop()
        defer { pool.shutdown() }
        #expect(pool.name == "process:1")
        let pids = pool.workerPIDs
        #expect(pids.count == 1 && pids[0] != getpid())
        let outcomes = Box<[String]>([])
        let t = loop.spawn(name: "client") {
            for request in ["10", "ten", "20"] {
                do {
                    outcomes.value.append(try await pool.submit(on: loop, label: "fib(\(request))", request: request).get())
                } catch let e as WorkerError {
                    outcomes.value.append("WorkerError: \(e.message)")
                }
            }
        }
        #expect(loop.stepUntil { loop.state(t.id) == .done })
        #expect(outcomes.value.count == 3)
        #expect(outcomes.value.first == "55")
        #expect(outcomes.value.dropFirst().first?.hasPrefix("WorkerError: 'ten' is not a number from 0 to ") == true, "\(outcomes.value)")
        #expect(outcomes.value.last == "6765")
        #expect(pool.workerPIDs == pids, "an error line is an answer: the worker was not replaced")
    }

    @Test func aWorkerThatCannotBeFoundIsRefusedWhenThePoolIsMade() {
        #expect(ProcessPool.locate("/nonexistent/corepl-worker") == nil)
        do {
            let pool = try ProcessPool(size: 2, executable: "/nonexistent/corepl-worker")
            pool.shutdown()
            Issue.record("a pool of a missing executable was made")
        } catch let e as PoolError {
            guard case .cannotStart(let name, let reason) = e else { Issue.record("\(e)"); return }
            #expect(name == "process:2")
            #expect(reason.contains("cannot find the worker executable '/nonexistent/corepl-worker'"), "\(reason)")
        } catch {
            Issue.record("not a PoolError: \(error)")
        }
    }
}
