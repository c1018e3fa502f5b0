// Reading commands from standard input when it is not a terminal (corepl < demo.repl):
// plain lines, no line editor, each reported as `<stdin>:N` like a script line.

import Glibc

/// The plain front end.
public enum LineReader {
    /// Reads and executes lines until end of input or `quit`; the first failing line
    /// stops it (unless `keepGoing`), as in a script.
    ///
    /// - Returns: true if every line succeeded.
    public static func readStandardInput(into session: Session) -> Bool {
        var ok = true
        var number = 0
        var input = StandardInputLines()
        while !session.quitRequested, let line = input.next() {
            number += 1
            if !session.execute(line, origin: .script(file: "<stdin>", line: number)) {
                ok = false
                if !session.keepGoing { break }
            }
        }
        return ok
    }
}

/// Lines of standard input, read with read(2): a signal that interrupts a read (Ctrl-C,
/// SIGTERM, which interrupt the running command) only makes it read again. (The standard
/// library's `readLine` spun at full CPU for ever once a signal had interrupted a read on
/// a pipe: stdio's error flag stayed set and every call failed at once.)
struct StandardInputLines {
    private var buffer: [UInt8] = []
    private var start = 0
    private var ended = false

    /// The next line without its newline (a last line without one too); nil at the end.
    mutating func next() -> String? {
        while true {
            if let i = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[start..<i], as: UTF8.self)
                start = i + 1
                return line
            }
            if ended {
                guard start < buffer.count else { return nil }
                let line = String(decoding: buffer[start...], as: UTF8.self)
                start = buffer.count
                return line
            }
            buffer.removeSubrange(0..<start)
            start = 0
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
            } else if n < 0 && (errno == EINTR || errno == EAGAIN) {
                if errno == EAGAIN { usleep(10_000) }  // (stdin left non-blocking by another program)
            } else {
                ended = true
            }
        }
    }
}
