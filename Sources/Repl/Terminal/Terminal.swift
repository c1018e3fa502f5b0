// The interactive front end: libedit on the terminal thread, the session on the loop
// thread. The terminal thread polls stdin, the session's output pipe, a "command done"
// pipe and a signal pipe; it feeds libedit one key at a time (EL_UNBUFFERED), so output
// that arrives while a line is being edited is printed above it ("\r\e[K" + text, then
// EL_REFRESH redraws the prompt and the half-typed line intact).
import CEditline
import CLinux
import Dispatch
import Foundation
import Glibc
import Runtime

/// A libedit prompt over a `LoopService`.
public final class Terminal {
    let service: LoopService
    private let outputFD: Int32
    private let signalPipe: (read: Int32, write: Int32)
    private let donePipe: (read: Int32, write: Int32)
    private var el: OpaquePointer?
    private var hist: OpaquePointer?
    private var promptText: UnsafeMutablePointer<CChar>?
    private var busy = false
    private var pendingOutput: [UInt8] = []
    let historyPath: String
    private let registry: CommandRegistry
    private let output: ReplOutput
    /// The most history lines kept.
    public static let historySize = 1000

    /// An output whose lines go to a pipe the terminal prints from, and that pipe's read end.
    public static func makeOutput() throws -> (ReplOutput, Int32) {
        var fds: [Int32] = [-1, -1]
        guard corepl_pipe2(&fds, O_CLOEXEC) == 0 else { throw ReplError("pipe: \(errnoName(errno))") }
        let w = fds[1]
        // The terminal thread copies the pipe to standard output.
        let output = ReplOutput(out: { writeLine($0, to: w) }, err: { writeLine($0, to: w) },
                                terminal: { ReplOutput.terminalLayout(of: 1) })
        // A client printing hundreds of lines a second would leave nothing readable.
        output.taskLineLimit = ReplOutput.defaultTaskLineLimit
        return (output, fds[0])
    }

    /// - Parameters:
    ///   - outputFD: the read end from `makeOutput()`, whose output the service's session uses.
    public init(service: LoopService, outputFD: Int32, historyPath: String? = nil) throws {
        self.service = service
        self.outputFD = outputFD
        self.historyPath = historyPath ?? ((ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.corepl_history")
        var s: [Int32] = [-1, -1], d: [Int32] = [-1, -1]
        guard corepl_pipe2(&s, O_CLOEXEC | O_NONBLOCK) == 0, corepl_pipe2(&d, O_CLOEXEC | O_NONBLOCK) == 0 else {
            throw ReplError("pipe: \(errnoName(errno))")
        }
        signalPipe = (s[0], s[1])
        donePipe = (d[0], d[1])
        registry = service.perform { $0.registry }
        output = service.perform { $0.output }
    }

    deinit {
        for fd in [signalPipe.read, signalPipe.write, donePipe.read, donePipe.write] { close(fd) }
        promptText.map { free($0) }
    }

    // MARK: Running

    /// Runs the prompt until `quit` or Ctrl-D. Terminal settings are restored on the way
    /// out (and on a crash).
    ///
    /// - Parameter first: work to run on the loop thread before the first prompt (scripts
    ///   given on the command line); its output is shown as it comes.
    public func run(first: (@Sendable (Session) -> Void)? = nil) {
        _ = corepl_guard_terminal(0)
        defer { corepl_restore_terminal() }
        setUpSignals()
        setUpEditLine()
        defer { tearDown() }
        writeRaw("corepl — a REPL for a cooperative event loop. 'help' lists commands. The loop is paused.\r\n")
        if let first {
            busy = true
            let done = donePipe.write
            let service = self.service
            service.submit { session in
                first(session)
                service.publishStatus(session)
                var byte: UInt8 = 1
                _ = write(done, &byte, 1)
            }
        } else {
            corepl_el_set_unbuffered(el, 1)
        }
        var fds: [pollfd] = []
        while true {
            fds = [pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: signalPipe.read, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: donePipe.read, events: Int16(POLLIN), revents: 0)]
            if !busy { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            // While running in the background, wake now and then to refresh the step count;
            // while task lines are held back, to sum them up once their flood has stopped.
            let timeout: Int32 = service.status.running ? 500 : output.holdingTaskLines ? 1000 : -1
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno == EINTR { continue }
            if n == 0 { output.flushHeldBack(force: false) }  // into the pipe: printed next round
            if n == 0 && !busy {
                writeRaw("\r\u{1b}[K")  // the step count in the prompt changed
                corepl_el_refresh(el)
                continue
            }
            if fds[0].revents != 0 { drainOutput() }
            if fds[1].revents != 0 { handleSignals() }
            if fds[2].revents != 0 {
                drain(donePipe.read)
                drainOutput()
                busy = false
                if service.status.quit { break }
                corepl_el_set_unbuffered(el, 1)  // a fresh prompt
            }
            if fds.count > 3, fds[3].revents != 0, !busy {
                var available: Int32 = 0
                let hungUp = fds[3].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
                if hungUp || (ioctl(0, UInt(FIONREAD), &available) == 0 && available == 0) {
                    submit("quit")  // the terminal went away (or end of input): quit, do not spin
                } else {
                    readKey()
                }
            }
        }
        service.join()
        drainOutput()
    }

    /// Feeds one key to libedit; a finished line goes to the loop thread.
    private func readKey() {
        var count: Int32 = 0
        // In unbuffered mode NULL means "the line is empty now" (e.g. after Ctrl-U).
        guard let p = el_gets(el, &count) else { return }
        // Only the first `count` bytes are this line (the buffer may hold older text after it).
        let line = String(decoding: UnsafeRawBufferPointer(start: p, count: Int(max(0, count))), as: UTF8.self)
        if line == "\u{4}" {
            writeRaw("\r\n")
            submit("quit")  // Ctrl-D on an empty line
            return
        }
        guard line.hasSuffix("\n") else { return }  // still editing
        let command = String(line.dropLast())
        if !command.trimmingWhitespace().isEmpty {
            corepl_history_enter(hist, command.trimmingWhitespace())
            corepl_history_save(hist, historyPath)
        }
        submit(command)
    }

    /// Hands a line to the loop thread; the terminal waits (printing output) until done.
    private func submit(_ line: String) {
        corepl_el_set_unbuffered(el, 0)  // cooked mode while the command runs
        busy = true
        let done = donePipe.write
        let service = self.service
        service.submit { session in
            session.execute(line)
            service.publishStatus(session)  // so the next prompt shows the new step count
            var byte: UInt8 = 1
            _ = write(done, &byte, 1)
        }
    }

    // MARK: Output

    private func drainOutput() {
        var buf = [UInt8](repeating: 0, count: 65536)
        var got = false
        while true {
            var p = pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 0) > 0 else { break }
            let n = read(outputFD, &buf, buf.count)
            guard n > 0 else { break }
            pendingOutput += buf[0..<n]
            got = true
        }
        guard got, let lastNewline = pendingOutput.lastIndex(of: 10) else { return }
        let text = String(decoding: pendingOutput[...lastNewline], as: UTF8.self)
        pendingOutput.removeSubrange(...lastNewline)
        printAbove(text)
    }

    /// Prints complete lines: above the prompt when one is shown (then redraws it).
    private func printAbove(_ text: String) {
        let body = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().joined(separator: "\r\n") + "\r\n"
        if busy {
            writeRaw(body)
        } else {
            writeRaw("\r\u{1b}[K" + body)
            corepl_el_refresh(el)
        }
    }

    private func writeRaw(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + sent, $0.count - sent) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            sent += n
        }
    }

    // MARK: Signals

    /// Each signal writes its code to the signal pipe from whichever thread receives it
    /// (a C handler: dispatch signal sources lose signals delivered to other threads).
    private static let forwardedSignals: [(Int32, UInt8)] = [(SIGINT, UInt8(ascii: "I")), (SIGWINCH, UInt8(ascii: "W")), (SIGTSTP, UInt8(ascii: "Z"))]

    private func setUpSignals() {
        for (sig, code) in Self.forwardedSignals {
            _ = corepl_forward_signal(sig, signalPipe.write, CChar(bitPattern: code))
        }
    }

    private func handleSignals() {
        var codes = [UInt8](repeating: 0, count: 64)
        let n = read(signalPipe.read, &codes, codes.count)
        guard n > 0 else { return }
        for code in codes[0..<n] {
            switch code {
            case UInt8(ascii: "I"): interruptPressed()
            case UInt8(ascii: "W"): el_resize(el)
            default: break
            }
        }
    }

    /// Ctrl-C: at the prompt it clears the line; during a command it stops the run (a
    /// long inline/block step cannot be cut short: it says who holds the loop).
    private func interruptPressed() {
        if busy {
            // The terminal (in cooked mode now) has echoed "^C" already.
            if let (task, nanos) = service.busyTask, nanos > 100_000_000 {
                // The task may be newer than the last published table: then it has no name here.
                let name = service.status.tasks.first { $0.id == task.rawValue }.map { " (\($0.name))" } ?? ""
                writeRaw("\r\ntask \(task.rawValue)\(name) holds the loop, computing for \(Views.millis(nanos)); a step cannot be cut short: the run stops right after it\r\n")
            } else {
                writeRaw("\r\n")
            }
            service.interrupt()
        } else {
            writeRaw("^C\r\n")
            corepl_el_set_unbuffered(el, 0)
            corepl_el_set_unbuffered(el, 1)  // an empty line, a fresh prompt
        }
    }

    private func drain(_ fd: Int32) {
        var buf = [UInt8](repeating: 0, count: 64)
        while read(fd, &buf, buf.count) > 0 {}
    }

    // MARK: libedit

    private func setUpEditLine() {
        setlocale(LC_CTYPE, "")  // or non-ASCII input is dropped
        el = el_init("corepl", fdopen(0, "r"), fdopen(1, "w"), fdopen(2, "w"))
        hist = history_init()
        corepl_history_setsize(hist, Int32(Self.historySize))
        corepl_history_setunique(hist, 1)
        corepl_history_load(hist, historyPath)
        corepl_el_set_clientdata(el, Unmanaged.passUnretained(self).toOpaque())
        corepl_el_set_editor(el, "emacs")
        corepl_el_set_history(el, hist)
        corepl_el_set_signal(el, 0)
        corepl_el_set_prompt(el) { el in
            guard let data = corepl_el_clientdata(el) else { return nil }
            return Unmanaged<Terminal>.fromOpaque(data).takeUnretainedValue().prompt()
        }
        corepl_el_addfn(el, "corepl-complete", "complete a command, task or file") { el, _ in
            guard let data = corepl_el_clientdata(el) else { return 6 }  // CC_ERROR
            return Unmanaged<Terminal>.fromOpaque(data).takeUnretainedValue().complete()
        }
        corepl_el_bind(el, "^I", "corepl-complete")
        el_source(el, nil)  // ~/.editrc
    }

    private func tearDown() {
        if let hist {
            corepl_history_save(hist, historyPath)
            history_end(hist)
        }
        if let el { el_end(el) }
        el = nil
        hist = nil
        for (sig, _) in Self.forwardedSignals { corepl_unforward_signal(sig) }
    }

    /// `[paused #12] > `, `[running #20931] > `, `[past #9 of #12] > `,
    /// `[paused #12, random --seed 7] > `
    func prompt() -> UnsafeMutablePointer<CChar>? {
        let status = service.status
        var where_ = "\(status.running ? "running" : "paused") #\(status.step)"
        if let k = status.past { where_ = "past #\(k) of #\(status.step)" }
        if let p = status.policy { where_ += ", \(p)" }
        if status.virtualClock { where_ += ", virtual clock" }
        if status.netSimulated { where_ += ", net sim" }
        let text = "[\(where_)] > "
        promptText.map { free($0) }
        promptText = strdup(text)
        return promptText
    }

    /// Tab: complete the word under the cursor, or list the choices.
    func complete() -> UInt8 {
        guard let info = el_line(el) else { return 6 }
        let before = String(decoding: UnsafeRawBufferPointer(
            start: info.pointee.buffer, count: info.pointee.cursor - info.pointee.buffer), as: UTF8.self)
        let status = service.status
        let (word, candidates) = Completer.complete(before, registry: registry, tasks: status.tasks)
        guard !candidates.isEmpty else { return 6 }  // CC_ERROR: beep
        if candidates.count == 1 {
            var insert = String(candidates[0].dropFirst(word.count))
            if !insert.hasSuffix("/") { insert += " " }
            el_insertstr(el, insert)
            return 4  // CC_REFRESH
        }
        let common = Completer.commonPrefix(candidates)
        if common.count > word.count {
            el_insertstr(el, String(common.dropFirst(word.count)))
            return 4
        }
        writeRaw("\r\n" + candidates.joined(separator: "  ") + "\r\n")
        return 8  // CC_REDISPLAY
    }
}
