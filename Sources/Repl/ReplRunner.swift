// The embedding API's front door: run corepl's command language over a host's session —
// from a string, a file, or a terminal — and get back the exit status and the output.
import FibService
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

/// Runs corepl's command language for a host program.
///
/// ```swift
/// let runner = ReplRunner { session in
///     session.register(command: Channels.self)
///     session.register(taskKind: SpawnProducer.self)
/// }
/// let result = try runner.run(file: "demo.repl")
/// ```
public struct ReplRunner: Sendable {
    /// Called once the session exists (on its loop thread): register commands and task
    /// kinds, spawn the host's own tasks.
    public var configure: @Sendable (Session) -> Void
    /// Print each command before running it.
    public var echo = false
    /// Report every failing line and go on (the status is still 1).
    public var keepGoing = false

    public init(configure: @escaping @Sendable (Session) -> Void = { _ in }) {
        self.configure = configure
    }

    /// Runs `commands` (lines, `;` separating commands on a line) on the calling thread,
    /// which becomes the loop thread — or over `loop`, the host's, created on this thread.
    /// Errors are reported as `NAME:LINE: message`. Everything is shut down afterwards.
    public func run(commands: String, name: String = "<commands>", loop: EventLoop? = nil) throws -> ReplResult {
        try captured(loop: loop) { $0.runScript(commands, file: name) }
    }

    /// Runs the script at `path` like `run(commands:)`.
    public func run(file path: String, loop: EventLoop? = nil) throws -> ReplResult {
        try captured(loop: loop) { session in
            do {
                return session.runScript(try session.readScript(path), file: path)
            } catch {
                session.report("\(error)")
                return false
            }
        }
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
        configure(session)
    }

    /// Runs an interactive session on standard input and output: the libedit prompt on a
    /// terminal, plain lines otherwise. Returns the exit status.
    public func runTerminal() throws -> Int32 {
        if isatty(0) != 0 {
            let (output, fd) = try Terminal.makeOutput()
            let service = try LoopService(output: output) { [self] s in prepare(s) }
            try Terminal(service: service, outputFD: fd).run()
            return 0
        }
        let session = try Session(output: .standard())
        prepare(session)
        let ok = LineReader.readStandardInput(into: session)
        session.shutdown()
        return ok ? 0 : 1
    }
}
