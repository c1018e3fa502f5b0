// The monitor's lints on a real loop, one case that causes each: a step that computes
// past the slow-step threshold holds the loop (a task that yields as often as it likes
// does not), a lint that is off is not found, two tasks joining each other are a deadlock,
// pool work its task never awaited is an orphan, a task that only ever yields spins.
import Glibc
import Insight
import Pools
import Runtime
import Testing
import TestSupport

/// Computes (no system call but the clock's) until the calling thread has had `millis`
/// milliseconds of CPU: the same work however busy the machine is.
private func compute(millis: UInt64) {
    func cpuNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
    let until = cpuNanos() + millis * 1_000_000
    while cpuNanos() < until {}
}

/// A loop with a monitor attached before anything runs, and the lints it announced.
private func watchedLoop(_ configure: (inout LintSettings) -> Void = { _ in }) throws -> (EventLoop, LoopMonitor, Box<[Lint]>) {
    let loop = try EventLoop()
    let monitor = LoopMonitor()
    configure(&monitor.settings)
    let announced = Box<[Lint]>([])
    monitor.onLint = { announced.value.append($0) }
    monitor.start(on: loop)
    return (loop, monitor, announced)
}

@Suite(.serialized, .timeLimit(.minutes(1))) struct LoopMonitorLintTests {
    @Test func aStepThatComputesHoldsTheLoopAndAYieldingTaskDoesNot() throws {
        // The default threshold, 50 ms; 100 ms of CPU in one step.
        let (loop, monitor, announced) = try watchedLoop()
        defer { monitor.stop() }
        let polite = loop.spawn(name: "polite") { for _ in 0..<200 { try await loop.yield() } }
        let busy = loop.spawn(name: "busy") {
            try await loop.yield()
            compute(millis: 100)
            try await loop.yield()
        }
        #expect(loop.stepUntil { loop.liveTaskCount == 0 })
        // (A machine busy enough to keep the loop thread off its CPU for 50 ms may add a
        // `descheduled` lint, which blames no task.)
        let blamed = monitor.lints.filter { $0.kind != .descheduled }
        let lint = try #require(blamed.first, "no lint")
        #expect(blamed.count == 1, "\(monitor.lints.map(\.line))")
        #expect(lint.kind == .blockedLoop)
        #expect(lint.task == busy.id)
        #expect(lint.message.hasPrefix("task \(busy.id.rawValue) (busy) held the loop for "), "\(lint.message)")
        #expect(lint.message.hasSuffix(": run it in a pool and yield on the future"), "\(lint.message)")
        #expect(lint.message.contains(" between LoopMonitorLintTests.swift:"), "where it resumed and suspended: \(lint.message)")
        // Its time, less what the loop thread waited for a CPU since the last reading (a
        // few ms on a machine busy with the whole suite).
        #expect(lint.worst >= 80_000_000, "\(lint.line)")
        #expect(!monitor.lints.contains { $0.task == polite.id })
        #expect(announced.value.filter { $0.kind == .blockedLoop }.map(\.line) == [lint.line], "announced once, as found")
        monitor.clearLints()
        #expect(monitor.lints.isEmpty)
    }

    @Test func aLintThatIsOffIsNotFound() throws {
        let (loop, monitor, announced) = try watchedLoop { $0.off = [.blockedLoop] }
        defer { monitor.stop() }
        let busy = loop.spawn(name: "busy") { compute(millis: 100) }
        #expect(loop.stepUntil { loop.state(busy.id) == .done })
        #expect(!monitor.lints.contains { $0.kind == .blockedLoop }, "\(monitor.lints.map(\.line))")
        #expect(!announced.value.contains { $0.kind == .blockedLoop })
    }

    @Test func twoTasksJoiningEachOtherAreADeadlock() throws {
        let (loop, monitor, _) = try watchedLoop()
        defer { monitor.stop() }
        let other = Box<TaskID?>(nil)
        let a = loop.spawn(name: "a") {
            try await loop.yield()
            _ = try await loop.join(other.value!)
        }
        let b = loop.spawn(name: "b") { _ = try await loop.join(a.id) }
        other.value = b.id
        #expect(loop.stepUntil(limit: 20, timeout: .milliseconds(1)) { !monitor.lints.isEmpty })
        let lint = try #require(monitor.lints.first)
        #expect(lint.kind == .deadlock)
        #expect(lint.task == nil)
        #expect(lint.message == "every task waits and nothing can wake any of them (2 tasks): a cycle: task \(a.id.rawValue) joins task \(b.id.rawValue) joins task \(a.id.rawValue)")
        _ = loop.cancel(a.id)
        _ = loop.cancel(b.id)
        loop.run()
    }

    @Test func workItsTaskNeverAwaitedIsAnOrphanFuture() throws {
        let (loop, monitor, _) = try watchedLoop()
        defer { monitor.stop() }
        let pool = ThreadPool(size: 1)
        defer { pool.shutdown(wait: true) }
        let careless = loop.spawn(name: "careless") { _ = pool.submit(on: loop, label: "wasted") { 42 } }
        #expect(loop.stepUntil { monitor.lints.contains { $0.kind == .orphanFuture } }, "\(monitor.lints.map(\.line))")
        let lint = try #require(monitor.lints.first { $0.kind == .orphanFuture })
        #expect(lint.task == careless.id)
        #expect(lint.message.hasPrefix("future "), "\(lint.message)")
        #expect(lint.message.contains(" (wasted) completed, but task \(careless.id.rawValue) (careless) submitted it and ended without awaiting it"), "\(lint.message)")
    }

    @Test func aTaskThatOnlyEverYieldsSpinsAndIsToldAtEachMultipleOfTheThreshold() throws {
        let (loop, monitor, announced) = try watchedLoop { $0.neverYieldsSteps = 50 }
        defer { monitor.stop() }
        let spinner = loop.spawn(name: "spinner") { for _ in 0..<120 { try await loop.yield() } }
        loop.spawn(name: "sleeper") {
            for _ in 0..<120 { try await loop.sleep(for: .zero); try await loop.yield() }
        }
        #expect(loop.stepUntil { loop.liveTaskCount == 0 })
        let lints = monitor.lints.filter { $0.kind == .neverYields }
        #expect(lints.map(\.task) == [spinner.id], "the sleeper waits between its yields: \(lints.map(\.line))")
        #expect(lints.first?.count == 2, "at 50 and at 100 steps in a row")
        #expect(lints.first?.worst == 100)
        #expect(announced.value.filter { $0.kind == .neverYields }.count == 1, "announced once")
    }
}
