// The seed's experiment as a relative test: while one connection waits on fib(40), a
// ping-pong client counts replies. Computing inline, or blocking the loop on the pool's
// future, serves (almost) none in that window; a thread pool with yield keeps serving.
// Counts are compared, never wall-clock limits.
@testable import FibService
import Glibc
import Pools
import Runtime
import Synchronization
import Testing
import TestSupport

@Suite(.serialized, .timeLimit(.minutes(5))) struct StarvationTests {
    /// Replies the ping-pong client got while fib(40) was in flight (middle 60 % of it).
    func pingsDuringLongRequest(pool: PoolSpec, wait: WaitMode, gil: Bool = false) throws -> (pings: Int, warmup: Int) {
        let loop = try EventLoop()
        let server = try loop.fibServer(pool: pool, wait: wait, gil: gil)
        let address = server.address
        let replies = Locked<[UInt64]>([])
        let window = Locked<(UInt64, UInt64)?>(nil)
        let stop = Atomic<Bool>(false)
        let pinger = OSThread(name: "pinger") {
            guard let c = try? Connection(to: address) else { return }
            while !stop.load(ordering: .relaxed) {
                guard (try? c.send("1\n")) != nil, case .line? = try? c.readLineOrTimeout() else { continue }
                let now = monotonicNanos()
                replies.withLock { $0.append(now) }
            }
        }
        let long = OSThread(name: "long") {
            guard let c = try? Connection(to: address) else { return }
            // Let the pinger get going first.
            while replies.withLock({ $0.count }) < 50 && !stop.load(ordering: .relaxed) { usleep(1000) }
            let start = monotonicNanos()
            try? c.send("40\n")
            while true {
                switch try? c.readLineOrTimeout() {
                case .timeout?: continue
                default: break
                }
                break
            }
            window.withLock { $0 = (start, monotonicNanos()) }
        }
        pinger.start()
        long.start()
        let giveUp = monotonicNanos() + 60_000_000_000
        while window.withLock({ $0 }) == nil && monotonicNanos() < giveUp {
            loop.run(until: .deadline(monotonicNanos() + 50_000_000), pollTimeout: .milliseconds(10))
        }
        stop.store(true, ordering: .relaxed)
        loop.run(until: .deadline(monotonicNanos() + 300_000_000), pollTimeout: .milliseconds(10))
        long.join()
        pinger.join()
        loop.shutDownEverything()
        let (start, end) = try #require(window.withLock { $0 })
        let from = start + (end - start) / 5, to = end - (end - start) / 5
        let all = replies.withLock { $0 }
        return (all.filter { $0 >= from && $0 <= to }.count, all.filter { $0 < start }.count)
    }

    @Test func inlineComputationStarvesEveryOtherClient() throws {
        let r = try pingsDuringLongRequest(pool: .inline, wait: .yield)
        #expect(r.warmup >= 50)
        #expect(r.pings <= 2, "inline: \(r.pings) replies while fib(40) ran on the loop")
    }

    @Test func blockingOnThePoolsFutureStarvesToo() throws {
        let r = try pingsDuringLongRequest(pool: .thread(2), wait: .block)
        #expect(r.pings <= 2, "thread+block: \(r.pings) replies while the loop blocked on future.result()")
    }

    @Test func aThreadPoolWithYieldKeepsServing() throws {
        let r = try pingsDuringLongRequest(pool: .thread(2), wait: .yield)
        #expect(r.pings >= 20, "thread+yield: only \(r.pings) replies during fib(40)")
    }

    @Test func underTheGILAThreadPoolWithYieldStarvesAlmostAsBadly() throws {
        // The seed's CPython result: the pool thread computing fib(40) holds the GIL, and
        // the loop waits a switch interval each time it takes it back after I/O.
        let free = try pingsDuringLongRequest(pool: .thread(2), wait: .yield)
        let gil = try pingsDuringLongRequest(pool: .thread(2), wait: .yield, gil: true)
        #expect(gil.warmup >= 50)
        #expect(gil.pings * 5 < free.pings, "GIL: \(gil.pings) replies during fib(40), without: \(free.pings)")
    }
}
