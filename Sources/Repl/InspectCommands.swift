// Commands that look without touching: tasks, show/where, queues; and clear.
import ArgumentParser
import Runtime

struct Tasks: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "The task table: id, name, state, waiting on, steps, busy ms, where.")

    @Flag(help: "One JSON document.")
    var json = false

    mutating func run(in session: Session) throws {
        let snap = session.loop.snapshot()
        if json {
            session.output.line(try JSONViews.encode(snap.tasks.map { JSONViews.task($0, now: snap.takenAt) }))
        } else {
            session.output.line(Views.tasks(snap))
        }
    }
}

struct Show: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "One task in full: its wait, where it suspended, and its recorded figures ('where' too).")

    @Argument(help: "The task.")
    var task: String

    @Flag(help: "One JSON document.")
    var json = false

    mutating func run(in session: Session) throws {
        let info = try session.task(task)
        let snap = session.loop.snapshot()
        if json {
            session.output.line(try JSONViews.encode(JSONViews.task(info, now: snap.takenAt)))
        } else {
            session.output.line(Views.show(info, snap))
        }
    }
}

struct Queues: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "The queues: ready (in order), recv_wait, send_wait, future_wait, timers, and the poller.")

    @Flag(help: "One JSON document.")
    var json = false

    mutating func run(in session: Session) throws {
        let snap = session.loop.snapshot()
        session.output.line(json ? try JSONViews.encode(JSONViews.queues(snap)) : Views.queues(snap))
    }
}

struct Clear: ReplCommand {
    static let configuration = CommandConfiguration(abstract: "Forget finished tasks.")

    mutating func run(in session: Session) throws {
        let n = session.loop.clearFinished()
        session.output.line("forgot \(n) finished tasks")
    }
}
