// Reading commands from standard input when it is not a terminal (or before the line
// editor exists): plain lines, each a script line `<stdin>:N`.
import FibService
import Glibc

/// The plain front end.
public enum LineReader {
    /// Reads and executes lines until end of input or `quit`. Piped input stops at the
    /// first failing line (unless `keepGoing`), like a script; a terminal never stops.
    ///
    /// - Returns: true if every line succeeded.
    public static func readStandardInput(into session: Session) -> Bool {
        let terminal = isatty(0) != 0
        var ok = true
        var number = 0
        if terminal {
            writeLine("corepl — a REPL for a cooperative event loop. 'help' lists commands. The loop is paused.", to: 1)
        }
        while !session.quitRequested {
            if terminal { prompt(session) }
            guard let line = readLine(strippingNewline: true) else { break }
            number += 1
            let origin: LineOrigin = terminal ? .interactive : .script(file: "<stdin>", line: number)
            if !session.execute(line, origin: origin) {
                ok = false
                if !terminal && !session.keepGoing { break }
            }
        }
        return ok
    }

    static func prompt(_ session: Session) {
        let text = "[paused #\(session.loop.stepCount)] > "
        _ = text.withCString { write(1, $0, strlen($0)) }
    }
}
