// Reading commands from standard input when it is not a terminal (corepl < demo.repl):
// plain lines, no line editor, each reported as `<stdin>:N` like a script line.

/// The plain front end.
public enum LineReader {
    /// Reads and executes lines until end of input or `quit`; the first failing line
    /// stops it (unless `keepGoing`), as in a script.
    ///
    /// - Returns: true if every line succeeded.
    public static func readStandardInput(into session: Session) -> Bool {
        var ok = true
        var number = 0
        while !session.quitRequested, let line = readLine(strippingNewline: true) {
            number += 1
            if !session.execute(line, origin: .script(file: "<stdin>", line: number)) {
                ok = false
                if !session.keepGoing { break }
            }
        }
        return ok
    }
}
