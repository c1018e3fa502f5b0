// Measuring in scripts: a true median, figures compared across tasks, replies counted
// during another task's requests (from time stamps), and the GIL switch's settings.
import FibPack
import Foundation
@testable import Repl
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(2))) struct MeasureTests {
    @Test func theMedianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        // The flake of the first round: one reply in the tick the block began, [N, 1, 0, 0],
        // made a "median" of 1 (the upper middle value).
        #expect(Stats([9, 1, 0, 0]).median == 0.5)
        #expect(Stats([9, 0, 0, 0]).median == 0)
        #expect(Stats([3, 1, 2]).median == 2)
        #expect(Stats([1, 2, 3, 4]).percentile(100) == 4)
        #expect(Stats([1, 2, 3, 4]).percentile(0) == 1)
        #expect(Stats([]).median == 0)
    }

    @Test func figuresCompareAcrossTasks() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn sleeper 10s")
        s.must("spawn sleeper 10s")
        for v in [1.0, 2, 3, 4] { s.loop.record(v, as: "latency", for: TaskID(1)) }
        for v in [4.0, 5, 6] { s.loop.record(v, as: "latency", for: TaskID(2)) }
        s.must("expect task 1 latency.median == 2.5")
        s.must("expect task 2 latency.median < 2.1 * 1 latency.median")
        s.must("expect task 2 latency.median > 1.9*1 latency.median")
        s.must("expect task 2 latency.max >= 1 latency.max")
        #expect(!s.execute("expect task 2 latency.median < 1.5 * 1 latency.median"))
        #expect(out.err.last == "error: expected task 2 latency.median < 1.5 * 1 latency.median, found 5 (over 3 values; task 1 latency.median is 2.5000)")
        #expect(!s.execute("expect task 2 latency.median < x * 1 latency.median"))
        #expect(out.err.last == "error: expected a number before '*', got 'x'")
        #expect(!s.execute("expect task 2 latency.median < 1 nothing.median"))
        #expect(out.err.last == "error: task 1 has no 'nothing' figures yet (it has latency)")
    }

    @Test func repliesDuringAnotherTasksRequestsComeFromTimeStamps() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn sleeper 10s")
        s.must("spawn sleeper 10s")
        let pinger = try #require(s.loop.stamps(for: TaskID(1)))
        let long = try #require(s.loop.stamps(for: TaskID(2)))
        #expect(!s.execute("expect task 1 replies during 2 <= 1"))
        #expect(out.err.last == "error: task 2 (sleeper 10s) has sent no request yet")
        // The long request is in flight from t0 + 1 s to t0 + 2 s; the pinger replies every
        // 10 ms before it, twice during it, and again after.
        let t0 = monotonicNanos() - 5_000_000_000
        long.add(Stamp.sent, at: t0 + 1_000_000_000)
        #expect(!s.execute("expect task 1 replies during 2 <= 1"))
        #expect(out.err.last?.contains("has a request in flight") == true)
        long.add(Stamp.replied, at: t0 + 2_000_000_000)
        for ms in stride(from: 0, to: 1_000, by: 10) { pinger.add(Stamp.replied, at: t0 + UInt64(ms) * 1_000_000) }
        pinger.add(Stamp.replied, at: t0 + 1_200_000_000)
        pinger.add(Stamp.replied, at: t0 + 1_900_000_000)
        for ms in stride(from: 2_010, to: 3_000, by: 10) { pinger.add(Stamp.replied, at: t0 + UInt64(ms) * 1_000_000) }
        s.must("expect task 1 replies during 2 == 2")
        s.must("expect task 1 replies during 2 < 0.05 * before")
        s.must("expect task 1 replies during 2 >= 0.02*before")
        #expect(!s.execute("expect task 1 replies during 2 >= 0.1 * before"))
        #expect(out.err.last == "error: expected task 1 replies during task 2 >= 0.1 * before, found 2 in 1.0000 s (100 in the same time before)")
        s.must("during 2 1")
        #expect(out.out.suffix(2) == [
            "task 2 (sleeper 10s): requests in flight for 1.0000 s",
            "  task 1 (sleeper 10s): 2 replies during, 100 in the 1.0000 s before — ratio 0.0200",
        ])
        // A fresh window forgets the stamps.
        s.must("mark 1")
        s.must("expect task 1 replies during 2 == 0")
    }

    @Test func theGILSwitchIsForThreadPools() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        #expect(!s.execute("spawn server 0 --pool process:2 --gil"))
        #expect(out.err.last?.hasPrefix("error: --gil with pool process:2: the GIL switch needs a thread pool") == true)
        #expect(!s.execute("pool inline --gil"))
        #expect(!s.execute("spawn server 0 --gil --switch-interval 0ms"))
        #expect(out.err.last == "error: the switch interval must be from 1us to 10s, got 0us")
        s.must("pool thread:2 --gil --switch-interval 2ms")
        #expect(out.out.last == "new servers: pool thread:2 under the GIL (switch interval 2ms), wait yield")
        s.must("spawn server 0 --name g")
        #expect(out.out.last?.hasSuffix("(pool thread:2 under the GIL, wait yield) → ready") == true)
        s.must("queues")
        #expect(out.out.contains { $0.hasPrefix("gil          free; switch interval 2ms") })
        s.must("spawn request @g 25 --name r")
        s.must("run until r done")
        s.must("expect output contains fib(25) = 75025")
        s.must("show g")
        #expect(out.out.contains { $0.hasPrefix("  gil now   ") })
        s.must("pool --no-gil")
        #expect(out.out.last == "new servers: pool thread:2, wait yield")
        s.must("cancel g")
        s.must("run 100ms")
        #expect(s.loop.gil == nil, "the last GIL pool gone, the loop runs without one")
    }

    @Test func expectGILCountsTurnsSinceAMark() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        #expect(!s.execute("expect gil pool waited < 1"))
        #expect(out.err.last?.hasPrefix("error: no GIL: no pool computes under one") == true)
        #expect(!s.execute("mark --gil"))
        s.must("pool thread:2 --gil")
        s.must("spawn server 0 --name g")
        let gil = try #require(s.loop.gil)
        // pool-1 holds the lock while pool-2 asks for it: pool-2 waits out pool-1's hold.
        gil.acquire(as: "pool-1", for: "fib(40)")
        let other = Thread { gil.acquire(as: "pool-2", for: "fib(41)"); gil.release() }
        other.start()
        while gil.snapshot().waiters.isEmpty { usleep(1_000) }
        usleep(30_000)
        gil.release()
        while gil.snapshot().waits.first(where: { $0.name == "pool-2" })?.heldNanos ?? 0 == 0 { usleep(1_000) }
        s.must("expect gil pool-2 waited >= 0.03")
        s.must("expect gil pool-2 waits == 1")
        s.must("expect gil pool-2 waited > 3 * held")  // its hold: from the hand-over until its thread woke and released (ms under load)
        s.must("expect gil pool-1 held >= 0.03")
        s.must("expect gil pool waited > 0.5 * pool held")
        s.must("expect gil loop waits == 0")  // the loop has not stepped: it never asked
        s.must("expect gil all waited >= 0.03")
        s.must("expect gil all waited > 0.5 * pool held")
        #expect(!s.execute("expect gil pool-2 waited < 0.01"))
        #expect(out.err.last?.hasPrefix("error: expected gil pool-2 waited < 0.01, found 0.0") == true)
        #expect(out.err.last?.hasSuffix(" s (since the GIL was made)") == true)
        #expect(!s.execute("expect gil pool-1 waited > 0.5 * held"))
        #expect(out.err.last?.contains("; pool-1 held 0.0") == true)
        // A fresh window counts from zero.
        s.must("mark --gil")
        #expect(out.out.last == "gil: a fresh window of waits and holding")
        s.must("expect gil pool waits == 0")
        s.must("expect gil pool held == 0")
        #expect(!s.execute("expect gil pool-2 waits > 0"))
        #expect(out.err.last == "error: expected gil pool-2 waits > 0, found 0 (since mark --gil)")
        s.must("queues")
        #expect(out.out.contains("  since mark pool-1 held 0us, never waited; pool-2 held 0us, never waited"), "\(out.out.suffix(4))")
        // The loop waits too: its next step asks for the GIL while pool-1 holds it, and
        // pool-1 holds it 30 ms from then on.
        let holder = Thread {
            gil.acquire(as: "pool-1", for: "fib(42)")
            while gil.snapshot().waiters.isEmpty { usleep(1_000) }
            usleep(30_000)
            gil.release()
        }
        holder.start()
        while gil.snapshot().holder == nil { usleep(1_000) }
        s.must("step")
        s.must("expect gil loop waits == 1")
        s.must("expect gil loop waited >= 0.03")
        s.must("expect gil loop waited < 1")
        s.must("expect gil pool-1 held >= 0.03")
        #expect(!s.execute("expect gil loop waited < 0.01"))
        #expect(out.err.last?.hasPrefix("error: expected gil loop waited < 0.01, found 0.0") == true, "\(out.err.last ?? "")")
        #expect(out.err.last?.hasSuffix(" s (since mark --gil)") == true)
        // Bad input says what is known.
        #expect(!s.execute("expect gil pool-9 held > 0"))
        #expect(out.err.last?.hasPrefix("error: no thread 'pool-9' has used the GIL; use loop, pool, all, pool-1, pool-2") == true)
        #expect(!s.execute("expect gil pool speed > 0"))
        #expect(out.err.last == "error: no GIL figure 'speed'; use held, waited or waits")
        #expect(!s.execute("expect gil pool held"))
        #expect(!s.execute("mark g --gil"))
        #expect(out.err.last == "error: usage: mark TASK | mark --gil")
    }

    @Test func aBreakpointOnAFuturesLabel() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0 --pool thread:2 --name server")
        s.must("spawn request @server 20 25 --name client")
        s.must("break on future fib(25)")
        #expect(out.out.last == "breakpoint 1: any task that starts waiting on a future for fib(25)")
        s.must("run until client done")
        #expect(out.out.contains { $0.contains("breakpoint 1 hit") })
        #expect(out.out.contains { $0.hasPrefix("task 2 request: fib(20) = 6765") }, "fib(20) went by")
        s.must("queues")
        #expect(out.out.contains { $0.hasPrefix("future_wait  future ") && $0.contains("(fib(25)) → ") })
        #expect(!s.execute("break on recv fib(25)"))
        #expect(out.err.last == "error: only 'break on future' takes a label")
        s.must("delete 1")
        s.must("continue")
        s.must("expect task client done")
    }
}
