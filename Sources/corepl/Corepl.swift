// The command line of corepl (swift-argument-parser).
import ArgumentParser
import Repl

@main
struct Corepl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corepl",
        abstract: "A REPL for a cooperative event loop: the fib microservice of Beazley's \"Python Concurrency From the Ground Up\", steppable.",
        discussion: """
            Exit status: 0 on success; 1 when something failed (a port in use, a server \
            that cannot be reached, a connection lost); 64 for bad usage.
            """,
        version: Repl.Corepl.version,
        subcommands: [Serve.self, Perf1.self, Perf2.self]
    )

    func run() async throws {
        print(Corepl.helpMessage())
    }
}
