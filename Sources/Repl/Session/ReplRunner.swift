// The embedding API's front door: run corepl's command language over a host's session —
// from a string, a file, or a terminal — and get back the exit status and the output.
import Glibc
import Runtime
import Synchronization

/// What running the REPL produced.
public struct ReplResult: Sendable {
    /// 0 when every command succeeded, 1 otherwise (as `corepl` exits).
    public var status: Int32
    /// The result lines, in order.
    public var output: [String]
    /// The error lines (`FILE:LINE: message`), in order.
    public var errors: [String]

    /// A result of the given status and lines.
    public init(status: Int32, output: [String], errors: [String]) {
        self.status = status
        self.output = output
        self.errors = errors
    }

    /// Writes the output to standard output and the errors to standard error.
    public func printToStandardStreams() {
        for line in output { writeLine(line, to: 1) }
        for line in errors { writeLine(line, to: 2) }
    }
}

/// Runs corepl's command language — the one script runner, behind `corepl`, the
/// embedding example and any host: script files, `-c` commands, standard input, or the
/// interactive prompt.
///
/// ```swift
/// let runner = ReplRunner { session in
///     session.install(FibPack())
///     session.register(command: Channels.self)
/// }
/// exit(runner.run(files: CommandLine.arguments.dropFirst().map { $0 }))
/// ```
public struct ReplRunner: Sendable {
    /// Called once the session exists (on its loop thread): install packs, register
    /// commands and task kinds, spawn the host's own tasks.
    public var configure: @Sendable (Session) -> Void
    /// Print each command before running it.
    public var echo = false
    /// Report every failing line and go on (the status is still 1).
    public var keepGoing = false
    /// Record everything from the start and write it here as a Chrome trace (Perfetto)
    /// after the scripts and commands (`corepl FILE --trace OUT.json`); at the prompt the
    /// recording goes on and `trace save` writes it again.
    public var traceFile: String?
    /// Run under `policy random --seed N` from the start (`corepl --seed N FILE`).
    public var seed: UInt64?

    /// A runner that calls `configure` on each session it makes.
    public init(configure: @escaping @Sendable (Session) -> Void = { _ in }) {
        self.configure = configure
    }

    // MARK: Command lines

    /// What `corepl [FILE…] [-c CMDS] [-i]` does: runs the script files, then the
    /// commands (`;` separating them), then reads standard input when neither was given
    /// or `interactive` is set — with the line-editing prompt on a terminal, as plain
    /// lines otherwise. Output streams to standard output and errors to standard error;
    /// Ctrl-C interrupts a running command. Everything is shut down afterwards.
    ///
    /// - Returns: the exit status: 0 when every command succeeded, 1 otherwise.
    public func run(files: [String], commands: String? = nil, interactive: Bool = false) throws -> Int32 {
        let readInput = (files.isEmpty && commands == nil) || interactive
        if readInput && isatty(0) != 0 {
            let (output, fd) = try Terminal.makeOutput()
            let service = try LoopService(output: output) { [self] s in prepare(s) }
            let terminal = try Terminal(service: service, outputFD: fd)
            if files.isEmpty && commands == nil {
                terminal.run()
            } else {
                let traceFile = self.traceFile
                terminal.run(first: { @Sendable s in
                    _ = Self.runScriptsAndCommands(s, files: files, commands: commands)
                    _ = Self.writeTrace(s, to: traceFile)
                })
            }
            return 0
        }
        let session = try Session(output: .standard())
        prepare(session)
        // Ctrl-C interrupts the running command, up to and through the shutdown.
        return withExtendedLifetime(SignalTrap { session.interrupt() }) {
            var ok = Self.runScriptsAndCommands(session, files: files, commands: commands)
            if readInput && !session.quitRequested {
                ok = LineReader.readStandardInput(into: session) && ok
            }
            ok = Self.writeTrace(session, to: traceFile) && ok
            session.shutdown()
            return ok ? 0 : 1
        }
    }

    /// Runs the script files, then the commands; false if a line failed.
    static func runScriptsAndCommands(_ session: Session, files: [String], commands: String?) -> Bool {
        var ok = true
        for file in files where !session.quitRequested {
            ok = runFile(file, in: session) && ok
            if !ok && !session.keepGoing { return false }
        }
        if let commands, !session.quitRequested {
            do {
                let parsed = try Tokenizer.commands(in: commands)
                ok = session.execute(parsed, origin: { .inline(index: $0 + 1) }) && ok
            } catch {
                session.report("-c: \(error)")
                ok = false
            }
        }
        return ok
    }

    static func runFile(_ path: String, in session: Session) -> Bool {
        do {
            return session.runScript(try session.readScript(path), file: path)
        } catch {
            session.report("\(error)")
            return false
        }
    }

    // MARK: Captured runs

    /// Runs `commands` (lines, `;` separating commands on a line) on the calling thread,
    /// which becomes the loop thread — or over `loop`, the host's, created on this thread —
    /// and returns what they printed. Errors are reported as `NAME:LINE: message`.
    /// Everything is shut down afterwards.
    public func run(commands: String, name: String = "<commands>", loop: EventLoop? = nil) throws -> ReplResult {
        try captured(loop: loop) { $0.runScript(commands, file: name) }
    }

    /// Runs the script at `path` like `run(commands:)`.
    public func run(file path: String, loop: EventLoop? = nil) throws -> ReplResult {
        try captured(loop: loop) { Self.runFile(path, in: $0) }
    }

    /// A configured session with captured output, `body` run on it, then everything shut down.
    private func captured(loop: EventLoop?, _ body: (Session) -> Bool) throws -> ReplResult {
        let (output, captured) = ReplOutput.capturing()
        let session = try loop.map { Session(output: output, loop: $0) } ?? Session(output: output)
        prepare(session)
        let ok = body(session)
        session.shutdown()
        return ReplResult(status: ok ? 0 : 1, output: captured.out, errors: captured.err)
    }

    private func prepare(_ session: Session) {
        session.echo = echo
        session.keepGoing = keepGoing
        if let seed {
            // A run under random always says its seed (the command prints it).
            session.execute("policy random --seed \(seed)")
        }
        configure(session)
        if traceFile != nil { session.startTrace() }
    }

    /// Writes the recording `--trace` asked for (a failure is reported: false).
    static func writeTrace(_ session: Session, to file: String?) -> Bool {
        guard let file else { return true }
        do {
            let n = try session.saveTrace(to: file)
            session.output.error("trace: wrote \(plural(n, "event")) to \(file) (open it in ui.perfetto.dev)")
            return true
        } catch {
            session.report("--trace: \(error)")
            return false
        }
    }

    // MARK: Seed search

    /// What one seed of a search did.
    public struct SeedOutcome: Sendable {
        public var seed: UInt64
        /// The error lines of the run (empty when every command succeeded).
        public var errors: [String]
        public var failed: Bool { !errors.isEmpty }
    }

    /// Runs the script files once per seed, each in a fresh session under `policy random
    /// --seed N` with its output captured (`corepl --seeds 1-100 FILE`), and returns what
    /// each seed did.
    public func searchSeeds(files: [String], seeds: ClosedRange<UInt64>, onEach: (SeedOutcome) -> Void = { _ in }) throws -> [SeedOutcome] {
        var outcomes: [SeedOutcome] = []
        for seed in seeds {
            var runner = self
            runner.seed = seed
            runner.traceFile = nil
            let result = try runner.captured(loop: nil) { session in
                Self.runScriptsAndCommands(session, files: files, commands: nil)
            }
            let outcome = SeedOutcome(seed: seed, errors: result.status == 0 ? [] : (result.errors.isEmpty ? ["failed"] : result.errors))
            onEach(outcome)
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// Runs an interactive session on standard input and output: the libedit prompt on a
    /// terminal, plain lines otherwise. Returns the exit status.
    public func runTerminal() throws -> Int32 {
        try run(files: [], commands: nil, interactive: true)
    }
}
