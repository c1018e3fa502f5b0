// The process pool under stress: its pipes, its proxy threads and worker replacement. Many
// requests in flight while another thread kills workers: every request ends with its
// answer or an error (never lost, never twice), killed workers are replaced and reaped.
import Glibc
import Pools
import Runtime
import Synchronization
import Testing
import TestSupport

/// Child processes of this process that are zombies (exited, not reaped), from /proc
/// (throws where /proc cannot be read: no zombies found is then no answer).
func zombieChildren() throws -> [Int32] {
    try allProcesses().filter { $0.state == "Z" && $0.ppid == getpid() }.map(\.pid)
}

@Suite(.serialized, .timeLimit(.minutes(3))) struct ProcessPoolStressTests {
    @Test func requestsInFlightWhileWorkersAreKilledAllEndOnceWithAnAnswerOrAnError() throws {
        guard let pool = try workerPool(size: 3) else { return }
        let loop = try EventLoop()
        defer { pool.shutdown() }
        let tasks = 6, perTask = 60
        let answered = Box(0), failed = Box(0), wrong = Box(0), ended = Box(0)
        let finishedTasks = Box(0)
        let fibs: [Int: String] = [10: "55", 15: "610", 20: "6765", 24: "46368"]
        for t in 0..<tasks {
            loop.spawn(name: "submitter \(t)") {
                for i in 0..<perTask {
                    let n = [10, 15, 20, 24][(t + i) % 4]
                    // Two in flight per task: the pool's queue and pipes stay busy.
                    let a = pool.submit(on: loop, label: "fib(\(n))", request: String(n))
                    let b = pool.submit(on: loop, label: "fib(\(n))", request: String(n))
                    for f in [a, b] {
                        do {
                            let reply = try await f.get()
                            if reply == fibs[n] { answered.value += 1 } else { wrong.value += 1 }
                        } catch is PoolError {
                            failed.value += 1
                        }
                        ended.value += 1
                    }
                }
                finishedTasks.value += 1
            }
        }
        // Another thread kills a live worker every 20 ms until told to stop.
        let stop = Atomic<Bool>(false)
        let kills = Atomic<Int>(0)
        let killer = OSThread(name: "killer") {
            var ts = timespec(tv_sec: 0, tv_nsec: 20_000_000)
            while !stop.load(ordering: .relaxed) {
                let pids = pool.workerPIDs
                if let victim = pids.randomElement(), kill(victim, SIGKILL) == 0 { kills.add(1, ordering: .relaxed) }
                nanosleep(&ts, nil)
            }
        }
        killer.start()
        loop.run(until: .noTasks, pollTimeout: .seconds(20), stopWhen: { _ in finishedTasks.value == tasks })
        stop.store(true, ordering: .relaxed)
        killer.join()
        let total = tasks * perTask * 2
        #expect(ended.value == total, "every request ended exactly once")
        #expect(answered.value + failed.value == total)
        #expect(wrong.value == 0)
        #expect(kills.load(ordering: .relaxed) > 0)
        #expect(answered.value > 0)
        // After the storm: the pool answers again, on live workers.
        let after = Box<String?>(nil)
        let probe = loop.spawn(name: "probe") {
            for _ in 0..<3 {  // a worker killed just before the storm ended may fail one
                if let r = try? await pool.submit(on: loop, label: "fib(20)", request: "20").get() { after.value = r; return }
            }
        }
        loop.run(until: .taskDone(probe.id), pollTimeout: .seconds(20))
        #expect(after.value == "6765")
        // A worker killed while idle is reaped and replaced within the pool's idle check
        // (100 ms); allow a few of them.
        var zombies = try zombieChildren()
        for _ in 0..<50 where !zombies.isEmpty {
            var ts = timespec(tv_sec: 0, tv_nsec: 20_000_000)
            nanosleep(&ts, nil)
            zombies = try zombieChildren()
        }
        #expect(zombies.isEmpty, "killed workers are reaped")
        let pids = pool.workerPIDs
        #expect(pids.count == 3 && pids.allSatisfy { kill($0, 0) == 0 }, "every worker was replaced by a live one")
    }
}
