// Command packs: a set of commands, task kinds and view rows installed into a session
// through the same public API a host uses (`register(command:traits:)`,
// `register(taskKind:traits:)`, `register(extension:)`, `state(_:make:)`). The fib demo is
// one (Sources/FibPack); the embedding example is another. The core REPL knows nothing of
// either, and its built-in commands use the same hooks: their state is a feature state
// (`Session.state`), and the ones that must forget it when the loop is replaced are
// `SessionExtension`s too.
import Runtime

/// A set of commands and task kinds to install into a session.
public protocol CommandPack {
    /// Registers the pack's commands, task kinds and extension on `session`.
    func install(in session: Session)
}

/// What a pack (or a built-in feature) adds to the core's views and life cycle. Every
/// method has a default that adds nothing; a pack implements the ones it needs. Called on
/// the loop thread.
public protocol SessionExtension: AnyObject {
    /// Names of the pack's own wait queues (`EventLoop.park(in:)`): `expect queue NAME`
    /// knows them even while no task waits there.
    var waitQueues: [String] { get }
    /// Rows for `queues`, shown after the runtime's own queues: (name, value).
    func queueRows(_ snapshot: LoopSnapshot, in session: Session) -> [(name: String, value: String)]
    /// Lines for `show TASK`, after the runtime's (indented like them: `"  pool      …"`).
    func showLines(for task: TaskInfo, _ snapshot: LoopSnapshot, in session: Session) -> [String]
    /// The session is shutting down (`quit`, `reset`, the end of a script): stop what the
    /// pack started, after every task was cancelled. Returns a phrase for the summary
    /// (`"stopped 2 pools"`), or nil.
    func shutdown(_ session: Session) -> String?
    /// The session's loop was replaced by a fresh one — by `reset` (`reset` true: a fresh
    /// start) or by forking a timeline (false: the same session, re-run) — after the old
    /// one was shut down: forget what belonged to the old loop.
    func loopReplaced(in session: Session, reset: Bool)
}

extension SessionExtension {
    /// No rows.
    public func queueRows(_ snapshot: LoopSnapshot, in session: Session) -> [(name: String, value: String)] { [] }
    /// No lines.
    public func showLines(for task: TaskInfo, _ snapshot: LoopSnapshot, in session: Session) -> [String] { [] }
    /// Nothing to stop.
    public func shutdown(_ session: Session) -> String? { nil }
    /// No queues of its own.
    public var waitQueues: [String] { [] }
    /// Nothing to forget.
    public func loopReplaced(in session: Session, reset: Bool) {}
}
