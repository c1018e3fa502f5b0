// The built-in command table: each command with its traits (what `save` records, what
// runs in the past, what re-running the session repeats, what forks a timeline). A pack
// declares its own the same way when it registers them (Sources/FibPack).

extension CommandRegistry {
    /// Every built-in command, in the order `help` lists them, and the core's task kinds.
    /// (Made once: each entry reads its command's definition for Tab completion.)
    public static let builtIn: CommandRegistry = {
        /// Changes only simulated parts: re-runnable, forks a timeline in the past.
        func forking(_ note: Int?, usesRealParts: (@Sendable (any ReplCommand) -> Bool)? = nil) -> CommandTraits {
            CommandTraits(recordable: true, forks: .always, usesRealParts: usesRealParts, forkNote: note.map { ForkNote(order: $0) })
        }
        /// Takes steps (or moves through the past): recorded, not re-run (the re-run takes the steps).
        func stepping(allowedInPast: Bool) -> CommandTraits {
            CommandTraits(recordable: true, allowedInPast: allowedInPast, rerun: false)
        }
        var registry = CommandRegistry([
            Entry(Spawn.self, traits: CommandTraits(recordable: true, takesTaskKind: true)),
            Entry(Tasks.self, aliases: ["ps"], traits: .view),
            Entry(Show.self, aliases: ["where"], traits: .view),
            Entry(Queues.self, aliases: ["q"], traits: .view),
            Entry(During.self, traits: .view),
            Entry(Top.self, traits: .view),
            Entry(StatsCommand.self, traits: .view),
            Entry(Lints.self, traits: .view),
            Entry(LintCommand.self, traits: .setting(allowedInPast: false)),
            Entry(TimelineCommand.self, traits: .view),
            Entry(TraceCommand.self, traits: .setting(allowedInPast: false)),
            Entry(Step.self, aliases: ["s"], traits: stepping(allowedInPast: true)),
            Entry(Goto.self, traits: .view),
            Entry(HistoryCommand.self, traits: .view),
            Entry(JournalCommand.self, traits: .view),
            Entry(PolicyCommand.self, traits: forking(1)),
            Entry(ClockCommand.self, traits: forking(2, usesRealParts: { ($0 as? ClockCommand)?.kind == "real" })),
            Entry(NetCommand.self, traits: forking(3)),
            Entry(Run.self, aliases: ["r"], traits: stepping(allowedInPast: false)),
            Entry(Continue.self, aliases: ["c"], traits: stepping(allowedInPast: false)),
            Entry(Pause.self, traits: .view),
            Entry(Break.self, aliases: ["b"], traits: .setting(allowedInPast: true)),
            Entry(Breaks.self, traits: .view),
            Entry(Delete.self, traits: .setting(allowedInPast: true)),
            Entry(Cancel.self, traits: forking(0)),
            Entry(Clear.self, traits: forking(nil)),
            Entry(Reset.self, traits: .changesLoop),
            Entry(Poller.self, traits: .changesLoop),
            Entry(Watch.self, traits: .setting(allowedInPast: true)),
            Entry(OutputCommand.self, traits: .changesLoop),
            Entry(Expect.self, traits: .view),
            Entry(Mark.self, traits: .setting(allowedInPast: false)),
            Entry(Source.self, traits: .view),
            Entry(Save.self, traits: .view),
            Entry(Echo.self, traits: .setting(allowedInPast: true)),
            Entry(Sleep.self, traits: .setting(allowedInPast: true)),
            Entry(Help.self, aliases: ["?"], traits: .view),
            Entry(Quit.self, aliases: ["exit"], traits: .view),
        ])
        // Tasks that compute, yield, sleep and join: simulated parts, on the virtual clock.
        func simulatedTask(_ order: Int) -> CommandTraits {
            CommandTraits(recordable: true, forks: .always, readsClock: true, forkNote: ForkNote(order: order))
        }
        registry.register(taskKind: Entry(SpawnSleeper.self, traits: simulatedTask(1)))
        registry.register(taskKind: Entry(SpawnCounter.self, traits: simulatedTask(0)))
        registry.register(taskKind: Entry(SpawnRace.self, traits: simulatedTask(2)))
        return registry
    }()
}
