// A pack's declared traits are what the session obeys: a command declared allowed in the
// past runs there, one not declared so is refused with the usual message; a task kind
// declared to fork a timeline forks one (unless its invocation says it uses real parts),
// and the refusal's list of what forks is read from the registry. The pack's other hooks
// (wait queues of its own, the loop replaced) are the built-ins' too.
import ArgumentParser
import FibPack
@testable import Repl
import Runtime
import Testing

/// `note TEXT`: a setting of the session, declared allowed in the past.
struct NoteCommand: ReplCommand {
    static let configuration = CommandConfiguration(commandName: "note", abstract: "Print a note.")
    @Argument var text: String
    mutating func run(in session: Session) throws { session.output.line("noted \(text)") }
}

/// `tweak`: declared with the default traits of a pack's command (changes the loop).
struct TweakCommand: ReplCommand {
    static let configuration = CommandConfiguration(commandName: "tweak", abstract: "Change something.")
    mutating func run(in session: Session) throws { session.output.line("tweaked") }
}

/// `spawn ticker N [--real]`: a task that yields N times, declared to fork a timeline
/// (on the virtual clock), except with `--real`.
struct SpawnTicker: ReplCommand {
    static let configuration = CommandConfiguration(commandName: "ticker", abstract: "A task that yields N times.")
    @Argument var count: Int
    @Flag var real = false
    mutating func run(in session: Session) throws {
        let loop = session.loop, n = count
        session.announce(loop.spawn(name: "ticker \(n)", kind: "ticker") {
            for _ in 0..<n { try await loop.yield() }
        })
    }
}

/// The pack's state: a queue of its own, and what it heard of replaced loops.
final class TraitsPackState: SessionExtension {
    var replaced: [Bool] = []
    var waitQueues: [String] { ["mailbox"] }
    func loopReplaced(in session: Session, reset: Bool) { replaced.append(reset) }
    static func of(_ session: Session) -> TraitsPackState { session.state(TraitsPackState.self) { TraitsPackState() } }
}

struct TraitsPack: CommandPack {
    func install(in session: Session) {
        session.register(command: NoteCommand.self, traits: .setting(allowedInPast: true))
        session.register(command: TweakCommand.self)
        session.register(taskKind: SpawnTicker.self, traits: CommandTraits(
            recordable: true, forks: .always, usesRealParts: { ($0 as? SpawnTicker)?.real == true },
            readsClock: true, forkNote: ForkNote(order: 9)))
        session.register(extension: TraitsPackState.of(session))
    }
}

@Suite(.timeLimit(.minutes(1))) struct CommandTraitsTests {
    static func session(fib: Bool = false) throws -> (Session, CapturedOutput) {
        let (output, captured) = ReplOutput.capturing()
        let s = try Session(output: output)
        if fib { s.install(FibPack()) }
        s.install(TraitsPack())
        return (s, captured)
    }

    @Test func aCommandDeclaredAllowedInThePastRunsThereAndOneNotDeclaredSoIsRefused() throws {
        let (s, out) = try Self.session()
        defer { s.shutdown() }
        s.must("spawn counter 5; step 4; goto #2")
        s.must("note here")
        #expect(out.out.last == "noted here")
        #expect(s.pastStep == 2, "a command allowed in the past stays there")
        #expect(!s.execute("tweak"))
        #expect(out.err.last == "error: at #2, 2 steps in the past: 'tweak' would change the loop, and the past cannot be changed with it (only spawn counter|sleeper|race|ticker, cancel, policy, clock and net fork a timeline); 'goto now' returns to the present (#4)")
        #expect(!out.out.contains("tweaked"))
        s.must("goto now; tweak")
        #expect(out.out.last == "tweaked")
    }

    @Test func aTaskKindDeclaredToForkForksUnlessItsInvocationUsesRealParts() throws {
        let (s, out) = try Self.session()
        defer { s.shutdown() }
        s.must("clock virtual; spawn ticker 3; step 3; goto #1")
        #expect(!s.execute("spawn ticker 1 --real"), "the pack's check: --real uses real parts")
        #expect(out.err.last?.contains("'spawn ticker' would change the loop, and the past cannot be changed with it") == true, "\(out.err.last ?? "")")
        s.must("spawn ticker 1")
        #expect(out.out.contains { $0.hasPrefix("forked a new timeline at #1 (re-ran 1 step and 2 commands") }, "\(out.out)")
        #expect(s.pastStep == nil)
        // The same kind on the real clock fixes the past (it reads the clock).
        let (r, rout) = try Self.session()
        defer { r.shutdown() }
        r.must("spawn ticker 3; step 3; goto #1")
        #expect(!r.execute("spawn ticker 1"))
        #expect(rout.err.last?.contains("'spawn ticker 3' at #0 ran on the real clock") == true, "\(rout.err.last ?? "")")
    }

    @Test func whatForksIsListedFromTheRegistry() throws {
        let (s, out) = try Self.session(fib: true)
        defer { s.shutdown() }
        s.must("spawn counter 2; step 2; goto #1")
        #expect(!s.execute("spawn server 0"))
        #expect(out.err.last?.contains("(only spawn counter|sleeper|race|ticker, cancel, policy, clock and net fork a timeline; under 'net sim' also the fib server and in-loop clients)") == true, "\(out.err.last ?? "")")
        // Without the fib pack, nothing is said of it.
        let registry = CommandRegistry.builtIn
        #expect(registry.forkingSummary() == "only spawn counter|sleeper|race, cancel, policy, clock and net fork a timeline")
    }

    @Test func aPacksWaitQueuesAndLoopReplacedHooksAreCalledAsTheBuiltInsAre() throws {
        let (s, out) = try Self.session()
        defer { s.shutdown() }
        s.must("expect queue mailbox == 0")
        #expect(!s.execute("expect queue parcels == 0"))
        #expect(out.err.last?.hasPrefix("error: no queue 'parcels'") == true)
        s.must("break on exit; reset")
        #expect(TraitsPackState.of(s).replaced == [true])
        s.must("breaks")
        #expect(out.out.last == "no breakpoints", "reset forgets the breakpoints (a built-in's state, by the same hook)")
    }
}
