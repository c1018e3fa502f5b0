// What a command is to the session, declared where it is registered (the built-in table,
// a pack's `install`): whether `save` records it, whether it runs while the views show a
// past step, whether re-running the session runs it again, and whether a session with it
// can be re-run at all (forking a timeline). The session obeys the traits; it knows no
// command or task kind by name.

/// Whether a session that ran a command can still be re-run exactly from its commands
/// (docs/TIME-TRAVEL.md, part 4): then, in its past, the command forks a new timeline.
public enum Forking: Sendable, Equatable {
    /// It changes only simulated parts (tasks that compute, yield, sleep and join, the
    /// policy, the virtual clock, the simulated network): the session stays re-runnable.
    case always
    /// Only while the network is simulated (`net sim`), whose sockets it then uses (a
    /// server, an in-loop client); on real sockets it fixes the session's past.
    case underNetSim
    /// It uses real parts (sockets, threads, the real clock, the host's world): the
    /// session's past is fixed from it on, and in the past it is refused.
    case never
}

/// How the refusal in the past names a command among those that fork a timeline (`only
/// spawn counter|sleeper|race, cancel, policy, clock and net fork a timeline; under 'net
/// sim' also …`, the last part from the packs' commands).
public struct ForkNote: Sendable, Equatable {
    /// Its place in the list (lower first).
    public var order: Int
    /// The words for it; nil: its name. Commands that fork only under `net sim` are named
    /// by a phrase of the pack's, said once however many share it.
    public var words: String?

    public init(order: Int, words: String? = nil) {
        self.order = order
        self.words = words
    }
}

/// What a command (or a task kind, for `spawn KIND`) is to the session.
public struct CommandTraits: Sendable {
    /// Whether `save` writes it into the replay script (commands that change the session
    /// do; views, `help` and `save` itself do not).
    public var recordable: Bool
    /// Whether it runs while the views show a past step (`goto #K`): views, commands that
    /// move through the past (`step`), and settings that change nothing in the loop. Any
    /// other command there forks a timeline (if it and the session can) or is refused.
    public var allowedInPast: Bool
    /// Whether re-running the session (forking a timeline, `corepl replay`) runs it again
    /// at its step: commands that change the loop between steps. Not views, not settings of
    /// the session (`echo`, `break`, `trace`), and not the commands that take steps (the
    /// re-run takes every step itself).
    public var rerun: Bool
    /// Whether a session that ran it can still be re-run (and so fork in its past).
    public var forks: Forking
    /// A check of one invocation: true when it uses real parts even though the command
    /// forks (a client on a thread of its own, with real sockets; `clock real`). Decided by
    /// whoever registered the command, which knows its flags.
    public var usesRealParts: (@Sendable (any ReplCommand) -> Bool)?
    /// Whether what it starts reads the loop's clock (a task it spawns carries the time):
    /// on the real clock it fixes the session's past even though it forks.
    public var readsClock: Bool
    /// How the refusal in the past names it among the commands that fork; nil: not named.
    public var forkNote: ForkNote?
    /// Whether its first word is a task kind (`spawn KIND ARGS…`), whose own entry then
    /// parses the rest, completes it, shows its help, and whose traits apply.
    public var takesTaskKind: Bool

    /// - Parameters:
    ///   - allowedInPast: default: only when not recordable (views).
    ///   - rerun: default: when recordable.
    public init(recordable: Bool, allowedInPast: Bool? = nil, rerun: Bool? = nil, forks: Forking = .never,
                usesRealParts: (@Sendable (any ReplCommand) -> Bool)? = nil, readsClock: Bool = false,
                forkNote: ForkNote? = nil, takesTaskKind: Bool = false) {
        self.recordable = recordable
        self.allowedInPast = allowedInPast ?? !recordable
        self.rerun = rerun ?? recordable
        self.forks = forks
        self.usesRealParts = usesRealParts
        self.readsClock = readsClock
        self.forkNote = forkNote
        self.takesTaskKind = takesTaskKind
    }

    /// A view: not recorded, runs in the past.
    public static let view = CommandTraits(recordable: false)
    /// A command that changes the loop with real parts: recorded and re-run, refused in the
    /// past, and the session's past is fixed once it ran (the default for a pack's command
    /// or task kind).
    public static let changesLoop = CommandTraits(recordable: true)
    /// A setting of the session that changes nothing in the loop: recorded, not re-run;
    /// `allowedInPast` says whether it runs in the past.
    public static func setting(allowedInPast: Bool) -> CommandTraits {
        CommandTraits(recordable: true, allowedInPast: allowedInPast, rerun: false)
    }

    /// Whether this invocation changes only simulated parts, with the network simulated or
    /// not (`netSimulated`).
    func changesOnlySimulatedParts(_ command: any ReplCommand, netSimulated: Bool) -> Bool {
        switch forks {
        case .always: break
        case .underNetSim: guard netSimulated else { return false }
        case .never: return false
        }
        return !(usesRealParts?(command) ?? false)
    }
}

extension CommandRegistry {
    /// What forks a timeline, for the refusal in the past, from the traits of the commands
    /// and task kinds registered: `only spawn counter|sleeper|race, cancel, policy, clock
    /// and net fork a timeline`, then `; under 'net sim' also …` with the phrases of the
    /// kinds and commands that fork only there.
    func forkingSummary() -> String {
        func named(_ entries: [Entry], _ forks: Forking) -> [String] {
            var seen: Set<String> = []
            return entries.filter { $0.traits.forks == forks && $0.traits.forkNote != nil }
                .sorted { $0.traits.forkNote!.order < $1.traits.forkNote!.order }
                .map { $0.traits.forkNote!.words ?? $0.name }
                .filter { seen.insert($0).inserted }
        }
        let kinds = named(taskKinds, .always)
        var always = named(entries, .always)
        if let spawner = entries.first(where: { $0.traits.takesTaskKind }), !kinds.isEmpty {
            always.insert("\(spawner.name) " + kinds.joined(separator: "|"), at: 0)
        }
        let underNetSim = named(taskKinds + entries, .underNetSim)
        let list = always.isEmpty ? "nothing forks a timeline" : "only \(Self.and(always)) fork a timeline"
        return underNetSim.isEmpty ? list : "\(list); under 'net sim' also \(Self.and(underNetSim))"
    }

    /// `a, b and c`.
    static func and(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items.last!
    }
}
