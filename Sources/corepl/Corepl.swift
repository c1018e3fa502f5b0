// The command line of corepl (swift-argument-parser): scripts, -c, stdin, or a prompt;
// and the headless subcommands serve, perf1, perf2.
import ArgumentParser
import FibPack
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

    @Option(help: ArgumentHelp("Record the whole run and write it as a Chrome trace (open it in ui.perfetto.dev).", valueName: "out.json"))
    var trace: String?

    func run() throws {
        var runner = ReplRunner { session in session.install(FibPack()) }
        runner.traceFile = trace
        runner.echo = echo
        runner.keepGoing = keepGoing
        let status = try runner.run(files: files, commands: commands, interactive: interactive)
        if status != 0 { throw ExitCode(status) }
    }
}
