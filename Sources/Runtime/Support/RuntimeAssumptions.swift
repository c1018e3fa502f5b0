// The runtime's two assumptions about Swift's concurrency runtime, in one place. Every
// `unsafeBitCast` of Runtime and every prefetch hint is here; debug builds check both
// assumptions each time they are used (see docs/ARCHITECTURE.md, "What a step costs, and
// why it is cheap").
//
// 1. A task's first job *is* the task: the job Swift enqueues when a task is created has
//    the task's address. So a job enqueued later by other means (a host's continuation
//    resumed, an actor hop back) is recognised by that address.
// 2. An `UnsafeContinuation`'s raw value is the address of its task, so the ready queue
//    can prefetch a resumed task's memory a step ahead.
import CLinux

/// The address of a job: for the first job of a task, the task's own address.
@inline(__always)
func address(of job: UnownedJob) -> UnsafeRawPointer {
    unsafeBitCast(job, to: UnsafeRawPointer.self)
}

/// The address of the task a continuation resumes.
@usableFromInline @inline(__always)
func taskAddress(of continuation: UnsafeContinuation<Void, any Error>) -> UnsafeRawPointer {
    unsafeBitCast(continuation, to: UnsafeRawPointer.self)
}

/// The address of a Swift task, from its handle.
@inline(__always)
func taskAddress(of handle: Task<Void, Never>) -> UnsafeRawPointer {
    unsafeBitCast(handle, to: UnsafeRawPointer.self)
}

/// Checks assumption 1 for a task just created (debug builds only).
@inline(__always)
func assertFirstJobIsTask(_ job: UnownedJob, _ handle: Task<Void, Never>) {
    assert(address(of: job) == taskAddress(of: handle), "a task's first job is not the task itself")
}

/// Checks assumption 2 for a task suspending (debug builds only).
@usableFromInline @inline(__always)
func assertContinuationIsTask(_ continuation: UnsafeContinuation<Void, any Error>, _ task: UnsafeRawPointer?) {
    assert(task == nil || taskAddress(of: continuation) == task, "a continuation's raw value is not its task")
}

/// Asks the CPU to bring `bytes` at `pointer` into cache (a hint; never faults).
@inline(__always)
func prefetch(_ pointer: UnsafeRawPointer, bytes: Int32 = 192) {
    corepl_prefetch(pointer, bytes)
}
