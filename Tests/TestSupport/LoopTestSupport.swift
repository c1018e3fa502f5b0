// Helpers shared by the test targets. Tests advance the loop by stepping it (or by
// bounded runs), never by sleeping.
import Runtime

extension EventLoop {
    /// Steps until `done` is true or `limit` steps have run; returns whether `done` held.
    @discardableResult
    public func stepUntil(limit: Int = 10_000, timeout: Duration = .milliseconds(50), _ done: () -> Bool) -> Bool {
        for _ in 0..<limit {
            if done() { return true }
            step(timeout: timeout)
        }
        return done()
    }

    /// The current state of task `id`, if the table has it.
    public func state(_ id: TaskID) -> TaskState? {
        taskInfo(id)?.state
    }
}

extension TaskState {
    /// The wait reason, if waiting.
    public var waitReason: WaitReason? {
        if case .waiting(let w) = self { return w.reason }
        return nil
    }
}

/// A box the test and its tasks share (tasks run on the loop thread, which is the
/// test's own thread here).
public final class Box<T>: @unchecked Sendable {
    public var value: T
    public init(_ value: T) { self.value = value }
}
