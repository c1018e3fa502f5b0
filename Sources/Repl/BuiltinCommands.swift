// The built-in command table.

extension CommandRegistry {
    /// Every built-in command, in the order `help` lists them.
    public static let builtIn = CommandRegistry([
        Entry(Spawn.self, recordable: true, words: ["server", "perf1", "perf2", "request", "sleeper", "counter",
                                                    "--host", "--pool", "--wait", "--ceiling", "--n", "--thread", "--duration"]),
        Entry(Tasks.self, aliases: ["ps"], recordable: false, words: ["--json"]),
        Entry(Show.self, aliases: ["where"], recordable: false, words: ["--json"]),
        Entry(Queues.self, aliases: ["q"], recordable: false, words: ["--json"]),
        Entry(Step.self, aliases: ["s"], recordable: true, words: ["--timeout"]),
        Entry(Run.self, aliases: ["r"], recordable: true, words: ["until", "idle", "done"]),
        Entry(Continue.self, aliases: ["c"], recordable: true),
        Entry(Pause.self, recordable: false),
        Entry(Break.self, aliases: ["b"], recordable: true, words: ["on"] + BreakEvent.allCases.map(\.rawValue)),
        Entry(Breaks.self, recordable: false, words: ["--json"]),
        Entry(Delete.self, recordable: true),
        Entry(Cancel.self, recordable: true),
        Entry(Clear.self, recordable: true),
        Entry(Reset.self, recordable: true),
        Entry(Pool.self, recordable: true, words: ["inline", "thread", "process", "--wait", "yield", "block"]),
        Entry(Poller.self, recordable: true, words: ["epoll", "poll", "select"]),
        Entry(Watch.self, recordable: true, words: ["on", "off"]),
        Entry(Expect.self, recordable: false, words: ["task", "queue", "output", "contains", "waiting", "done", "failed",
                                                     "cancelled", "ready", "recv_wait", "send_wait", "future_wait", "timers"]),
        Entry(Mark.self, recordable: true),
        Entry(Source.self, recordable: false),
        Entry(Save.self, recordable: false),
        Entry(Echo.self, recordable: true),
        Entry(Sleep.self, recordable: true),
        Entry(Help.self, aliases: ["?"], recordable: false),
        Entry(Quit.self, aliases: ["exit"], recordable: false),
    ])
}
