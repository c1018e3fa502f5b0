// The example's commands as a command pack, installed the way corepl installs its fib
// pack: `session.install(ChannelPack())`. Each command and task kind declares its traits
// where it is registered, and the channels' wait queues are declared by the pack's state.
import Repl
import Runtime

/// The channel example's commands and task kinds, for `Session.install`.
///
/// ```swift
/// let runner = ReplRunner { $0.install(ChannelPack()) }
/// ```
public struct ChannelPack: CommandPack {
    public init() {}

    /// Registers `channel`, `channels`, `spawn producer`, `spawn consumer`, and the
    /// channels' wait queues.
    public func install(in session: Session) {
        // A channel and the tasks on it are the host's world: recorded by `save`, refused
        // in the past, and a session with them cannot fork a timeline.
        session.register(command: ChannelCommand.self, traits: .changesLoop)
        session.register(command: ChannelsCommand.self, traits: .view)
        session.register(taskKind: SpawnProducer.self, traits: .changesLoop)
        session.register(taskKind: SpawnConsumer.self, traits: .changesLoop)
        session.register(extension: Channels.of(session))
    }
}

extension Channels: SessionExtension {
    /// `channel_send` and `channel_recv` (`Channel` parks its tasks there): `expect queue
    /// channel_send …` knows them while nobody waits.
    public var waitQueues: [String] { ["channel_send", "channel_recv"] }
}
