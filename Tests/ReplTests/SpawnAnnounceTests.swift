// What spawning says: a named server still says where it listens, and 'help spawn' explains
// ADDR only where a task kind takes one (a host without the fib pack has none).
import EmbedExample
import FibPack
@testable import Repl
import Runtime
import Testing

@Suite(.timeLimit(.minutes(1))) struct SpawnAnnounceTests {
    @Test func aNamedServerSaysItsAddressAndOnlyAddressKindsExplainADDR() throws {
        let (s, out) = try makeSession()
        defer { s.shutdown() }
        s.must("spawn server 0 --name web")
        let line = try #require(out.out.last)
        #expect(line.hasPrefix("task 1 web at 127.0.0.1:") && line.hasSuffix(" (pool thread:4, inline below 20, wait yield) → ready"), "\(line)")
        let port = try #require(line.split(separator: " ")[4].split(separator: ":").last.flatMap { UInt16($0) })
        #expect(port != 0)
        s.must("help spawn")
        #expect(out.out.last?.hasSuffix("ADDR is [HOST:]PORT (HOST defaults to 127.0.0.1) or @TASK, where task TASK listens.") == true)
        // corepl-embed's host (no fib pack) has no kind that takes an address.
        let embed = try ReplRunner { $0.install(ChannelPack()) }.run(commands: "help spawn")
        #expect(embed.output.contains { $0.contains("producer") }, "\(embed.output)")
        #expect(!embed.output.joined(separator: "\n").contains("ADDR"), "\(embed.output)")
        #expect(embed.output.last == "  See 'help spawn <kind>' for a kind's arguments.")
    }
}
