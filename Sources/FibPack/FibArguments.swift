// The fib service's typed arguments: pools, wait modes, and the options of a server that
// `spawn server` (in the REPL) and `corepl serve` (headless) share.
import ArgumentParser
import FibService
import Repl
import Runtime

extension PoolSpec: ExpressibleByArgument {
    /// For argument-parser: nil for text `PoolSpec(parsing:)` refuses.
    public init?(argument: String) { try? self.init(parsing: argument) }

    /// What Tab offers: every kind, and the usual sizes.
    public static var allValueStrings: [String] {
        ["inline", "thread", "thread:2", "thread:4", "process", "process:2", "process:4"]
    }
}

extension WaitMode: ExpressibleByArgument {
    /// For argument-parser: nil for anything but `yield` and `block`.
    public init?(argument: String) { try? self.init(parsing: argument) }
}

/// Parsers that fail with the fib service's own sentence (`expected inline, thread[:N]
/// or process[:N], got 'x'`).
enum ParseFib {
    static func pool(_ text: String) throws -> PoolSpec { try PoolSpec(parsing: text) }
    static func wait(_ text: String) throws -> WaitMode { try WaitMode(parsing: text) }

    /// Refuses the GIL switch with a pool that is not a thread pool.
    static func checkGIL(_ gil: Bool, _ pool: PoolSpec) throws {
        guard gil else { return }
        guard case .thread = pool else { throw FibServiceError("--gil with pool \(pool): \(FibPool.gilNeedsThreads)") }
    }

    /// A switch interval from 1us to 10s (nil passes).
    static func checked(_ interval: Duration?) throws -> Duration? {
        guard let interval else { return nil }
        guard interval >= .microseconds(1), interval <= .seconds(10) else {
            throw FibServiceError("the switch interval must be from 1us to 10s, got \(DurationText.format(interval))")
        }
        return interval
    }
}

/// A fib server's options: `[PORT] [--host H] [--pool P] [--wait W] [--ceiling N]`.
public struct FibServerArguments: ParsableArguments {
    @Argument(help: "The port to listen on; 0 picks a free one.")
    public var port: UInt16 = 25000

    @Option(help: "The address to listen on.")
    public var host: String = SocketAddress.loopback

    @Option(help: "Where fib runs: inline, thread[:N] or process[:N] (default thread:4; in the REPL, see 'pool').",
            completion: .list(PoolSpec.allValueStrings), transform: ParseFib.pool)
    /// Where fib runs; nil: the default.
    public var pool: PoolSpec?

    @Option(help: "How a handler waits for the pool: yield (suspend on the future) or block (future.result()) (default yield; in the REPL, see 'pool').",
            completion: .list(WaitMode.allCases.map(\.rawValue)), transform: ParseFib.wait)
    /// How handlers wait for the pool; nil: the default.
    public var wait: WaitMode?

    @Option(help: ArgumentHelp(
        "Compute fib(n) for n below N on the loop, the rest on the pool. Default: \(defaultInlineBelow) with the default pool (thread:4), 0 — every request to the pool, as in the seed — when --pool (or 'pool' in the REPL) names one.",
        valueName: "N"))
    /// Where small requests run; nil: the default.
    public var inlineBelow: Int?

    @Option(help: "The largest n served.")
    public var ceiling: Int = 45

    @Flag(inversion: .prefixedNo,
          help: "Compute on the thread pool under a GIL shared with the loop, as CPython would (default off; in the REPL, see 'pool').")
    /// The GIL switch; nil: the default.
    public var gil: Bool?

    @Option(help: ArgumentHelp("The GIL's switch interval, like sys.setswitchinterval (default 5ms).", valueName: "duration"),
            transform: Parse.duration)
    /// The GIL's switch interval; nil: the default.
    public var switchInterval: Duration?

    /// The defaults: port 25000 on 127.0.0.1, the default pool and wait, ceiling 45.
    public init() {}

    /// The server's options; `pool`, `wait`, `gil` and `switchInterval` fall back to the
    /// defaults given.
    ///
    /// - Throws: `FibServiceError` for a switch interval out of range, or the GIL switch
    ///   with a pool that is not a thread pool.
    ///   `inlineBelow` falls back to `defaultInlineBelow` when no pool is named (`--pool`)
    ///   and the default pool is the built-in one (`poolIsBuiltIn`), else to 0.
    public func options(defaultPool: PoolSpec = .default, defaultWait: WaitMode = .yield, defaultGIL: Bool = false,
                        defaultSwitchInterval: Duration? = nil, poolIsBuiltIn: Bool = true,
                        name: String? = nil) throws -> FibServerOptions {
        if let inlineBelow, inlineBelow < 0 {
            throw FibServiceError("--inline-below must be 0 or more, got \(inlineBelow)")
        }
        let below = inlineBelow ?? (pool == nil && poolIsBuiltIn ? defaultInlineBelow : 0)
        let options = FibServerOptions(host: host, port: port, pool: pool ?? defaultPool, wait: wait ?? defaultWait,
                                       ceiling: ceiling, name: name, gil: gil ?? defaultGIL,
                                       switchInterval: try ParseFib.checked(switchInterval ?? defaultSwitchInterval),
                                       inlineBelow: below)
        try ParseFib.checkGIL(options.gil, options.pool)
        return options
    }
}
