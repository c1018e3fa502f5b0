// Where a session writes: results to one place (stdout), errors to another (stderr), and
// every result line also into a bounded transcript that `expect output contains` reads.
// Front ends choose the writers: a terminal prints above the prompt, a test captures.
import Runtime
import Synchronization

/// The output channels of a session (any thread).
public final class ReplOutput: Sendable {
    /// The most transcript lines kept (the oldest go first).
    public static let transcriptLimit = 20_000

    private let writeOut: @Sendable (String) -> Void
    private let writeErr: @Sendable (String) -> Void
    private let transcript = Locked<[String]>([])

    /// - Parameters:
    ///   - out: writes one result line (without its newline).
    ///   - err: writes one error line (without its newline).
    public init(out: @escaping @Sendable (String) -> Void, err: @escaping @Sendable (String) -> Void) {
        writeOut = out
        writeErr = err
    }

    /// Writes to file descriptors 1 and 2, a line per write(2) (line-buffered even when
    /// piped).
    public static func standard() -> ReplOutput {
        ReplOutput(out: { writeLine($0, to: 1) }, err: { writeLine($0, to: 2) })
    }

    /// Keeps everything in memory (for embedding and tests); read it with `captured`.
    public static func capturing() -> (ReplOutput, CapturedOutput) {
        let captured = CapturedOutput()
        return (ReplOutput(out: { captured.append(out: $0) }, err: { captured.append(err: $0) }), captured)
    }

    /// A result line (may contain newlines: each line is written and recorded).
    public func line(_ text: String) {
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let s = String(l)
            transcript.withLock {
                $0.append(s)
                if $0.count > Self.transcriptLimit { $0.removeFirst($0.count - Self.transcriptLimit) }
            }
            writeOut(s)
        }
    }

    /// An error line.
    public func error(_ text: String) {
        for l in text.split(separator: "\n", omittingEmptySubsequences: false) { writeErr(String(l)) }
    }

    /// Whether any result line so far contains `text`.
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
