// The fib demo of the seed as a command pack: its task kinds (`spawn server`, `perf1`,
// `perf2`, `request`), the `pool` setting, a `pools` row in `queues` and a pool line in
// `show`, and stopping the servers' pools at shutdown. It installs through the same
// public API a host uses; the core REPL knows nothing of it.
import FibService
import Repl
import Runtime

/// The fib microservice's commands, for `Session.install`.
///
/// ```swift
/// let session = try Session()
/// session.install(FibPack())
/// ```
public struct FibPack: CommandPack {
    /// The pack (it holds nothing; its state lives in each session, see `FibState`).
    public init() {}

    /// Registers the four task kinds, `pool`, and the pack's rows in `queues` and `show`.
    ///
    /// Their traits: under `net sim` the server and the in-loop clients use only the
    /// simulated network, so a session of them can be re-run (and forks a timeline in its
    /// past) — but not a client on a thread of its own (`--thread`: real sockets). `pool`
    /// changes only what new servers get, and pool work is modelled on the virtual clock —
    /// but not a GIL's switches, which are real time (`--gil`, `--no-gil`).
    public func install(in session: Session) {
        let server = ForkNote(order: 0, words: "the fib server"), clients = ForkNote(order: 1, words: "in-loop clients")
        session.register(taskKind: SpawnServer.self,
                         traits: CommandTraits(recordable: true, forks: .underNetSim, readsClock: true, forkNote: server))
        session.register(taskKind: SpawnPerf1.self,
                         traits: Self.client(clients) { ($0 as? SpawnPerf1)?.flags.thread == true })
        session.register(taskKind: SpawnPerf2.self,
                         traits: Self.client(clients) { ($0 as? SpawnPerf2)?.flags.thread == true })
        session.register(taskKind: SpawnRequest.self,
                         traits: Self.client(clients) { ($0 as? SpawnRequest)?.thread == true })
        session.register(command: PoolCommand.self,
                         traits: CommandTraits(recordable: true, forks: .always,
                                               usesRealParts: { ($0 as? PoolCommand)?.gil != nil }))
        session.register(extension: FibState.of(session))
    }

    /// A client kind: on the loop under `net sim` it uses the simulated network; on a
    /// thread of its own (`onThread`), real sockets.
    static func client(_ note: ForkNote, onThread: @escaping @Sendable (any ReplCommand) -> Bool) -> CommandTraits {
        CommandTraits(recordable: true, forks: .underNetSim, usesRealParts: onThread, readsClock: true, forkNote: note)
    }
}

/// The pack's state in a session: its settings and the servers it started.
public final class FibState: SessionExtension, @unchecked Sendable {
    /// The pool new servers get when `spawn server` names none.
    public var defaultPool: PoolSpec = .default
    /// How new servers wait for their pool when `spawn server` does not say.
    public var defaultWait: WaitMode = .yield
    /// Whether new servers compute under the GIL when `spawn server` does not say.
    public var defaultGIL = false
    /// The switch interval new GIL servers set when `spawn server` does not say.
    public var defaultSwitchInterval: Duration?
    /// Whether `pool` named a pool: new servers then send every request to it (no
    /// `--inline-below` unless they say so).
    public var poolChosen = false
    /// What fib(30) costs on new servers' pools on a virtual clock (`pool --virtual-fib30`).
    public var virtualFib30: Duration = FibPool.defaultVirtualFib30
    /// The servers spawned in this session, by task.
    public internal(set) var servers: [TaskID: FibServerHandle] = [:]

    init() {}

    /// The pack's state of `session`.
    public static func of(_ session: Session) -> FibState {
        session.state(FibState.self) { FibState() }
    }

    /// `pools  task 1: thread:4 (0 running, 0 queued)`, for each live server.
    public func queueRows(_ snapshot: LoopSnapshot, in session: Session) -> [(name: String, value: String)] {
        let live = servers.filter { snapshot.task($0.key).map { !$0.state.isFinished } ?? false }
        guard !live.isEmpty else { return [] }
        let items = live.sorted { $0.key < $1.key }.map { id, server in "task \(id.rawValue): \(Self.load(server.pool))" }
        return [("pools", items.joined(separator: ", "))]
    }

    /// `  pool work thread:4 (1 running, 2 queued)` for a server, and where its GIL is.
    public func showLines(for task: TaskInfo, _ snapshot: LoopSnapshot, in session: Session) -> [String] {
        guard let server = servers[task.id], !task.state.isFinished else { return [] }
        var lines = ["  pool work \(Self.load(server.pool))"]
        if let gil = server.pool.gil?.snapshot() {
            lines.append("  gil now   \(gil.summary)")
            if let waits = gil.waitsSummary { lines.append("  gil use   \(waits)") }
        }
        return lines
    }

    /// `thread:4`, or `thread:4 under the GIL`.
    static func poolText(_ pool: FibPool, _ gil: GIL?) -> String {
        gil == nil ? pool.description : "\(pool.description) under the GIL"
    }

    /// Stops every server's pool (worker processes are killed): `stopped 2 pools`.
    public func shutdown(_ session: Session) -> String? {
        for (_, server) in servers { server.pool.shutdown() }
        let n = servers.count
        servers.removeAll()
        return "stopped \(plural(n, "pool"))"
    }

    static func load(_ pool: FibPool) -> String {
        let (queued, running) = pool.load
        return "\(poolText(pool, pool.gil)) (\(running) running, \(queued) queued)"
    }

    func add(_ server: FibServerHandle) {
        servers[server.task.id] = server
    }
}

extension Session {
    /// A LineSink that prints a task's lines as `task N KIND: text`. A request's replies
    /// always show; perf1's and perf2's lines may be held back from the screen
    /// (`ReplOutput.taskLineLimit`: at the prompt, perf1 prints hundreds a second), never
    /// from the transcript.
    func sink(kind: String) -> LineSink {
        let output = self.output
        let always = kind == "request"
        return LineSink { line, id in
            let text = "task \(id.map { String($0.rawValue) } ?? "?") \(kind): \(line)"
            if always {
                output.line(text)
            } else {
                output.taskLine(text, from: id, label: kind)
            }
        }
    }
}
