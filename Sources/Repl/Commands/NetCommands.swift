// `net`: the loop's network — real (the kernel's sockets) or simulated (in-memory TCP
// between sockets of this loop, TimeTravel/SimNetwork.swift), and the simulated network's
// faults.
import ArgumentParser
import Runtime
import TimeTravel

struct NetCommand: ReplCommand {
    static let configuration = CommandConfiguration(
        commandName: "net",
        abstract: "The network new sockets use: net [sim | real | fault delay D | fault drop P% | fault reset FD | fault off].",
        discussion: """
            'net sim': sockets created from now on (the fib server's, in-loop clients') are \
            in-memory TCP inside this loop, with the kernel's readiness: readable when bytes \
            or end of file wait, writable while the peer's 256 KiB buffer has room, a \
            connect completing through send_wait. They have fds from 1048576 (2^20) up, which \
            no real fd reaches, and ports from 30000 (listeners on port 0) and 50000 \
            (clients). Nothing outside the loop can reach them (no nc, no --thread clients). \
            With 'clock virtual' first, a session of in-loop parts is a pure function of its \
            script and seed: the same output every run, and 'step back' can fork it. \
            'net real': new sockets are the kernel's again (simulated ones keep working). \
            Faults, for what is sent from then on: 'net fault delay 5ms' (one way; a connect \
            takes two), 'net fault drop 10% [--seed N]' (a lost segment is sent again 200 ms \
            later, as TCP does, still in order), 'net fault reset FD' (either end of a \
            connection: both ends' next calls fail with ECONNRESET), 'net fault off'. \
            Faults show in 'queues' and in traces. With no argument: the network now.
            """)

    // (`.allUnrecognized` keeps `-1ms` a word, for the fault's own message.)
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("sim, real or fault …; none: the network now.", valueName: "sim|real|fault"),
              completion: .list(["sim", "real", "fault"]))
    var words: [String] = []

    @Option(help: "The seed of the draws that decide which segments 'fault drop' loses (default 1).")
    var seed: UInt64?

    mutating func run(in session: Session) throws {
        let loop = session.loop
        let words = try Parse.words(self.words, usage: "usage: net [sim | real | fault delay D | fault drop P% | fault reset FD | fault off] [--seed N]")
        guard let first = words.first else {
            return session.output.line(Self.describe(loop))
        }
        if first != "fault" && seed != nil { throw ReplError("--seed goes with 'net fault drop'") }
        switch first {
        case "sim", "real":
            guard words.count == 1 else { throw ReplError("'net \(first)' takes nothing more, got '\(words.dropFirst().joined(separator: " "))'") }
            loop.setNetworkSimulated(first == "sim")
            session.output.line(first == "sim"
                ? "net sim: new sockets are simulated (in-memory, this loop only; fds from \(1 << 20))"
                : "net real: new sockets are the kernel's")
        case "fault":
            try fault(Array(words.dropFirst()), loop, session)
        default:
            throw ReplError("no 'net \(first)'; use net sim, net real or net fault delay|drop|reset|off")
        }
    }

    private func fault(_ args: [String], _ loop: EventLoop, _ session: Session) throws {
        guard let what = args.first else {
            throw ReplError("net fault takes delay DURATION, drop PERCENT%, reset FD or off")
        }
        guard loop.networkSummary != nil else {
            throw ReplError("faults are the simulated network's: 'net sim' first")
        }
        if what != "drop" && seed != nil { throw ReplError("--seed goes with 'net fault drop'") }
        var faults = loop.networkFaults
        func one() throws -> String {
            guard args.count == 2 else {
                throw ReplError("'net fault \(what)' takes one value, got \(args.count == 1 ? "none" : "'\(args.dropFirst().joined(separator: " "))'")")
            }
            return args[1]
        }
        switch what {
        case "delay":
            let text = try one()
            guard !Parse.isNegativeNumber(text), let d = try? DurationText.parse(text), d <= .seconds(60) else {
                throw ReplError("'net fault delay' takes a duration from 0 to 60s (0, 5ms, 1s), got '\(text)'")
            }
            faults.delayNanos = UInt64(d.clampedNanoseconds)
        case "drop":
            var text = try one()
            if text.hasSuffix("%") { text.removeLast() }
            guard let pct = Double(text), pct >= 0, pct <= 100 else {
                throw ReplError("'net fault drop' takes a percentage from 0% to 100%, got '\(args[1])'")
            }
            faults.dropRate = pct / 100
            if let seed { faults.seed = seed }
        case "reset":
            var text = try one()
            if text.hasPrefix("fd") { text.removeFirst(2) }
            guard let fd = Int32(text) else { throw ReplError("'net fault reset' takes an fd, got '\(args[1])'") }
            guard loop.resetSimulatedConnection(fd) else {
                throw ReplError("fd \(fd) is no connected simulated socket ('queues' lists the waits on them)")
            }
            return session.output.line("net: reset the connection of fd \(fd); its tasks meet ECONNRESET")
        case "off":
            guard args.count == 1 else { throw ReplError("'net fault off' takes nothing more") }
            faults.delayNanos = 0
            faults.dropRate = 0
        default:
            throw ReplError("no fault '\(what)'; use delay DURATION, drop PERCENT%, reset FD or off")
        }
        loop.networkFaults = faults
        session.output.line("net faults: \(faults)")
    }

    static func describe(_ loop: EventLoop) -> String {
        guard let summary = loop.networkSummary else { return "net real (the kernel's sockets; 'net sim' simulates them)" }
        return "net \(summary)"
    }
}
