// The command line of corepl (swift-argument-parser): scripts, -c, stdin, or a prompt;
// and the headless subcommands serve, perf1, perf2.
import ArgumentParser
import Foundation
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
        subcommands: [ReplSession.self, Replay.self, Serve.self, Perf1.self, Perf2.self],
        defaultSubcommand: ReplSession.self
    )

    /// `corepl --help` (`-h`, `help`) shows the default subcommand's arguments and options
    /// too: `corepl FILE --echo` is how corepl is run, so `--echo`, `--seed`, `--trace` …
    /// belong on the first page, not only behind `corepl help repl`.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if [["--help"], ["-h"], ["help"]].contains(arguments) {
            print(help())
            return
        }
        main(nil)
    }

    /// The root's help (overview, subcommands) with the REPL's usage, arguments and
    /// options in place of the root's own.
    static func help(columns: Int? = nil) -> String {
        let root = sections(of: helpMessage(columns: columns))
        let repl = sections(of: helpMessage(for: ReplSession.self, columns: columns))
        func section(_ list: [(header: String, text: String)], _ header: String) -> String? {
            list.first { $0.header == header }?.text
        }
        var parts: [String] = []
        if let overview = section(root, "OVERVIEW") { parts.append(overview) }
        if let usage = section(repl, "USAGE") {
            let line = usage.replacingOccurrences(of: "corepl repl ", with: "corepl ")
            parts.append(line + "\n       corepl <subcommand> …")
        }
        for header in ["ARGUMENTS", "OPTIONS"] {
            if let text = section(repl, header) { parts.append(text) }
        }
        if let subcommands = section(root, "SUBCOMMANDS") { parts.append(subcommands) }
        return parts.joined(separator: "\n\n")
    }

    /// A help text's sections (`OVERVIEW: …`, `USAGE: …`, `OPTIONS:` and its lines …), by
    /// header, each without its trailing blank lines.
    static func sections(of help: String) -> [(header: String, text: String)] {
        var result: [(header: String, text: String)] = []
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if let colon = line.firstIndex(of: ":"), !line.isEmpty,
               line[..<colon].allSatisfy({ $0.isUppercase }) {
                result.append((String(line[..<colon]), String(line)))
            } else if !result.isEmpty {
                result[result.count - 1].text += "\n" + line
            }
        }
        return result.map { ($0.header, String($0.text.reversed().drop { $0 == "\n" }.reversed())) }
    }
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

    @Option(help: ArgumentHelp("Run under 'policy random --seed N' from the start.", valueName: "N"))
    var seed: UInt64?

    @Option(help: ArgumentHelp("Run the scripts once per seed (A-B, or N), each in a fresh session under 'policy random', and list the seeds they fail with.", valueName: "A-B"))
    var seeds: String?

    func validate() throws {
        if seeds != nil {
            guard !files.isEmpty else { throw ValidationError("--seeds runs script files: corepl --seeds 1-100 FILE") }
            guard seed == nil, commands == nil, !interactive, trace == nil else {
                throw ValidationError("--seeds goes with script files only (not --seed, -c, -i or --trace)")
            }
            _ = try seedRange()
        }
    }

    func seedRange() throws -> ClosedRange<UInt64> {
        let parts = (seeds ?? "").split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), let a = UInt64(parts[0]), let b = UInt64(parts.last!), a <= b, b - a < 1_000_000 else {
            throw ValidationError("--seeds takes A-B (A <= B, fewer than a million) or N, not '\(seeds ?? "")'")
        }
        return a...b
    }

    func run() throws {
        var runner = ReplRunner { session in session.install(FibPack()) }
        if seeds != nil {
            runner.echo = echo
            runner.keepGoing = keepGoing
            let range = try seedRange()
            let outcomes = try runner.searchSeeds(files: files, seeds: range) { o in
                guard o.failed else { return }
                print("seed \(o.seed): \(o.errors[0])")
                for line in o.errors.dropFirst() where line.hasPrefix("  ") || line.hasPrefix("(") { print("  \(line.trimmingCharacters(in: .whitespaces))") }
            }
            let failed = outcomes.filter(\.failed).map(\.seed)
            let script = files.joined(separator: " ")
            if failed.isEmpty {
                print("all \(outcomes.count) seeds pass")
                return
            }
            print("\(failed.count) of \(outcomes.count) seeds fail: \(failed.map(String.init).joined(separator: " ")); "
                  + "'corepl --seed \(failed[0]) \(script)' runs the first again")
            throw ExitCode(1)
        }
        runner.seed = seed
        runner.traceFile = trace
        runner.echo = echo
        runner.keepGoing = keepGoing
        let status = try runner.run(files: files, commands: commands, interactive: interactive)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `corepl replay FILE`: runs a journal again and checks every step.
struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replay a journal ('journal save FILE' in a session): its commands again, every step checked.",
        discussion: """
            The commands run again at the steps they ran after, on a fresh session, and \
            every step is compared with the journal's: which task ran, what became ready, \
            how the task stood after it (and, on the virtual clock, when it ended). The \
            replay stops at the first difference and says what differs. Exit status: 0 when \
            every step was as recorded, 1 otherwise.
            """)

    @Argument(help: ArgumentHelp("The journal.", valueName: "file"))
    var file: String

    @Flag(help: "Print each replayed command before it runs, and what it and the tasks print (as the session did).")
    var echo = false

    func run() throws {
        var runner = ReplRunner { session in session.install(FibPack()) }
        runner.echo = echo
        let status = try runner.replay(file: file)
        if status != 0 { throw ExitCode(status) }
    }
}
