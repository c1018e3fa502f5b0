// The built-in command table.

extension CommandRegistry {
    /// Every built-in command, in the order `help` lists them, and the core's task kinds.
    /// (Made once: each entry reads its command's definition for Tab completion.)
    public static let builtIn: CommandRegistry = {
        var registry = CommandRegistry([
            Entry(Spawn.self, recordable: true),
            Entry(Tasks.self, aliases: ["ps"], recordable: false),
            Entry(Show.self, aliases: ["where"], recordable: false),
            Entry(Queues.self, aliases: ["q"], recordable: false),
            Entry(During.self, recordable: false),
            Entry(Top.self, recordable: false),
            Entry(StatsCommand.self, recordable: false),
            Entry(Lints.self, recordable: false),
            Entry(LintCommand.self, recordable: true),
            Entry(TimelineCommand.self, recordable: false),
            Entry(TraceCommand.self, recordable: true),
            Entry(Step.self, aliases: ["s"], recordable: true),
            Entry(Goto.self, recordable: false),
            Entry(HistoryCommand.self, recordable: false),
            Entry(JournalCommand.self, recordable: false),
            Entry(PolicyCommand.self, recordable: true),
            Entry(ClockCommand.self, recordable: true),
            Entry(NetCommand.self, recordable: true),
            Entry(Run.self, aliases: ["r"], recordable: true),
            Entry(Continue.self, aliases: ["c"], recordable: true),
            Entry(Pause.self, recordable: false),
            Entry(Break.self, aliases: ["b"], recordable: true),
            Entry(Breaks.self, recordable: false),
            Entry(Delete.self, recordable: true),
            Entry(Cancel.self, recordable: true),
            Entry(Clear.self, recordable: true),
            Entry(Reset.self, recordable: true),
            Entry(Poller.self, recordable: true),
            Entry(Watch.self, recordable: true),
            Entry(OutputCommand.self, recordable: true),
            Entry(Expect.self, recordable: false),
            Entry(Mark.self, recordable: true),
            Entry(Source.self, recordable: false),
            Entry(Save.self, recordable: false),
            Entry(Echo.self, recordable: true),
            Entry(Sleep.self, recordable: true),
            Entry(Help.self, aliases: ["?"], recordable: false),
            Entry(Quit.self, aliases: ["exit"], recordable: false),
        ])
        registry.register(taskKind: Entry(SpawnSleeper.self, recordable: true))
        registry.register(taskKind: Entry(SpawnCounter.self, recordable: true))
        registry.register(taskKind: Entry(SpawnRace.self, recordable: true))
        return registry
    }()
}
