// corepl-embed: a host program that hands corepl's whole command language over its own
// coroutines — a producer and a consumer over a bounded channel. It runs scripts and
// commands with the same runner as corepl itself; only the installed pack differs.
//
//   corepl-embed                  the prompt (or plain lines from a pipe)
//   corepl-embed FILE…            run scripts; exit 1 if a line fails
//   corepl-embed -c 'CMD; CMD'    run commands
import EmbedExample
import Glibc
import Repl
import Runtime

let runner = ReplRunner { session in session.install(ChannelPack()) }
var files: [String] = []
var commands: String?
var args = Array(CommandLine.arguments.dropFirst())
while let arg = args.first {
    args.removeFirst()
    if arg == "-c", let text = args.first, commands == nil {
        commands = text
        args.removeFirst()
    } else if !arg.hasPrefix("-") {
        files.append(arg)
    } else {
        writeLine("usage: corepl-embed [FILE…] [-c 'COMMANDS']", to: 2)
        exit(64)
    }
}
do {
    exit(try runner.run(files: files, commands: commands))
} catch {
    writeLine("corepl-embed: \(error)", to: 2)
    exit(1)
}
