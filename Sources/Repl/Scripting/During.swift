// What tasks got done while another task's requests were in flight: the seed's measure of
// starvation ("perf2 got 0 replies while fib(40) computed"), from time stamps rather than
// fixed ticks. `during TASK` shows it; `expect task T replies during TASK …` asserts it.
import ArgumentParser
import Runtime

/// The interval from a task's first request out to its last reply in, and the same length
/// of time just before it.
struct InFlightWindow {
    let task: TaskInfo
    let from: UInt64
    let to: UInt64

    var nanos: UInt64 { to - from }
    var seconds: Double { Double(nanos) / 1e9 }

    /// The window of `task`'s requests (stamps `sent` … `replied`).
    init(of task: TaskInfo, in session: Session) throws {
        let stamps = session.loop.existingStamps(of: task.id)
        let sent = stamps?.values(Stamp.sent) ?? []
        let replied = stamps?.values(Stamp.replied) ?? []
        guard let first = sent.first else {
            throw ReplError("task \(task.id.rawValue) (\(task.name)) has sent no request yet")
        }
        guard let last = replied.last, last >= first, replied.count >= sent.count else {
            throw ReplError("task \(task.id.rawValue) (\(task.name)) has a request in flight (it is \(task.state.name)); "
                + "'run until \(task.id.rawValue) done' first")
        }
        self.task = task
        self.from = first
        self.to = last
    }

    /// How long before the window began `other` had ended, if it had: such a task was not
    /// starved by the window (it was not there), and nothing of it compares with it.
    func endedBefore(_ other: TaskInfo) -> UInt64? {
        guard let ended = other.endedAt, ended < from else { return nil }
        return from - ended
    }

    /// A line that says `other` had ended before the window.
    func endedLine(_ other: TaskInfo, _ gone: UInt64) -> String {
        "task \(other.id.rawValue) (\(other.name)) had ended \(formatSeconds(Double(gone) / 1e9)) s before "
            + "task \(task.id.rawValue)'s requests went out: it was not there to be served or starved"
    }

    /// How many `replied` stamps `other` has in the window, and in the same length of time
    /// just before it. If `other` began serving later than that, its rate over the time
    /// it had is scaled to the window's length (`scaledFrom` says since when).
    func replies(of other: TaskInfo, in session: Session) -> (during: Int, before: Double, scaledFrom: UInt64?) {
        guard let stamps = session.loop.existingStamps(of: other.id) else { return (0, 0, nil) }
        let during = stamps.count(Stamp.replied, from: from, to: to)
        let replied = stamps.values(Stamp.replied)
        let start = from >= nanos ? from - nanos : 0
        guard let firstReply = replied.first, firstReply < from else { return (during, 0, nil) }
        if firstReply <= start || other.createdAt <= start {
            return (during, Double(stamps.count(Stamp.replied, from: start, to: from - 1)), nil)
        }
        // It has not existed for a whole window's length: its rate since it began.
        let since = min(other.createdAt, firstReply)
        let had = stamps.count(Stamp.replied, from: since, to: from - 1)
        return (during, Double(had) * Double(nanos) / Double(from - since), since)
    }
}

struct During: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "What other tasks got done while TASK's requests were in flight, against the same time just before.",
        discussion: """
            Counts each task's replies (time stamps taken as they arrived, on the client's
            own thread for --thread clients) from TASK's first request out to its last reply
            in, and in the same length of time just before. A task that began later than
            that has its rate scaled to the window; one that had ended before the window is
            left out. Times are loop time: the time the loop stood paused (at the prompt, at
            a breakpoint) is in neither, and pool work stands still with it. 'mark TASK'
            clears a task's stamps. Scripts assert the same figures with 'expect task T replies during TASK …'.
            """)

    @Argument(help: ArgumentHelp("The task whose requests make the window (e.g. a long request).", valueName: "task"))
    var task: TaskArgument

    @Argument(help: ArgumentHelp("The tasks to count (default: every other task with replies).", valueName: "task"))
    var others: [TaskArgument] = []

    mutating func run(in session: Session) throws {
        let subject = try task.resolve(in: session)
        let window = try InFlightWindow(of: subject, in: session)
        var tasks = try others.map { try $0.resolve(in: session) }
        if tasks.isEmpty {
            // Every other task that has replies and was there when the window began (one
            // that had ended before is neither served nor starved in it).
            tasks = session.loop.snapshot().tasks.filter {
                $0.id != subject.id && ($0.stampCounts[Stamp.replied] ?? 0) > 0
                    && $0.createdAt <= window.to && ($0.endedAt ?? .max) >= window.from
            }
        }
        let length = formatSeconds(window.seconds)
        session.output.line("task \(subject.id.rawValue) (\(subject.name)): requests in flight for \(length) s")
        if tasks.isEmpty { session.output.line("  no other task has replies to count") }
        for t in tasks {
            if let gone = window.endedBefore(t) {
                session.output.line("  " + window.endedLine(t, gone))
                continue
            }
            let (during, before, scaled) = window.replies(of: t, in: session)
            let ratio = before > 0 ? " — ratio \(formatSeconds(Double(during) / before))" : ""
            let note = scaled.map { " (scaled: it began \(formatSeconds(Double(window.from - $0) / 1e9)) s before)" } ?? ""
            session.output.line("  task \(t.id.rawValue) (\(t.name)): \(plural(during, "reply", "replies")) during, "
                + "\(Views.fmt(before.rounded())) in the \(length) s before\(note)\(ratio)")
        }
    }
}
