// The host's additions to corepl's command language: the `channel` and `channels`
// commands, and the `producer` and `consumer` task kinds (ChannelPack installs them).
import ArgumentParser
import Repl
import Runtime

/// The channels this session created: the pack's state (`Session.state`).
public final class Channels: @unchecked Sendable {
    public var byName: [String: Channel] = [:]
    public init() {}

    /// The session's channels.
    public static func of(_ session: Session) -> Channels {
        session.state(Channels.self) { Channels() }
    }

    func named(_ name: String) throws -> Channel {
        guard let c = byName[name] else {
            let known = byName.keys.sorted()
            throw ReplError("no channel '\(name)'\(known.isEmpty ? "; create one with: channel NAME --capacity N" : " (there is \(known.joined(separator: ", ")))")")
        }
        return c
    }
}

/// `channel NAME [--capacity N]`: creates a bounded channel.
public struct ChannelCommand: ReplCommand {
    public static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract: "Create a bounded channel that producer and consumer tasks share.")

    @Argument(help: "The channel's name.")
    var name: String

    @Option(help: "How many values it holds before senders wait.")
    var capacity: Int = 4

    public init() {}

    public mutating func run(in session: Session) throws {
        guard (1...10_000).contains(capacity) else { throw ReplError("capacity must be from 1 to 10000, got \(capacity)") }
        let channels = Channels.of(session)
        guard channels.byName[name] == nil else { throw ReplError("channel '\(name)' exists already") }
        channels.byName[name] = Channel(name: name, capacity: capacity, loop: session.loop)
        session.output.line("channel \(name): capacity \(capacity)")
    }
}

/// `channels [--json]`: every channel, its fill and who waits on it.
public struct ChannelsCommand: ReplCommand {
    public static let configuration = CommandConfiguration(
        commandName: "channels",
        abstract: "List the channels: capacity, values waiting, and the tasks waiting on each side.")

    @Flag(help: "One JSON document.")
    var json = false

    public init() {}

    struct Row: Encodable {
        var name: String
        var capacity: Int
        var count: Int
        var delivered: Int
        var closed: Bool
        var waiting_to_send: [Int]
        var waiting_to_receive: [Int]
    }

    public mutating func run(in session: Session) throws {
        let rows = Channels.of(session).byName.values.sorted { $0.name < $1.name }.map {
            Row(name: $0.name, capacity: $0.capacity, count: $0.count, delivered: $0.delivered, closed: $0.isClosed,
                waiting_to_send: $0.waitingSenders.map(\.rawValue), waiting_to_receive: $0.waitingReceivers.map(\.rawValue))
        }
        if json { return try session.printJSON(rows) }
        if rows.isEmpty { return session.output.line("no channels") }
        for r in rows {
            session.output.line("\(r.name): \(r.count)/\(r.capacity) values, \(r.delivered) delivered\(r.closed ? ", closed" : "")"
                + "; senders waiting \(r.waiting_to_send), receivers waiting \(r.waiting_to_receive)")
        }
    }
}

/// `spawn producer CHANNEL COUNT`: sends 1…COUNT, then closes the channel.
public struct SpawnProducer: ReplCommand {
    public static let configuration = CommandConfiguration(
        commandName: "producer",
        abstract: "A task that sends 1…COUNT into CHANNEL (waiting while it is full), then closes it.")

    @Argument(help: "The channel.")
    var channel: String

    @Argument(help: "How many values.")
    var count: Int

    public init() {}

    public mutating func run(in session: Session) throws {
        guard count >= 0 && count <= 1_000_000 else { throw ReplError("count must be from 0 to 1000000, got \(count)") }
        let c = try Channels.of(session).named(channel)
        let n = count
        let loop = session.loop
        let h = loop.spawn(name: "producer \(c.name)", kind: "producer") {
            for i in 1...max(1, n) where n > 0 {
                try await c.send(i)
                loop.record(Double(i), as: "sent")
            }
            c.close()
        }
        session.announce(h)
    }
}

/// `spawn consumer CHANNEL`: receives until the channel is closed and drained.
public struct SpawnConsumer: ReplCommand {
    public static let configuration = CommandConfiguration(
        commandName: "consumer",
        abstract: "A task that receives from CHANNEL (waiting while it is empty) until it is closed.")

    @Argument(help: "The channel.")
    var channel: String

    public init() {}

    public mutating func run(in session: Session) throws {
        let c = try Channels.of(session).named(channel)
        let loop = session.loop
        let h = loop.spawn(name: "consumer \(c.name)", kind: "consumer") {
            while let value = try await c.receive() {
                loop.record(Double(value), as: "received")
            }
        }
        session.announce(h)
    }
}
