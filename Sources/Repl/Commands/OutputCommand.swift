// `output`: how many of the lines tasks print on their own (perf1's latencies, perf2's
// rates) reach the screen — the interactive prompt shows at most a few a second from each
// task and sums up the rest; scripts show every line unless they say otherwise.
import ArgumentParser

struct OutputCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "output",
        abstract: "Show or set how many lines a second each client may print: output [limit N|off].",
        discussion: """
            At the interactive prompt a task's own lines (perf1's latencies, perf2's rates) show \
            at most \(ReplOutput.defaultTaskLineLimit) a second from each task (a burst of as many \
            at once); the rest are held back and summed up in one line every few seconds and \
            after each command ('… 1,834 lines from task 3 (perf1) held back; 'show 3' has its \
            figures'). A request's replies always show. Held-back lines are still results: \
            'expect output contains' finds them, and show, expect, during and stats read the \
            figures, which are recorded whatever is shown. Scripts and piped input show every \
            line unless they set a limit. A client spawned with --quiet prints nothing at all.
            """)

    @Argument(help: ArgumentHelp("'limit'.", valueName: "setting"), completion: .list(["limit"]))
    var setting: String?

    @Argument(help: ArgumentHelp("Lines a second from each task (1 or more), or 'off' to show every line.", valueName: "value"),
              completion: .list(["off"]))
    var value: String?

    mutating func run(in session: Session) throws {
        let output = session.output
        if let setting {
            guard setting == "limit" else { throw ReplError("output takes 'limit N' or 'limit off', not '\(setting)'") }
            guard let value else { throw ReplError("output limit takes a number of lines a second, or 'off'") }
            // What was held back under the old limit is said before it changes.
            output.flushHeldBack()
            if value == "off" {
                output.taskLineLimit = nil
            } else if let n = Int(value), n >= 1 {
                output.taskLineLimit = n
            } else {
                throw ReplError("output limit takes a number of lines a second (1 or more), or 'off'; got '\(value)'")
            }
        } else if value != nil {
            throw ReplError("usage: output [limit N|off]")
        }
        if let n = output.taskLineLimit {
            output.line("task lines: at most \(plural(n, "line")) a second from each task shown, the rest summed up ('output limit off' shows every line)")
        } else {
            output.line("task lines: every line shown ('output limit N' shows at most N a second from each task)")
        }
    }
}
