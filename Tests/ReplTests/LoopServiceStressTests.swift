// The terminal front end's hand-off to the loop thread (LoopService) under stress: many
// threads perform work on the loop thread, with and without a background run going on;
// each piece runs once, on the loop thread, and every caller gets its answer.
import Glibc
@testable import Repl
import Pools
import Runtime
import Synchronization
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(2))) struct LoopServiceStressTests {
    @Test(arguments: [false, true])
    func workFromManyThreadsRunsOnceEachOnTheLoopThread(backgroundRun: Bool) throws {
        let service = try LoopService(output: ReplOutput.capturing().0)
        if backgroundRun {
            // A task that keeps the loop busy, and a free run in the background.
            let ok = service.perform { s in s.execute("spawn counter 1000000000; run &") }
            #expect(ok)
            #expect(service.perform { s in s.isRunningInBackground })
        }
        let threads = 6, perThread = 400
        let runs = Atomic<Int>(0), offThread = Atomic<Int>(0), wrong = Atomic<Int>(0)
        let callers = (0..<threads).map { t in
            OSThread(name: "caller") {
                for i in 0..<perThread {
                    let r = service.perform { s -> Int in
                        if !s.loop.isOnLoopThread { offThread.add(1, ordering: .relaxed) }
                        runs.add(1, ordering: .relaxed)
                        return t * perThread + i
                    }
                    if r != t * perThread + i { wrong.add(1, ordering: .relaxed) }
                    if i % 50 == 0 { service.submit { _ in runs.add(1, ordering: .relaxed) } }
                }
            }
        }
        callers.forEach { $0.start() }
        callers.forEach { $0.join() }
        // submit() does not wait: a last perform runs after every earlier submission.
        _ = service.perform { _ in 0 }
        #expect(runs.load(ordering: .relaxed) == threads * perThread + threads * (perThread / 50))
        #expect(offThread.load(ordering: .relaxed) == 0)
        #expect(wrong.load(ordering: .relaxed) == 0)
        if backgroundRun {
            #expect(service.perform { s in s.isRunningInBackground }, "the background run went on")
        }
        service.perform { s in _ = s.execute("quit") }
        service.join()
    }
}
