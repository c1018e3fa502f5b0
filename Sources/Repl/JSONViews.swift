// `--json` output: one JSON document per command, for `corepl -c 'tasks --json' | jq .`.
import Foundation
import Runtime

enum JSONViews {
    struct Task: Encodable {
        var id: Int
        var name: String
        var kind: String
        var parent: Int?
        var state: String
        var waiting_on: String?
        var queue: String?
        var `where`: String?
        var error: String?
        var steps: Int
        var busy_ms: Double
        var age_s: Double
        var facts: [String: String]
        var figures: [String: [Double]]
    }

    struct FDWait: Encodable { var fd: Int32; var task: Int }
    struct FutureWait: Encodable { var future: Int; var task: Int }
    struct TimerWait: Encodable { var task: Int; var remaining_s: Double }
    struct JoinWait: Encodable { var task: Int; var target: Int }
    struct ParkedWait: Encodable { var queue: String; var detail: String; var task: Int }

    struct Queues: Encodable {
        var step: UInt64
        var ready: [Int]
        var recv_wait: [FDWait]
        var send_wait: [FDWait]
        var future_wait: [FutureWait]
        var timers: [TimerWait]
        var joins: [JoinWait]
        var external: [Int]
        var parked: [ParkedWait]
        var pending_pool_work: Int
        var poller: String
    }

    struct Breakpoint: Encodable {
        var id: Int
        var on: String
        var hits: Int
    }

    static func task(_ t: TaskInfo, now: UInt64) -> Task {
        var waitingOn: String?, queue: String?, location: String?, error: String?
        switch t.state {
        case .waiting(let w):
            waitingOn = Views.waitingOn(t, now: now)
            queue = w.reason.queueName
            location = w.location.line > 0 ? w.location.description : nil
        case .failed(let e):
            error = e
        default:
            break
        }
        return Task(
            id: t.id.rawValue, name: t.name, kind: t.kind, parent: t.parent?.rawValue, state: t.state.name,
            waiting_on: waitingOn, queue: queue, where: location, error: error, steps: t.steps,
            busy_ms: Double(t.busyNanos) / 1e6, age_s: Double(now &- min(t.createdAt, now)) / 1e9,
            facts: t.facts, figures: t.figures)
    }

    static func queues(_ s: LoopSnapshot) -> Queues {
        Queues(
            step: s.step, ready: s.ready.map(\.rawValue),
            recv_wait: s.recvWait.map { FDWait(fd: $0.fd, task: $0.task.rawValue) },
            send_wait: s.sendWait.map { FDWait(fd: $0.fd, task: $0.task.rawValue) },
            future_wait: s.futureWait.map { FutureWait(future: $0.future.rawValue, task: $0.task.rawValue) },
            timers: s.timers.map { TimerWait(task: $0.task.rawValue, remaining_s: Double($0.remainingNanos) / 1e9) },
            joins: s.joins.map { JoinWait(task: $0.task.rawValue, target: $0.target.rawValue) },
            external: s.external.map(\.rawValue),
            parked: s.parked.map { ParkedWait(queue: $0.queue, detail: $0.detail, task: $0.task.rawValue) },
            pending_pool_work: s.pendingFutures, poller: s.poller.rawValue)
    }

    /// Encodes `value` as pretty, key-sorted JSON text.
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
