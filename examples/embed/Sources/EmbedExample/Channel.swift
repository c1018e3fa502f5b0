// A bounded channel for tasks on one loop, built on the runtime's park/unpark: a sender
// waits in `channel_send` while the channel is full, a receiver in `channel_recv` while it
// is empty. Both queues show in corepl's `queues` and `tasks` like the seed's own.
import DequeModule
import Runtime

/// A bounded, FIFO channel between tasks of one loop (loop thread only).
public final class Channel: @unchecked Sendable {
    public let name: String
    public let capacity: Int
    let loop: EventLoop
    private var buffer = Deque<Int>()
    private var senders = Deque<TaskID>()
    private var receivers = Deque<TaskID>()
    /// Set by `close`: receivers get nil once the buffer is empty.
    public private(set) var isClosed = false
    /// How many values went through.
    public private(set) var delivered = 0

    public init(name: String, capacity: Int, loop: EventLoop) {
        self.name = name
        self.capacity = capacity
        self.loop = loop
    }

    /// Values waiting in the channel.
    public var count: Int { buffer.count }
    /// Tasks waiting to send, oldest first.
    public var waitingSenders: [TaskID] { Array(senders) }
    /// Tasks waiting to receive, oldest first.
    public var waitingReceivers: [TaskID] { Array(receivers) }

    /// Puts `value` in the channel, waiting in `channel_send` while it is full.
    public func send(_ value: Int, fileID: StaticString = #fileID, line: UInt = #line) async throws {
        while buffer.count >= capacity {
            try await wait(sending: true, detail: "\(name) full", fileID: fileID, line: line)
        }
        buffer.append(value)
        wakeOne(&receivers)
    }

    /// Takes the oldest value, waiting in `channel_recv` while the channel is empty; nil
    /// once it is closed and drained.
    public func receive(fileID: StaticString = #fileID, line: UInt = #line) async throws -> Int? {
        while buffer.isEmpty {
            if isClosed { return nil }
            try await wait(sending: false, detail: "\(name) empty", fileID: fileID, line: line)
        }
        let value = buffer.removeFirst()
        delivered += 1
        wakeOne(&senders)
        return value
    }

    /// No more values: waiting receivers wake and see the end.
    public func close() {
        isClosed = true
        while !receivers.isEmpty { wakeOne(&receivers) }
    }

    /// Parks the running task in the senders' or the receivers' line. (No `inout` here:
    /// an access held across the suspension would overlap the other side's.)
    private func wait(sending: Bool, detail: String, fileID: StaticString, line: UInt) async throws {
        guard let me = loop.currentTask else { preconditionFailure("Channel used outside a task") }
        if sending { senders.append(me) } else { receivers.append(me) }
        do {
            try await loop.park(in: sending ? "channel_send" : "channel_recv", detail: detail, fileID: fileID, line: line)
        } catch {
            // Cancelled while parked: leave the line.
            if sending { senders.removeAll { $0 == me } } else { receivers.removeAll { $0 == me } }
            throw error
        }
    }

    private func wakeOne(_ waiters: inout Deque<TaskID>) {
        while let next = waiters.popFirst() {
            if loop.unpark(next) { return }
        }
    }
}
