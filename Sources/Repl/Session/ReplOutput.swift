// Where a session writes: results to one place (stdout), errors to another (stderr), and
// every result line also into a bounded transcript that `expect output contains` reads.
// Narration (an echoed command line, `echo`'s text) goes to the same place as results but
// never into the transcript: a script's own words cannot satisfy its own expectations.
// Front ends choose the writers: a terminal prints above the prompt, a test captures.
// Lines tasks print on their own (a client's latencies) may be held back from the screen
// (`taskLineLimit`; the interactive prompt sets it), but never from the transcript.
import Foundation
import Glibc
import Runtime
import Synchronization

/// The output channels of a session (any thread).
public final class ReplOutput: Sendable {
    /// The most transcript lines kept (the oldest go first).
    public static let transcriptLimit = 20_000

    private let writeOut: @Sendable (String) -> Void
    private let writeErr: @Sendable (String) -> Void
    private let transcript = Locked<[String]>([])
    private let terminal: @Sendable () -> (columns: Int, color: Bool)?
    private let muted = Atomic<Bool>(false)
    let limiter = TaskLineLimiter()

    /// Lines a second each task may show at the interactive prompt (`output limit`).
    public static let defaultTaskLineLimit = 5

    /// - Parameters:
    ///   - out: writes one result line (without its newline).
    ///   - err: writes one error line (without its newline).
    ///   - terminal: the width of the terminal the results go to, and whether it takes
    ///     colour; nil (the default) when they do not go to a terminal.
    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void,
                terminal: @escaping @Sendable () -> (columns: Int, color: Bool)? = { nil }) {
        writeOut = out
        writeErr = err
        self.terminal = terminal
    }

    /// Writes to file descriptors 1 and 2, a line per write(2) (line-buffered even when
    /// piped).
    public static func standard() -> ReplOutput {
        ReplOutput(out: { writeLine($0, to: 1) }, err: { writeLine($0, to: 2) }, terminal: { terminalLayout(of: 1) })
    }

    /// The width of the terminal on `fd` and whether it takes colour (not when `NO_COLOR`
    /// is set, https://no-color.org, or `TERM=dumb`); nil if `fd` is not a terminal.
    public static func terminalLayout(of fd: Int32) -> (columns: Int, color: Bool)? {
        guard isatty(fd) != 0 else { return nil }
        var size = winsize()
        let columns = ioctl(fd, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        let env = ProcessInfo.processInfo.environment
        let color = (env["NO_COLOR"] ?? "").isEmpty && env["TERM"] != "dumb"
        return (columns, color)
    }

    /// How wide results may be and whether they may be coloured: the terminal's width and
    /// colour unless `NO_COLOR` is set, or 80 columns plain when not on a terminal.
    public var layout: (columns: Int, color: Bool) { terminal() ?? (80, false) }

    /// Keeps everything in memory (for embedding and tests); read it with `captured`.
    public static func capturing() -> (ReplOutput, CapturedOutput) {
        let captured = CapturedOutput()
        return (ReplOutput(out: { captured.append(out: $0) }, err: { captured.append(err: $0) }), captured)
    }

    /// A result line (may contain newlines: each line is written and recorded).
    public func line(_ text: String) {
        if muted.load(ordering: .relaxed) { return }
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let s = String(l)
            keep(s)
            writeOut(s)
        }
    }

    private func keep(_ line: String) {
        transcript.withLock {
            $0.append(line)
            if $0.count > Self.transcriptLimit { $0.removeFirst($0.count - Self.transcriptLimit) }
        }
    }

    /// A line a task printed on its own — a client's latency, its rate — as `task 3
    /// perf1: 0.0041`: a result like any other (the transcript keeps it), but shown only
    /// while `task`'s lines keep within `taskLineLimit`; the rest are counted and summed up
    /// in one line (`… 1,834 lines from task 3 (perf1) held back; 'show 3' has its
    /// figures`). A line that must never be held back (a request's reply) goes to `line`.
    ///
    /// - Parameter label: what the summary calls the task besides its number (its kind).
    public func taskLine(_ text: String, from task: TaskID?, label: String) {
        if muted.load(ordering: .relaxed) { return }
        let (show, summary) = limiter.admit(task: task, label: label)
        if let summary { writeOut(summary) }
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let s = String(l)
            keep(s)
            if show { writeOut(s) }
        }
    }

    /// Lines a second each task may show (`taskLine`); nil (the default) shows every line.
    /// The interactive prompt sets `defaultTaskLineLimit`; `output limit` changes it.
    public var taskLineLimit: Int? {
        get { limiter.perSecond }
        set { limiter.perSecond = newValue.map { max(1, $0) } }
    }

    /// Writes the one-line summary of the task lines held back since the last one, if any:
    /// always with `force` (after a command), else only once they have been held for a few
    /// seconds (a front end's timer: a flood that stopped is still summed up).
    public func flushHeldBack(force: Bool = true) {
        guard let summary = limiter.flush(force: force) else { return }
        if muted.load(ordering: .relaxed) { return }
        writeOut(summary)
    }

    /// Whether task lines are held back that no summary has counted yet (a front end then
    /// wakes to call `flushHeldBack(force: false)`).
    public var holdingTaskLines: Bool { limiter.holding }

    /// A narration line (an echoed command, `echo`'s text): written like a result, but
    /// not a result, so `expect output contains` never finds it.
    public func narration(_ text: String) {
        if muted.load(ordering: .relaxed) { return }
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) { writeOut(String(l)) }
    }

    /// An error line.
    public func error(_ text: String) {
        if muted.load(ordering: .relaxed) { return }
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) { writeErr(String(l)) }
    }

    /// Runs `body` with everything written to this output dropped (re-running a session's
    /// past to fork it prints nothing).
    func muting<T>(_ body: () throws -> T) rethrows -> T {
        muted.store(true, ordering: .relaxed)
        defer { muted.store(false, ordering: .relaxed) }
        return try body()
    }

    /// Forgets every result line so far (`reset`: a fresh loop's expectations look only at
    /// what it printed).
    public func clearTranscript() {
        transcript.withLock { $0.removeAll() }
    }

    /// Whether any result line since the transcript was last cleared contains `text`.
    public func transcriptContains(_ text: String) -> Bool {
        transcript.withLock { lines in lines.contains { $0.contains(text) } }
    }

    /// The last `n` result lines.
    public func lastLines(_ n: Int) -> [String] {
        transcript.withLock { Array($0.suffix(n)) }
    }
}

/// Output kept in memory by `ReplOutput.capturing()`.
public final class CapturedOutput: Sendable {
    private let store = Locked<(out: [String], err: [String])>(([], []))

    func append(out line: String) { store.withLock { $0.out.append(line) } }
    func append(err line: String) { store.withLock { $0.err.append(line) } }

    /// Every result line so far.
    public var out: [String] { store.withLock { $0.out } }
    /// Every error line so far.
    public var err: [String] { store.withLock { $0.err } }
}
