// A REPL session: one event loop, the commands that drive it, and what they print. Lines
// are executed on the loop thread, between steps, so every view is a consistent snapshot.
import ArgumentParser
import Insight
import Runtime
import TimeTravel
import Trace
import Synchronization

/// A command failed; the text says why, for a person.
public struct ReplError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A failure already reported (e.g. inside a sourced file): count it, do not print it again.
struct AlreadyReported: Error {}

/// Where a line came from, for error messages.
public enum LineOrigin: Sendable, Equatable {
    /// Typed at the prompt.
    case interactive
    /// Line `line` (from 1) of a script file.
    case script(file: String, line: Int)
    /// Command `index` (from 1) of `corepl -c`.
    case inline(index: Int)

    /// `"demo.repl:12: "`, `"-c:2: "`, or `"error: "`.
    var prefix: String {
        switch self {
        case .interactive: return "error: "
        case let .script(file, line): return "\(file):\(line): "
        case .inline(let i): return "-c:\(i): "
        }
    }
}

/// A REPL session over one `EventLoop`. Use it on the thread that created it (the loop
/// thread); `interrupt()` may be called from any thread.
public final class Session: @unchecked Sendable {
    /// The loop the session drives (replaced by `reset`).
    public private(set) var loop: EventLoop
    public let output: ReplOutput
    /// The commands this session understands (built-ins, and a host's own).
    public var registry: CommandRegistry

    // Settings.
    /// How long a step waits in poll when nothing is ready.
    public var pollTimeout: Duration = .milliseconds(100)
    /// Print every step while running.
    public var watch = false
    /// Report every failing script line and go on (instead of stopping at the first).
    public var keepGoing = false
    /// Print each command before running it.
    public var echo = false

    // State. (A feature's own state — a pack's, or a built-in command family's — is kept
    // with `state(_:make:)`, not here.)
    /// What installed packs (and built-in features) add to views and the life cycle, in
    /// the order they were registered.
    private(set) var extensions: [any SessionExtension] = []
    var lastRun: RunRequest?
    /// A free run going on in the background (`run &`), between commands.
    var background: BackgroundRun? {
        // A background run keeps the clock going between its slices (commands typed
        // meanwhile take no loop time worth pausing for); it stops when the run does.
        didSet { if (oldValue == nil) != (background == nil) { loop.pausesClockBetweenRuns = background == nil } }
    }
    /// Whether a front end drives background runs (the interactive prompt does; scripts
    /// do not).
    public var backgroundRunsSupported = false
    /// The commands that changed the session, for `save`.
    var recorded: [String] = []
    /// The command being executed.
    var current = CommandWords(words: [], rest: "")
    var origin: LineOrigin = .interactive
    /// Watches every step for `lints`, `stats` and `top` (attached to the loop from the
    /// start; a host that wants its loop unwatched calls `monitor.stop()`).
    public let monitor = LoopMonitor()
    /// When the monitor began watching the current loop (on its clock).
    var monitorStarted: UInt64 = 0
    /// Each feature's state, one object per type (see `state(_:make:)`).
    private var states: [ObjectIdentifier: AnyObject] = [:]
    /// The past step the views show (`step back`, `goto`); nil: the present.
    public internal(set) var pastStep: UInt64?
    /// Set by a command that only moved through the history (not written by `save`).
    var navigatedHistory = false
    /// Set by `quit`.
    public internal(set) var quitRequested = false
    private let interruptFlag = Atomic<Bool>(false)
    /// `loop`, for `interrupt()` from other threads (it changes at `reset`).
    private let loopForOtherThreads: Locked<EventLoop>

    /// The deepest `source` nesting allowed.
    public static let maxSourceDepth = 64

    /// A session with a fresh, paused loop owned by the calling thread.
    public convenience init(output: ReplOutput = .standard(), poller: PollerKind = .epoll) throws {
        self.init(output: output, loop: try EventLoop(poller: poller))
    }

    /// A session over a loop the host already has (create the session on that loop's
    /// thread). The host's tasks on it show in `tasks` and `queues` like built-in ones.
    public init(output: ReplOutput, loop: EventLoop) {
        self.output = output
        self.loop = loop
        self.loopForOtherThreads = Locked(loop)
        self.registry = CommandRegistry.builtIn
        // Built-in features add their rows to the views through the hooks packs use,
        // registered first so that their rows come first.
        register(extension: TimeTravelRows())
        watch(loop)
    }

    /// Attaches the monitor to `loop` and prints each new lint once, as a warning; starts
    /// the loop's history (with room for `historyLimit` steps; nil: none) if it keeps none,
    /// and, at a fresh loop, the journal of its outside inputs unless `journal off` said not to.
    private func watch(_ loop: EventLoop, historyLimit: Int? = Session.defaultHistoryLimit) {
        let output = self.output
        monitor.onLint = { lint in output.line("warning: \(lint.line)") }
        // Time at the prompt is not loop time: the clock stands still between runs.
        loop.pausesClockBetweenRuns = true
        monitor.start(on: loop)
        monitorStarted = loop.now()
        pastStep = nil
        if loop.historyStatus == nil, let historyLimit { loop.startHistory(limit: historyLimit) }
        // A fresh loop's outside inputs, so that 'journal save' can be replayed exactly.
        if JournalSettings.of(self).recordsInputs && loop.stepCount == 0 && loop.inputRecordingStatus == nil && !loop.isReplayingInputs {
            loop.startRecordingInputs()
        }
    }

    // MARK: Executing lines

    /// Executes every command of `line` (commands are separated by `;`). Errors go to the
    /// error output, prefixed by where the line came from.
    ///
    /// - Returns: false if a command failed.
    @discardableResult
    public func execute(_ line: String, origin: LineOrigin = .interactive) -> Bool {
        let commands: [CommandWords]
        do {
            commands = try Tokenizer.commands(in: line)
        } catch {
            withOrigin(origin) { report("\(error)") }
            return false
        }
        return execute(commands, origin: { _ in origin })
    }

    /// Executes commands one by one; `origin` says where the i-th came from. Stops at the
    /// first failure unless `keepGoing`, and at `quit`.
    ///
    /// - Returns: false if a command failed.
    @discardableResult
    public func execute(_ commands: [CommandWords], origin: (Int) -> LineOrigin) -> Bool {
        var ok = true
        for (i, command) in commands.enumerated() {
            if quitRequested { break }
            let succeeded = withOrigin(origin(i)) { () -> Bool in
                if echo { output.narration("> " + command.text) }
                do {
                    try run(command)
                    return true
                } catch is AlreadyReported {
                    return false
                } catch {
                    report("\(error)")
                    return false
                }
            }
            output.flushHeldBack()  // what clients' lines were held back during it, in one line
            if !succeeded {
                ok = false
                if !keepGoing { break }
            }
        }
        return ok
    }

    private func withOrigin<T>(_ o: LineOrigin, _ body: () -> T) -> T {
        let saved = origin
        origin = o
        defer { origin = saved }
        return body()
    }

    /// Runs one command.
    func run(_ command: CommandWords) throws {
        guard let name = command.words.first else { return }
        let entry: CommandRegistry.Entry, kindName: String?
        var replCommand: any ReplCommand
        switch try registry.parse(command.words) {
        case let .help(shown, subcommand):
            output.line(helpText(shown, subcommand: subcommand))
            return
        case .message(let text):
            output.line(text)
            return
        case let .command(parsed, shown, kind):
            (replCommand, entry, kindName) = (parsed, shown, kind)
        }
        try refuseInThePast(entry, replCommand, as: kindName.map { "\(name) \($0)" } ?? name)
        current = command
        interruptFlag.store(false, ordering: .relaxed)
        loop.clearStopRequest()
        navigatedHistory = false
        let stepBefore = loop.stepCount, loopBefore = loop
        try replCommand.run(in: self)
        if entry.recordable && !navigatedHistory {
            recorded.append(command.text)
            // A command that gave the session a fresh loop (`reset`) is no part of the fresh
            // loop's timeline, which begins after it (and with it the journal).
            if loop === loopBefore {
                commandLog.note(entry, replCommand, text: command.text, step: stepBefore, loop: loop)
            }
        }
    }

    // MARK: For hosts and packs

    /// Installs a command pack (its commands, task kinds and view rows).
    public func install(_ pack: some CommandPack) {
        pack.install(in: self)
    }

    /// Adds rows to the built-in views, wait queues of its own, and hooks at shutdown and
    /// when the loop is replaced (see `SessionExtension`).
    public func register(extension ext: any SessionExtension) {
        if !extensions.contains(where: { $0 === ext }) { extensions.append(ext) }
    }

    /// Adds a command of the host's: a `ReplCommand` (a swift-argument-parser command),
    /// so it gets the same parsing, usage, `--help` and error conventions as built-ins.
    ///
    /// - Parameters:
    ///   - recordable: whether `save` writes it into replay scripts (true for commands
    ///     that change state).
    ///   - completions: words Tab offers after the command's name besides those derived
    ///     from its definition (options, subcommands, value lists, tasks, files).
    public func register(command: any ReplCommand.Type, aliases: [String] = [], recordable: Bool = true, completions: [String] = []) {
        register(command: command, aliases: aliases, traits: CommandTraits(recordable: recordable), completions: completions)
    }

    /// Adds a command of the host's with its traits: whether `save` records it, whether it
    /// runs in the past, whether re-running the session repeats it, how it forks a timeline
    /// (see `CommandTraits`; a built-in declares the same in the built-in table).
    public func register(command: any ReplCommand.Type, aliases: [String] = [], traits: CommandTraits, completions: [String] = []) {
        registry.register(CommandRegistry.Entry(command, aliases: aliases, traits: traits, words: completions))
    }

    /// Adds a task kind: `spawn NAME ARGS…` parses ARGS with `command` (whose
    /// `commandName` is the kind's name) and runs it; it should spawn on `loop` and call
    /// `announce`. `traits` are those of `spawn NAME`: by default it changes the loop with
    /// real parts (recorded, refused in the past, the session's past fixed once it ran);
    /// a kind whose tasks only compute, yield, sleep and join declares `forks: .always`
    /// and `readsClock: true`, as the core's `counter` does.
    public func register(taskKind command: any ReplCommand.Type, traits: CommandTraits = .changesLoop, completions: [String] = []) {
        registry.register(taskKind: CommandRegistry.Entry(command, traits: traits, words: completions))
    }

    /// A feature's state in this session — a pack's (the channels a host's commands
    /// created, the fib pack's servers) or a built-in command family's (breakpoints, the
    /// trace) — one object of type `T`, made by `make` the first time. When it is a
    /// `SessionExtension`, it is registered as one from then on (its rows in the views, its
    /// part at shutdown and when the loop is replaced).
    public func state<T: AnyObject>(_ type: T.Type, make: () -> T) -> T {
        if let existing = states[ObjectIdentifier(type)] as? T { return existing }
        let made = make()
        states[ObjectIdentifier(type)] = made
        if let ext = made as? any SessionExtension { register(extension: ext) }
        return made
    }

    /// Prints `value` as one JSON document (pretty, sorted keys), as `--json` views do.
    public func printJSON(_ value: some Encodable) throws {
        output.line(try JSONViews.encode(value))
    }

    /// ArgumentParser's message, shaped for a REPL line: its error sentence, then
    /// `usage: …` (never the whole help; `help COMMAND` shows that).
    /// - Parameter under: the command whose first word `command` is (`spawn` for a task
    ///   kind, which parses as a command of its own).
    static func tidy(_ message: String, command: String, under: String? = nil) -> String {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        var error = lines.first ?? "bad arguments"
        if error.hasPrefix("Error: ") { error = String(error.dropFirst(7)) }
        // "The value 'x' is invalid for '--timeout <duration>': 'x': expected a duration…":
        // a typed argument's own sentence already names the value and what was expected.
        if error.hasPrefix("The value '"), let invalid = error.range(of: " is invalid for '"),
           let r = error.range(of: "': ", range: invalid.upperBound..<error.endIndex) {
            return String(error[r.upperBound...])
        }
        guard let usage = lines.first(where: { $0.hasPrefix("Usage: ") || $0.trimmingWhitespace().hasPrefix("USAGE: ") }) else {
            return error
        }
        var text = String(usage.trimmingWhitespace().dropFirst(7))
        // A task kind parses as a command of its own; its usage reads `spawn KIND …`.
        if let under, !text.hasPrefix(under + " ") { text = under + " " + text }
        return error + "\nusage: " + text + "\n(see 'help \(command)')"
    }

    /// Prints an error, prefixed with where the current line came from.
    public func report(_ message: String) {
        let lines = message.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first else { return }
        output.error(origin.prefix + first)
        for l in lines.dropFirst() { output.error("  " + l) }
    }

    /// Starts `request` as a background run (`run &`).
    func startBackground(_ request: RunRequest) throws {
        guard backgroundRunsSupported else {
            throw ReplError("'&' runs in the background only at the interactive prompt; in a script use a duration: run 2s")
        }
        lastRun = request
        background = BackgroundRun(limit: limit(for: request), firstStep: loop.stepCount, started: loop.now())
        output.line("running in the background from #\(loop.stepCount); 'pause' stops it")
    }

    /// Runs the background run until `yieldWhen` holds (true: still running) or it ends
    /// (false: finished, its summary printed).
    public func continueBackground(yieldWhen: @escaping () -> Bool) -> Bool {
        guard let run = background else { return false }
        if drive(run, yieldWhen: yieldWhen) {
            background = nil
            return false
        }
        return true
    }

    /// Whether a background run is going on.
    public var isRunningInBackground: Bool { background != nil }

    // MARK: Interrupting

    /// Stops a running `run` or `step N` after its current step (any thread).
    public func interrupt() {
        interruptFlag.store(true, ordering: .relaxed)
        loopForOtherThreads.withLock { $0 }.requestStop()
    }

    var isInterrupted: Bool { interruptFlag.load(ordering: .relaxed) }

    // MARK: Lookups for commands

    /// Task `text` in the table: an id (`3`, `#3` or `@3`), a task's exact name, or a kind
    /// that names one live task (`request`).
    public func task(_ text: String) throws -> TaskInfo {
        let snap = viewSnapshot()
        let t = text.hasPrefix("#") || text.hasPrefix("@") ? String(text.dropFirst()) : text
        if let n = Int(t) {
            guard let info = snap.task(TaskID(n)) else { throw ReplError("no task \(n)") }
            return info
        }
        if let info = snap.tasks.first(where: { $0.name == t }) { return info }
        // A kind names its one live task (or, with none live, its latest).
        let byKind = snap.tasks.filter { $0.kind == t && !$0.state.isFinished }
        if byKind.count == 1 { return byKind[0] }
        if byKind.count > 1 { throw ReplError("'\(t)' names \(byKind.count) tasks (\(byKind.map { "\($0.id.rawValue)" }.joined(separator: ", "))); use an id or a name") }
        if let latest = snap.tasks.last(where: { $0.kind == t }) { return latest }
        throw ReplError("no task '\(t)'")
    }

    /// An address: `[HOST:]PORT`, or `@TASK` for where task TASK listens.
    public func address(_ text: String) throws -> SocketAddress {
        let parsed: AddressArgument
        do {
            parsed = try AddressArgument(parsing: text)
        } catch {
            throw ReplError("\(error)")
        }
        return try parsed.resolve(in: self)
    }

    // MARK: Shutting down

    /// Cancels every task, lets the cancellations run (sockets close), then lets every
    /// pack stop what it started (a fib server's pool: its worker processes are killed).
    ///
    /// - Returns: how many tasks were cancelled, and what the packs said they stopped
    ///   (e.g. `"stopped 2 pools"`).
    @discardableResult
    public func shutdown() -> (tasks: Int, stopped: [String]) {
        // What the cancellations cause (work nobody awaits any more) is no news.
        monitor.stop()
        // A loop being shut down is not paused: its clock runs, and pool work waiting at
        // the pause gate goes on (to finish, or to be failed by its pool's shutdown).
        loop.pausesClockBetweenRuns = false
        // A replay is over by now: its journal's inputs and clock have run out, and a loop
        // answering from it could not unwind its tasks (nor would its clock reach the
        // deadline below).
        loop.endReplay()
        let live = loop.snapshot().tasks.filter { !$0.state.isFinished }
        for t in live { loop.cancel(t.id) }
        // Bounded: a task suspended outside the runtime (external) cannot be cancelled out.
        loop.run(until: .deadline(loop.now() &+ 3_000_000_000), pollTimeout: .milliseconds(5))
        return (live.count, extensions.compactMap { $0.shutdown(self) })
    }

    /// `cancelled 3 tasks, stopped 1 pool` (what `quit` and `reset` say).
    static func summary(_ counts: (tasks: Int, stopped: [String])) -> String {
        (["cancelled \(plural(counts.tasks, "task"))"] + counts.stopped).joined(separator: ", ")
    }

    /// Shuts down and starts over with a fresh loop (same poller), keeping settings. What
    /// belonged to the old loop starts afresh with the new one: its history (kept as it was
    /// set: `history off` stays off, a `--limit` stays), the journal of its outside inputs
    /// (unless `journal off`), and the timeline of commands that forks and journals re-run.
    func resetLoop() throws -> (tasks: Int, stopped: [String]) {
        let old = loop
        let historyLimit = old.historyStatus?.limit
        let counts = shutdown()
        let fresh = try EventLoop(poller: old.pollerKind)
        fresh.finishedTaskLimit = old.finishedTaskLimit
        fresh.defaultPollTimeout = old.defaultPollTimeout
        // (Breakpoints, the GIL's mark, the log of commands forks re-run: a fresh start.)
        adopt(fresh, historyLimit: historyLimit, reset: true)
        // What the old loop printed does not satisfy the new one's `expect output contains`.
        output.clearTranscript()
        return counts
    }

    /// Points the session at `l` (a fork re-runs its commands there, then adopts it).
    func setLoop(_ l: EventLoop) {
        loop = l
        loopForOtherThreads.withLock { $0 = l }
    }

    /// Makes `fresh` the session's loop, watched and with a history, and forgets what
    /// belonged to the old one (its free run, its lints and stats; and what each feature
    /// and pack forgets, `SessionExtension.loopReplaced`).
    private func adopt(_ fresh: EventLoop, historyLimit: Int? = Session.defaultHistoryLimit, reset: Bool) {
        setLoop(fresh)
        lastRun = nil
        background = nil
        for ext in extensions { ext.loopReplaced(in: self, reset: reset) }
        monitor.clearLints()
        monitor.resetStats()
        watch(fresh, historyLimit: historyLimit)
    }

    /// Puts `fresh` in place of the loop (a forked timeline) and shuts the old one down.
    func replaceLoop(with fresh: EventLoop) {
        let old = loop
        monitor.stop()
        // The old loop is not paused any more: its pool work may finish (PauseGate).
        old.pausesClockBetweenRuns = false
        adopt(fresh, reset: false)
        // The old timeline's tasks are cancelled and let run out.
        for t in old.snapshot().tasks where !t.state.isFinished { old.cancel(t.id) }
        old.run(until: .deadline(old.now() &+ 3_000_000_000), pollTimeout: .milliseconds(5))
    }
}
