// `journal save FILE` and `corepl replay FILE` (docs/TIME-TRAVEL.md): the session's
// commands with the step each ran after (and the virtual clock then), and a digest of every
// step; a replay runs the commands again at their steps on a fresh session and checks each
// step against the journal, stopping at the first that differs.
import ArgumentParser
import Foundation
import Runtime
import TimeTravel

/// A session's journal: what changed the loop between steps, and what every step did.
public struct Journal: Codable, Sendable {
    /// One command, the step it ran after, and the loop's virtual clock after it (if virtual).
    public struct Command: Codable, Sendable {
        public var step: UInt64
        public var text: String
        public var clock: UInt64?
    }

    public var format = "corepl-journal 2"
    public var commands: [Command]
    public var steps: [StepDigest]
    /// Every outside input the loop took, from its first step (format 2; nil when the
    /// session did not record them from its start).
    public var inputs: LoopInputs?
    /// How many steps the session had run (format 2): `steps` may hold only the last ones.
    public var stepCount: UInt64?

    /// Reads a journal written by `journal save`.
    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw ReplError("no file \(path)") }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ReplError("cannot read \(path): \(error.localizedDescription)")
        }
        do {
            self = try JSONDecoder().decode(Journal.self, from: data)
        } catch {
            throw ReplError("\(path) is not a corepl journal (\(error))")
        }
        guard format == "corepl-journal 1" || format == "corepl-journal 2" else {
            throw ReplError("\(path): unknown journal format '\(format)'")
        }
    }

    init(commands: [Command], steps: [StepDigest], inputs: LoopInputs?, stepCount: UInt64) {
        self.commands = commands
        self.steps = steps
        self.inputs = inputs
        self.stepCount = stepCount
    }
}

/// The journal feature's setting in a session.
final class JournalSettings {
    /// Whether a fresh loop records its outside inputs (`journal off` says not to, until
    /// `journal on`).
    var recordsInputs = true

    static func of(_ session: Session) -> JournalSettings {
        session.state(JournalSettings.self) { JournalSettings() }
    }
}

extension Session {
    /// The journal of this session so far.
    ///
    /// Its steps' digests are the history's: with the outside inputs recorded from the
    /// first step, a replay runs every step and checks those the history still holds.
    ///
    /// - Throws: `ReplError` if neither the history from the first step nor the inputs
    ///   are there to replay from.
    public func journal() throws -> Journal {
        let inputs = loop.recordedInputs
        let status = loop.historyStatus
        if inputs == nil {
            guard let status else {
                throw ReplError("a journal needs the history or the outside inputs from the first step ('history on' and 'journal on' keep them from now on; a journal then starts at a fresh loop: 'reset')")
            }
            guard status.oldestStep == 0 else {
                throw ReplError("the history no longer holds steps 1–\(status.oldestStep) (it keeps \(status.limit)) and the outside inputs were not recorded ('journal on' at a fresh loop records them; 'history on --limit N' before a long session keeps more steps)")
            }
        }
        let commands = commandLog.entries.map { Journal.Command(step: $0.step, text: $0.text, clock: $0.clockAfter) }
        return Journal(commands: commands, steps: loop.historyDigests(), inputs: inputs, stepCount: loop.stepCount)
    }
}

struct JournalCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Write the session's journal (its commands at their steps, and every step) for 'corepl replay FILE'.",
        discussion: """
            'journal' says what it holds; 'journal save FILE' writes it as JSON. Unlike \
            'save' (the commands only, for running again) and 'trace' (events for \
            pictures), a journal is for checking: 'corepl replay FILE' runs the commands \
            again at the steps they ran after, on a fresh session, compares every step \
            with the journal's (which task ran, what became ready, how the task stood \
            after it), and stops at the first difference. It also holds every outside \
            input the loop took from its first step — what each socket call returned \
            (fds, ports, addresses, the bytes received, how many were sent), what each \
            poll reported, where completions from pool threads were delivered, how clients \
            on threads of their own ended, the clock readings taken inside steps — so a \
            replay answers them from the journal instead of the kernel: a session with \
            real sockets replays step for step, and the first call that differs is \
            reported. The inputs are kept up to 64 MB; past that, recording stops and a \
            replay checks the steps up to there. A session of \
            simulated parts on the virtual clock replays identically without them. \
            'journal off' stops recording the inputs (a session that measures a loaded \
            server saves their cost, a few percent); 'journal on' starts again, before the \
            first step only (a replay begins at the first step). \
            A journal is of the session's loop: after 'reset' it begins afresh with the \
            fresh loop, and holds only what followed the last reset (its commands, steps \
            and inputs; not 'reset' itself), so that it replays from there.
            """)

    @Argument(help: ArgumentHelp("'save' to write it to FILE, 'off' or 'on' for the outside inputs; none: what it holds.",
                                 valueName: "save|off|on"), completion: .list(["save", "off", "on"]))
    var action: String?

    @Argument(help: ArgumentHelp("Where to write it (JSON).", valueName: "file"), completion: .file())
    var file: String?

    mutating func run(in session: Session) throws {
        let loop = session.loop
        switch (action, file) {
        case ("off"?, nil):
            JournalSettings.of(session).recordsInputs = false  // (a fresh loop after 'reset' records none either)
            loop.stopRecordingInputs()
            return session.output.line("journal: not recording outside inputs (a replay re-runs the commands against real sockets)")
        case ("on"?, nil):
            JournalSettings.of(session).recordsInputs = true  // (from the next fresh loop if not from this one)
            guard loop.inputRecordingStatus == nil else { return session.output.line("journal: already recording outside inputs") }
            guard loop.stepCount == 0 else {
                throw ReplError("outside inputs are recorded from the first step only (a replay begins there); 'reset' starts a fresh loop")
            }
            loop.startRecordingInputs()
            return session.output.line("journal: recording outside inputs")
        default:
            break
        }
        let journal = try session.journal()
        switch (action, file) {
        case (nil, nil):
            var inputs = ""
            if let status = session.loop.inputRecordingStatus {
                let size = status.bytes < 10_240 ? "\(status.bytes) B" : "\(status.bytes / 1024) KB"
                inputs = ", \(plural(status.inputs, "outside input")) (\(size))"
                if let end = status.endedAfterStep { inputs += " up to #\(end), where recording stopped at its bound" }
            }
            let steps = Int(journal.stepCount ?? UInt64(journal.steps.count))
            let checked = journal.steps.count < steps ? " (the last \(journal.steps.count) checkable)" : ""
            session.output.line("journal: \(plural(journal.commands.count, "command")), \(plural(steps, "step"))\(checked)\(inputs) ('journal save FILE' writes it)")
        case ("save"?, let file?):
            let encoder = JSONEncoder()
            // (One line: a loaded session's inputs run to hundreds of thousands.)
            encoder.outputFormatting = [.sortedKeys]
            do {
                try encoder.encode(journal).write(to: URL(fileURLWithPath: file))
            } catch {
                throw ReplError("cannot write \(file): \(error.localizedDescription)")
            }
            let steps = journal.stepCount ?? UInt64(journal.steps.count)
            let checked = journal.steps.count < Int(steps) ? " (the last \(journal.steps.count) checkable: the history keeps no more)" : ""
            session.output.line("wrote \(plural(journal.commands.count, "command")) and \(plural(Int(steps), "step"))\(checked) to \(file) (corepl replay \(file))")
        default:
            throw ReplError("usage: journal | journal save FILE | journal off | journal on")
        }
    }
}

extension Session {
    /// Runs `journal` again on this session's loop: each command right after the step it
    /// first ran after, each step with the clock reading it had (on the virtual clock, so
    /// that an idle poll jumps as far as it did), every step checked against the journal's.
    /// With `k`, only the steps up to #K and the commands before it (forking); without,
    /// everything (`corepl replay`). Command output goes where the session's goes.
    ///
    /// - Returns: what stopped it (`diverged at #7: …`), or nil; and how many commands ran.
    func rerun(_ journal: Journal, through k: UInt64? = nil) -> (failure: String?, commands: Int) {
        var next = 0
        var clock: UInt64?
        func runCommands(before step: UInt64) -> String? {
            while next < journal.commands.count && journal.commands[next].step < step {
                let c = journal.commands[next]
                guard execute(c.text) else { return "'\(c.text)' (after #\(c.step)) failed this time" }
                if let t = c.clock, loop.clock == .virtual { loop.setVirtualNow(t) }
                clock = c.clock ?? clock
                next += 1
            }
            return nil
        }
        // Every step to the journal's last (or #K); those the journal has digests of are checked.
        let last = min(k ?? .max, journal.stepCount ?? journal.steps.last?.step ?? 0)
        var digests = journal.steps[...]
        while loop.stepCount < last {
            let number = loop.stepCount + 1
            if let failure = runCommands(before: number) { return ("stopped before #\(number): \(failure)", next) }
            while let d = digests.first, d.step < number { digests.removeFirst() }
            let digest = digests.first.flatMap { $0.step == number ? $0 : nil }
            if loop.replayInputsExhausted {
                return (nil, next)  // the journal's inputs end here (its recording stopped at its bound)
            }
            let virtual = loop.clock == .virtual
            if virtual, let c = clock { loop.setVirtualNow(c) }
            let now = loop.now()
            let target = digest?.time ?? now
            loop.step(timeout: virtual ? .nanoseconds(Int64(clamping: target > now ? target - now : 0)) : pollTimeout)
            if let divergence = loop.replayDivergence {
                return ("diverged \(divergence)", next)
            }
            guard let recorded = digest else {
                clock = nil  // (the journal has no reading for this step: the next goes on from here)
                continue
            }
            guard let got = loop.historyDigest(ofStep: recorded.step) else {
                return ("diverged at #\(recorded.step): this run kept no record of it", next)
            }
            let timeDiffers = virtual && got.time != recorded.time
            if !got.sameStep(as: recorded) || timeDiffers {
                let when = timeDiffers ? " (on the virtual clock the journal's step ended \(recorded.time), this one \(got.time))" : ""
                return ("diverged at #\(recorded.step): the journal has \(recorded.description), this run \(got.description)\(when)", next)
            }
            clock = recorded.time
        }
        if let k {
            return (runCommands(before: k).map { "stopped before #\(k): \($0)" }, next)
        }
        return (runCommands(before: .max).map { "stopped after the last step: \($0)" }, next)
    }
}

extension ReplRunner {
    /// Replays a journal (`corepl replay FILE`): runs its commands again at their steps on
    /// a fresh session and checks every step against the journal's. Prints where it
    /// diverged, or that every step was as recorded. What the session prints (each command,
    /// `> CMD`, then its output and the tasks') is shown with `echo` (`corepl replay
    /// --echo`), and not otherwise.
    ///
    /// - Returns: 0 when every step matched, 1 otherwise.
    public func replay(file: String) throws -> Int32 {
        let journal = try Journal(contentsOf: file)
        let session = try Session(output: echo ? .standard() : ReplOutput.capturing().0)
        session.echo = echo
        configure(session)
        defer { session.shutdown() }
        if let inputs = journal.inputs {
            session.loop.stopRecordingInputs()
            session.loop.startReplaying(inputs)
        }
        if let failure = session.rerun(journal).failure {
            writeLine("replay \(failure)", to: 2)
            return 1
        }
        let how = journal.inputs == nil ? "" : session.loop.replayInputsExhausted
            ? ", answering the outside inputs from the journal up to #\(journal.inputs!.endedAfterStep!) (where its recording stopped)"
            : ", answering every outside input from the journal"
        let steps = session.loop.stepCount
        let checked = journal.steps.count < Int(steps) ? " (the last \(journal.steps.count) checked against the journal's digests: its history kept no more)" : ""
        writeLine("replayed \(plural(Int(steps), "step")) and \(plural(journal.commands.count, "command")) from \(file)\(how): every step as recorded\(checked)", to: 1)
        return 0
    }
}
