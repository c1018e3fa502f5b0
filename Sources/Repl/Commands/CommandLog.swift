// The log of what changed the loop between steps, which forking a timeline and the journal
// re-run. What each command is to it comes from the command's traits (CommandTraits.swift).
import Runtime
import TimeTravel

/// The time-travel feature's log in a session.
final class CommandLogState: SessionExtension {
    var log = CommandLog()

    static func of(_ session: Session) -> CommandLogState {
        session.state(CommandLogState.self) { CommandLogState() }
    }

    /// `reset`: the log begins with the fresh loop (what ran before fixes nothing of its
    /// past). A fork sets the log itself.
    func loopReplaced(in session: Session, reset: Bool) {
        if reset { log = CommandLog() }
    }
}

extension Session {
    /// What changed the loop between steps, for re-running the past (forking a timeline,
    /// the journal).
    var commandLog: CommandLog {
        get { CommandLogState.of(self).log }
        set { CommandLogState.of(self).log = newValue }
    }
}

/// The commands that changed the loop between steps, with the step they ran after and the
/// loop's clock then: what re-running the session to a past step needs.
struct CommandLog {
    struct Entry {
        var step: UInt64
        var text: String
        var clockAfter: UInt64?
        /// Whether new sockets were simulated after it (`net sim`).
        var netSimulatedAfter = false
    }

    var entries: [Entry] = []
    /// The first command that makes the session impossible to re-run exactly, and its step.
    var blocker: (step: UInt64, what: String)?
    /// Whether 'clock virtual' ran before the first step.
    var virtualFromStart = false

    /// Whether the network was simulated after the commands that ran before step `k`.
    func netSimulated(before k: UInt64) -> Bool {
        entries.last { $0.step < k }?.netSimulatedAfter ?? false
    }

    /// Notes a command that ran in the present (as its traits say: only what a re-run
    /// repeats is noted, and what uses real parts fixes the past from its step on).
    mutating func note(_ entry: CommandRegistry.Entry, _ command: any ReplCommand, text: String, step: UInt64, loop: EventLoop) {
        guard entry.traits.rerun else { return }
        var text = text
        // A seed drawn from the clock is written down, so that a re-run draws the same.
        if command is PolicyCommand, case .random(let seed) = loop.policy { text = "policy random --seed \(seed)" }
        if blocker == nil {
            if !entry.traits.changesOnlySimulatedParts(command, netSimulated: loop.isNetworkSimulated) {
                blocker = (step, "'\(text)' at #\(step) uses real parts (sockets, pools, threads or the real clock)")
            } else if command is ClockCommand {
                if step == 0 { virtualFromStart = true }
            } else if entry.traits.readsClock && loop.clock != .virtual {
                // (A task spawned on the real clock carries a real time; cancel, clear and
                // policy carry none.)
                blocker = (step, "'\(text)' at #\(step) ran on the real clock ('clock virtual' first makes a session re-runnable)")
            }
        }
        entries.append(Entry(step: step, text: text, clockAfter: loop.clock == .virtual ? loop.now() : nil,
                             netSimulatedAfter: loop.isNetworkSimulated))
    }

    /// Why the session cannot be re-run exactly to step `k`, or nil if it can.
    func whyNotForkable(upTo k: UInt64) -> String? {
        if let b = blocker, b.step < k { return b.what }
        if !virtualFromStart && k > 0 {
            return "its steps ran on the real clock ('clock virtual' before the first step makes a session re-runnable)"
        }
        return nil
    }
}
