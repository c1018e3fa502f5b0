// Embedding: a host's commands and task kinds live in corepl's command language like the
// built-in ones, and the example host's script passes.
import EmbedExample
import Foundation
import Repl
import Pools
import Runtime
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(5))) struct EmbeddingTests {
    let runner = ReplRunner { $0.install(ChannelPack()) }

    @Test func theExampleBuildsAndItsScriptPasses() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/embed/demo.repl").standardized.path
        let r = try runChild(try #require(ProcessPool.locate("corepl-embed"), "corepl-embed is not built"), [script], timeout: .seconds(120))
        let o = r.out
        #expect(r.status == 0, "\(r.err)")
        #expect(o.contains("channel_send 1 producer jobs (jobs full)"))
    }

    @Test func hostTaskKindsShowInTasksQueuesAndShowLikeBuiltIns() throws {
        let r = try runner.run(commands: """
            channel q --capacity 1
            spawn producer q 3
            spawn sleeper 1h
            step 2
            tasks
            queues
            show 1
            tasks --json
            expect task 1 waiting channel_send
            expect queue channel_send 1
            expect queue channel_recv 0
            """)
        #expect(r.status == 0, "\(r.errors)")
        let text = r.output.joined(separator: "\n")
        #expect(text.contains("1  producer q   waiting  channel_send q full"))
        #expect(text.contains("channel_send 1 producer q (q full)"))
        #expect(text.contains("  waiting   channel_send q full (queue channel_send)"))
        #expect(text.contains("\"queue\" : \"channel_send\""))
    }

    @Test func hostCommandsGetUsageHelpAndErrorsLikeBuiltIns() throws {
        let noName = try runner.run(commands: "channel")
        #expect(noName.status == 1)
        #expect(noName.errors.first == "<commands>:1: Missing expected argument '<name>'")
        #expect(noName.errors.contains { $0.contains("usage: channel <name> [--capacity <capacity>]") })
        let bad = try runner.run(commands: "channel q --capacity 0")
        #expect(bad.errors == ["<commands>:1: capacity must be from 1 to 10000, got 0"])
        let twice = try runner.run(commands: "channel q; channel q")
        #expect(twice.errors == ["<commands>:1: channel 'q' exists already"])
        let missing = try runner.run(commands: "spawn producer nowhere 3")
        #expect(missing.errors == ["<commands>:1: no channel 'nowhere'; create one with: channel NAME --capacity N"])
        let help = try runner.run(commands: "channel --help; help spawn; spawn producer --help")
        #expect(help.status == 0)
        let text = help.output.joined(separator: "\n")
        #expect(text.contains("usage: channel <name> [--capacity <capacity>]"))
        #expect(text.contains("kinds:"))
        #expect(text.contains("  producer "))
        #expect(text.contains("usage: producer <channel> <count>"))
        let json = try runner.run(commands: "channel a --capacity 3; channels --json")
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.output.dropFirst().joined(separator: "\n").utf8)) as? [[String: Any]])
        #expect(rows.first?["capacity"] as? Int == 3)
    }

    @Test func aHostCanHandItsOwnLoopAndTasksToTheRepl() throws {
        let loop = try EventLoop()
        let channel = Channel(name: "own", capacity: 1, loop: loop)
        loop.spawn(name: "host's receiver", kind: "receiver") { _ = try await channel.receive() }
        let r = try ReplRunner().run(commands: "step; expect task 1 waiting channel_recv; tasks", loop: loop)
        #expect(r.status == 0, "\(r.errors)")
        #expect(r.output.contains { $0.contains("host's receiver") })
    }

    @Test func cancellingATaskParkedInAHostQueueTakesItOut() throws {
        let r = try runner.run(commands: """
            channel q --capacity 1
            spawn consumer q
            step
            expect queue channel_recv contains 1
            cancel 1
            expect queue channel_recv 0
            step
            expect task 1 cancelled
            channels
            expect output contains receivers waiting []
            """)
        #expect(r.status == 0, "\(r.errors)")
    }
}
