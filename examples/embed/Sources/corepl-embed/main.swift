// corepl-embed: a host program that hands corepl's whole command language over its own
// coroutines — a producer and a consumer over a bounded channel.
//
//   corepl-embed                  the prompt (or plain lines from a pipe)
//   corepl-embed FILE             run a script; exit 1 if a line fails
//   corepl-embed -c 'CMD; CMD'    run commands
import EmbedExample
import Glibc
import Repl

let runner = ReplRunner { session in installChannelExample(in: session) }
let args = Array(CommandLine.arguments.dropFirst())
do {
    let result: ReplResult
    switch args.first {
    case nil:
        exit(try runner.runTerminal())
    case "-c"? where args.count == 2:
        result = try runner.run(commands: args[1], name: "-c")
    case let file? where args.count == 1 && !file.hasPrefix("-"):
        result = try runner.run(file: file)
    default:
        ReplResult(status: 64, output: [], errors: ["usage: corepl-embed [FILE | -c 'COMMANDS']"]).printToStandardStreams()
        exit(64)
    }
    result.printToStandardStreams()
    exit(result.status)
} catch {
    ReplResult(status: 1, output: [], errors: ["corepl-embed: \(error)"]).printToStandardStreams()
    exit(1)
}
