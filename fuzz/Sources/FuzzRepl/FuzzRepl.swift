// Fuzzes the REPL's tokenizer and command parser: each input is a script. Every command is
// tokenized and parsed with its swift-argument-parser type; every word also goes through
// the value parsers commands use (durations, addresses, pools, wait modes, @TASK, run
// limits). Commands that only read or change the session's own state (views, expect,
// break, mark, echo, help, watch) are executed against a fresh session that has a few
// tasks, so their argument checking (expect expressions, breakpoint events, task
// references) runs too. Commands that reach outside the process or run for a while
// (spawn, run, step, sleep, source, save, pool, poller, reset, quit, cancel) are parsed
// but not run.
// The session is corepl's: the core commands and the fib pack. Each line is also offered to
// Tab completion (read from the command definitions), cut at every position.
import FibPack
import FibService
@testable import Repl
import Runtime

/// Commands executed for real (they touch nothing outside the session and end at once).
let executed: Set<String> = [
    "tasks", "ps", "show", "where", "queues", "q", "break", "b", "breaks", "delete", "clear",
    "watch", "expect", "mark", "echo", "help", "?", "pause",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRepl(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    guard let session = try? Session(output: ReplOutput.capturing().0) else { fatalError("no session") }
    session.install(FibPack())
    session.keepGoing = true
    session.pollTimeout = .zero
    // Tasks for @TASK and `expect task …` to find: one in the timers, one ready.
    let loop = session.loop
    loop.spawn(name: "nap", kind: "sleeper") { try await loop.sleep(for: .seconds(3600)) }
    loop.spawn(name: "tick", kind: "counter") { while true { try await loop.yield() } }
    loop.step()
    defer { session.shutdown() }
    let tasks: Completer.Tasks = [(1, "nap", false), (2, "tick", true)]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(64) {
        for cut in line.indices.prefix(64) {
            _ = Completer.complete(String(line[..<cut]), registry: session.registry, tasks: tasks, files: { _ in [] })
        }
        let commands: [CommandWords]
        do {
            commands = try Tokenizer.commands(in: String(line))
        } catch {
            continue
        }
        for command in commands {
            for word in command.words {
                _ = try? DurationText.parse(word)
                _ = try? PoolSpec(parsing: word)
                _ = try? WaitMode(parsing: word)
                _ = try? session.address(word)
                _ = try? session.task(word)
            }
            _ = try? Run.request(Array(command.words.dropFirst()), session)
            guard let name = command.words.first else { continue }
            if executed.contains(name) {
                _ = session.execute([command], origin: { _ in .interactive })
            } else if let entry = session.registry.find(name) {
                var args = Array(command.words.dropFirst())
                var type = entry.type
                if entry.name == "spawn", let kind = args.first.flatMap({ session.registry.taskKind($0) }) {
                    type = kind.type
                    args.removeFirst()
                }
                _ = try? type.parseAsRoot(args)
            }
        }
    }
    return 0
}
