// Where fib runs, and how a handler waits for it: the 3 × 2 combinations that replay
// every experiment of the seed.
import Glibc
import Pools
import Runtime

/// Where a server computes fib.
public enum PoolSpec: Sendable, Hashable, CustomStringConvertible {
    /// On the loop thread itself: the seed's first server, which starves everything.
    case inline
    /// On a pool of N threads.
    case thread(Int)
    /// On N worker processes (`corepl-worker`).
    case process(Int)

    /// The seed's working design: a thread pool of 4.
    public static let `default` = PoolSpec.thread(4)
    /// The largest pool accepted.
    public static let maximumSize = 64

    /// Parses `inline`, `thread`, `thread:N`, `process`, `process:N` (N from 1 to 64;
    /// 4 when omitted).
    public init(parsing text: String) throws(FibServiceError) {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false)
        let kind = parts.first.map(String.init) ?? ""
        var size = 4
        if parts.count == 2 {
            guard let n = Int(parts[1]), (1...PoolSpec.maximumSize).contains(n) else {
                throw FibServiceError("pool size must be a number from 1 to \(PoolSpec.maximumSize), got '\(parts[1])'")
            }
            size = n
        }
        guard parts.count <= 2 else { throw FibServiceError("expected inline, thread[:N] or process[:N], got '\(text)'") }
        switch kind {
        case "inline" where parts.count == 1: self = .inline
        case "thread": self = .thread(size)
        case "process": self = .process(size)
        default: throw FibServiceError("expected inline, thread[:N] or process[:N], got '\(text)'")
        }
    }

    /// `"inline"`, `"thread:4"`, `"process:2"`
    public var description: String {
        switch self {
        case .inline: return "inline"
        case .thread(let n): return "thread:\(n)"
        case .process(let n): return "process:\(n)"
        }
    }
}

/// How a handler waits for its pool's future.
public enum WaitMode: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The seed's fix: suspend in future_wait; the completion wakes the loop.
    case yield
    /// The seed's trap: `future.result()` blocks the loop thread until done.
    case block

    public init(parsing text: String) throws(FibServiceError) {
        guard let mode = WaitMode(rawValue: text.lowercased()) else {
            throw FibServiceError("expected yield or block, got '\(text)'")
        }
        self = mode
    }

    public var description: String { rawValue }
}

/// A misuse of the fib service, as a sentence.
public struct FibServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The pool a server computes fib on.
public final class FibPool: @unchecked Sendable {
    public let spec: PoolSpec
    /// fib(n) for n below this runs on the loop thread (0: none).
    public let inlineBelow: Int
    /// On a virtual clock, what fib(30) costs on this pool; fib(n) costs that times
    /// φ^(n-30) (fib's own growth). Default 4 ms (fib(30) in a worker on the machine this
    /// was measured on).
    public var virtualFib30: Duration = FibPool.defaultVirtualFib30
    /// The default of `virtualFib30`.
    public static let defaultVirtualFib30: Duration = .milliseconds(4)
    private let threads: ThreadPool?
    private let processes: ProcessPool?
    /// The loop whose GIL the thread pool computes under, until `shutdown`.
    private var gilLoop: EventLoop?

    /// Starts the threads or worker processes `spec` asks for.
    ///
    /// - Parameters:
    ///   - gilOf: a loop (call on its thread) whose GIL the thread pool computes under:
    ///     the loop joins it (`EventLoop.joinGIL`) until the pool shuts down. Thread pools
    ///     only.
    ///   - switchInterval: the GIL's switch interval (nil: as it is, 5 ms at first).
    /// - Throws: `PoolError.cannotStart` if worker processes cannot be started;
    ///   `FibServiceError` for a GIL asked of a pool that is not a thread pool.
    ///   - inlineBelow: fib(n) for n below this is computed on the loop thread, not sent to
    ///     the pool (0: everything goes to the pool).
    public init(_ spec: PoolSpec, gilOf loop: EventLoop? = nil, switchInterval: Duration? = nil,
                inlineBelow: Int = 0) throws {
        self.spec = spec
        self.inlineBelow = max(0, inlineBelow)
        if loop != nil {
            guard case .thread = spec else { throw FibServiceError(FibPool.gilNeedsThreads) }
        }
        switch spec {
        case .inline:
            (threads, processes) = (nil, nil)
        case .thread(let n):
            let gil = loop?.joinGIL(switchInterval: switchInterval)
            gilLoop = loop
            (threads, processes) = (ThreadPool(size: n, gil: gil), nil)
        case .process(let n):
            (threads, processes) = (nil, try ProcessPool(size: n, executable: "corepl-worker"))
        }
    }

    /// Why only a thread pool takes the GIL switch.
    public static let gilNeedsThreads = "the GIL switch needs a thread pool (inline work runs on the loop thread, "
        + "which holds the GIL anyway; worker processes each have their own)"

    /// The GIL the pool computes under, if it has one.
    public var gil: GIL? { threads?.gil }

    /// Computes fib(n) where the pool says, waiting as `wait` says. Inline pools compute
    /// on the loop thread right here; `block` blocks the loop thread on the future.
    public func fib(_ n: Int, on loop: EventLoop, wait: WaitMode,
                    fileID: StaticString = #fileID, line: UInt = #line) async throws -> Int {
        if n < inlineBelow || (threads == nil && processes == nil) { return computeInline(n, on: loop) }
        let label = "fib(\(n))"
        let future: LoopFuture<Int>
        if let threads {
            let gate = loop.pauseGate, gil = threads.gil
            future = threads.submit(on: loop, label: label, virtualCost: virtualCost(n)) {
                FibService.fib(n, pausingAt: gate, checking: gil)
            }
        } else if let processes {
            let reply = processes.submit(on: loop, label: label, request: String(n), virtualCost: virtualCost(n))
            let text: String
            switch wait {
            case .yield: text = try await reply.get(label: "pool", fileID: fileID, line: line)
            case .block: text = try reply.blockingResult().get()
            }
            guard let value = Int(text) else { throw PoolError.badReply(pool: spec.description, reply: text) }
            return value
        } else {
            preconditionFailure("an inline pool computes before making a label")
        }
        switch wait {
        case .yield: return try await future.get(label: "pool", fileID: fileID, line: line)
        case .block: return try future.blockingResult().get()
        }
    }

    /// fib(n) on the loop thread; under a GIL (its own or another pool's) the loop holds
    /// it while it computes.
    /// What fib(n) costs on a virtual clock: `virtualFib30` × φ^(n-30).
    public func virtualCost(_ n: Int) -> Duration {
        let ns = Double(virtualFib30.clampedNanoseconds) * pow(1.618_033_988_749_895, Double(n - 30))
        return .nanoseconds(Int64(min(ns, 9e18).rounded()))
    }

    private func computeInline(_ n: Int, on loop: EventLoop) -> Int {
        if let gil = loop.gil { return FibService.fib(n, checking: gil) }
        return FibService.fib(n)
    }

    /// `thread:4`, or `thread:4, inline below 20`.
    public var description: String {
        inlineBelow > 0 && spec != .inline ? "\(spec), inline below \(inlineBelow)" : spec.description
    }

    var threadsLoad: (queued: Int, running: Int)? { threads?.load }
    var processesLoad: (queued: Int, running: Int)? { processes?.load }

    /// Worker process ids (process pools only).
    public var workerPIDs: [Int32] { processes?.workerPIDs ?? [] }

    /// Stops the pool: queued work fails; worker processes are killed; the loop leaves
    /// the pool's GIL. Call on the loop thread; a second call does nothing more.
    public func shutdown() {
        threads?.shutdown()
        processes?.shutdown()
        gilLoop?.leaveGIL()
        gilLoop = nil
    }
}

extension FibPool {
    /// Work waiting for a worker, and work being computed (inline pools: none).
    public var load: (queued: Int, running: Int) {
        threadsLoad ?? processesLoad ?? (0, 0)
    }
}
