// The command line of corepl (swift-argument-parser): scripts, -c, stdin, or a prompt;
// and the headless subcommands serve, perf1, perf2.
import ArgumentParser
import FibService
import Glibc
import Repl

@main
struct Corepl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corepl",
        abstract: "A REPL for a cooperative event loop: the fib microservice of Beazley's \"Python Concurrency From the Ground Up\", steppable.",
        discussion: """
            Exit status: 0 when every command succeeded; 1 when one failed (a failed \
            expect, a port in use, a server that cannot be reached…); 64 for bad usage.
            """,
        version: Repl.Corepl.version,
        subcommands: [ReplSession.self, Serve.self, Perf1.self, Perf2.self],
        defaultSubcommand: ReplSession.self
    )
}

/// The REPL itself: `corepl [FILE…] [-c CMDS] [-i]` (the default subcommand).
struct ReplSession: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "Run scripts, commands, or the prompt (the default).",
        discussion: """
            With no FILE and no -c, commands are read from standard input: a prompt on a \
            terminal, plain lines otherwise (corepl < demo.repl). Type 'help' for the commands.

            Exit status: 0 when every command succeeded; 1 when one failed (a failed \
            expect, a port in use, a server that cannot be reached…); 64 for bad usage.
            """)

    @Argument(help: "Scripts to run, in order; corepl exits after them unless -i is given.")
    var files: [String] = []

    @Option(name: .customShort("c"), help: "Commands to run, separated by ';'.")
    var commands: String?

    @Flag(name: .customShort("i"), help: "Stay interactive after the scripts and -c commands.")
    var interactive = false

    @Flag(help: "Print each command before running it (for demos).")
    var echo = false

    @Flag(help: "Report every failing line and run the rest (the exit status is still 1).")
    var keepGoing = false

    func run() throws {
        if isatty(0) != 0 && ((files.isEmpty && commands == nil) || interactive) {
            try runInteractive()
            return
        }
        let session = try Session(output: .standard())
        session.echo = echo
        session.keepGoing = keepGoing
        let trap = SignalTrap { session.interrupt() }
        defer { _ = trap }
        var ok = Self.runScriptsAndCommands(session, files: files, commands: commands)
        if (files.isEmpty && commands == nil) || interactive, !session.quitRequested {
            ok = LineReader.readStandardInput(into: session) && ok
        }
        session.shutdown()
        if !ok { throw ExitCode.failure }
    }

    /// The prompt: libedit on this thread, the session on the loop thread.
    func runInteractive() throws {
        let (output, fd) = try Terminal.makeOutput()
        let (echo, keepGoing, files, commands) = (self.echo, self.keepGoing, self.files, self.commands)
        let service = try LoopService(output: output) { s in
            s.echo = echo
            s.keepGoing = keepGoing
        }
        let terminal = try Terminal(service: service, outputFD: fd)
        if files.isEmpty && commands == nil {
            terminal.run()
        } else {
            terminal.run(first: { @Sendable s in _ = ReplSession.runScriptsAndCommands(s, files: files, commands: commands) })
        }
    }

    /// Runs the script files, then the -c commands; false if a line failed.
    static func runScriptsAndCommands(_ session: Session, files: [String], commands: String?) -> Bool {
        var ok = true
        for file in files where !session.quitRequested {
            do {
                let text = try session.readScript(file)
                ok = session.runScript(text, file: file) && ok
            } catch {
                session.report("\(error)")
                ok = false
            }
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
}
