// Commands that look without touching: tasks, show/where, queues; and clear.
import ArgumentParser
import Insight
import Runtime

struct Tasks: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "The task table: id, name, state, waiting on, steps, busy ms, where.")

    @Flag(help: "One JSON document.")
    var json = false

    mutating func run(in session: Session) throws {
        let snap = session.viewSnapshot()
        if json {
            session.output.line(try JSONViews.encode(snap.tasks))
        } else {
            var text = Views.tasks(snap)
            let lints = session.isInThePast ? [] : session.monitor.lints
            if !lints.isEmpty {
                text += "\n" + lints.map { "lint: \($0.line)" }.joined(separator: "\n")
            }
            session.output.line(text)
        }
    }
}

struct Show: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "One task in full: its wait, where it suspended, and its recorded figures ('where' too).")

    @Argument(help: ArgumentHelp("The task.", valueName: "task"))
    var task: TaskArgument

    @Flag(help: "One JSON document.")
    var json = false

    mutating func run(in session: Session) throws {
        let info = try task.resolve(in: session)
        if json {
            session.output.line(try JSONViews.encode(info))
        } else {
            let snap = session.viewSnapshot()
            if session.isInThePast { return session.output.line(Views.show(info, snap)) }
            let extra = session.extensions.flatMap { $0.showLines(for: info, snap, in: session) }
            let lints = session.monitor.lints.filter { $0.task == info.id }.map { "  lint      \($0.line)" }
            session.output.line(([Views.show(info, snap)] + extra + lints).joined(separator: "\n"))
        }
    }
}

struct Queues: ReplCommand {
    static let configuration = CommandConfiguration(
        abstract: "The queues: ready (in order), recv_wait, send_wait, future_wait, timers, and the poller.")

    @Flag(help: "One JSON document.")
    var json = false

    mutating func run(in session: Session) throws {
        let snap = session.viewSnapshot()
        if json { return session.output.line(try JSONViews.encode(snap)) }
        if session.isInThePast { return session.output.line(Views.queues(snap)) }
        let extra = session.extensions.flatMap { $0.queueRows(snap, in: session) }
        let sinceMark = session.gilSinceMark().flatMap { $0.marked ? $0.snapshot.waitsSummary : nil }
        session.output.line(Views.queues(snap, extraRows: extra, gilSinceMark: sinceMark))
    }
}

struct Clear: ReplCommand {
    static let configuration = CommandConfiguration(abstract: "Forget finished tasks.")

    mutating func run(in session: Session) throws {
        let n = session.loop.clearFinished()
        session.output.line("forgot \(n) finished \(n == 1 ? "task" : "tasks")")
    }
}
