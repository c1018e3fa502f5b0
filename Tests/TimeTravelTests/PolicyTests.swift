// The scheduling policies (Sources/TimeTravel/Policy.swift): which ready task runs
// next — FIFO as the seed, LIFO, or a seeded random order (one seed, one interleaving) —
// and a policy changed between steps applies from the next one.
import Runtime
@testable import TimeTravel
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(1))) struct PolicyTests {
    /// The order in which tasks 1…n take their first step, under `policy`.
    static func firstRunOrder(_ policy: SchedulingPolicy, tasks n: Int = 8) throws -> [Int] {
        let loop = try EventLoop()
        loop.policy = policy
        let order = Box<[Int]>([])
        for i in 1...n {
            loop.spawn(name: "t\(i)") {
                order.value.append(i)
                for _ in 0..<3 { try await loop.yield() }
            }
        }
        var steps: [Int] = []
        while loop.liveTaskCount > 0 {
            if let t = loop.step().taskStep?.task { steps.append(t.rawValue) }
        }
        return order.value + [0] + steps
    }

    @Test func fifoLifoAndSeedsChooseAsTheySay() throws {
        let fifo = try Self.firstRunOrder(.fifo)
        #expect(Array(fifo.prefix(8)) == Array(1...8))
        let lifo = try Self.firstRunOrder(.lifo)
        #expect(lifo.first == 8, "the newest first")
        #expect(Array(lifo[8...9]) == [0, 8], "lifo runs the task it just made ready again")
        let a = try Self.firstRunOrder(.random(seed: 1))
        #expect(try Self.firstRunOrder(.random(seed: 1)) == a, "one seed, one order")
        let others = try (2...6).map { try Self.firstRunOrder(.random(seed: UInt64($0))) }
        #expect(Set(others + [a]).count >= 5, "different seeds, different interleavings")
        #expect(a != fifo)
    }

    @Test func thePolicyCanChangeBetweenSteps() throws {
        let loop = try EventLoop()
        for i in 1...3 { loop.spawn(name: "t\(i)") { try await loop.yield() } }
        #expect(loop.step().taskStep?.task == TaskID(1))
        loop.policy = .lifo
        #expect(loop.step().taskStep?.task == TaskID(1), "task 1 went back to the tail")
        loop.policy = .fifo
        #expect(loop.step().taskStep?.task == TaskID(2))
        #expect(loop.policy == .fifo)
    }
}
