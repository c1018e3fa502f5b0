// Breakpoints on scheduler events: a free run stops at the first step that matches one.
import ArgumentParser
import Runtime

/// What a breakpoint matches.
enum BreakTarget: Sendable, Equatable {
    /// Any step of this task.
    case task(TaskID)
    /// A kind of step.
    case event(BreakEvent)
    /// A task starting to wait on a future with this label (`fib(40)`).
    case future(label: String)
}

/// The scheduler events a breakpoint can name.
enum BreakEvent: String, Sendable, CaseIterable, ExpressibleByArgument {
    case recv, send, future, sleep, spawn, exit, fail

    var phrase: String {
        switch self {
        case .recv: return "any task that starts waiting to recv"
        case .send: return "any task that starts waiting to send"
        case .future: return "any task that starts waiting on a future"
        case .sleep: return "any task that goes to sleep"
        case .spawn: return "any step that spawns a task"
        case .exit: return "any task that ends"
        case .fail: return "any task that fails"
        }
    }

    func matches(_ step: TaskStep) -> Bool {
        switch (self, step.outcome) {
        case (.recv, .waits(let w)): if case .recv = w.reason { return true }
        case (.send, .waits(let w)): if case .send = w.reason { return true }
        case (.future, .waits(let w)): if case .future = w.reason { return true }
        case (.sleep, .waits(let w)): if case .sleep = w.reason { return true }
        case (.spawn, _): return !step.spawned.isEmpty
        case (.exit, .exited): return true
        case (.fail, .exited(.failed)): return true
        default: break
        }
        return false
    }
}

struct Breakpoint: Sendable {
    let id: Int
    let target: BreakTarget
    var hits = 0

    var description: String {
        switch target {
        case .task(let t): return "any step of task \(t.rawValue)"
        case .event(let e): return e.phrase
        case .future(let label): return "any task that starts waiting on a future for \(label)"
        }
    }

    var onText: String {
        switch target {
        case .task(let t): return "task \(t.rawValue)"
        case .event(let e): return e.rawValue
        case .future(let label): return "future \(label)"
        }
    }
}

/// The breakpoints of a session: the feature's state.
final class BreakpointState: SessionExtension {
    var list = Breakpoints()

    static func of(_ session: Session) -> BreakpointState {
        session.state(BreakpointState.self) { BreakpointState() }
    }

    /// `reset` starts without breakpoints (a fork keeps them).
    func loopReplaced(in session: Session, reset: Bool) {
        if reset { list = Breakpoints() }
    }
}

extension Session {
    /// The session's breakpoints.
    var breakpoints: Breakpoints {
        get { BreakpointState.of(self).list }
        set { BreakpointState.of(self).list = newValue }
    }
}

/// The session's breakpoints.
struct Breakpoints: Sendable {
    private(set) var all: [Breakpoint] = []
    private var nextID = 1

    mutating func add(_ target: BreakTarget) -> Breakpoint {
        let b = Breakpoint(id: nextID, target: target)
        nextID += 1
        all.append(b)
        return b
    }

    mutating func delete(_ id: Int) -> Bool {
        let before = all.count
        all.removeAll { $0.id == id }
        return all.count != before
    }

    /// The first breakpoint the step matches (its hit count goes up). `futureLabel` says
    /// what a future stands for (asked right after the step, while its task waits on it).
    mutating func match(_ event: StepEvent, futureLabel: (FutureID) -> String? = { _ in nil }) -> Breakpoint? {
        guard let step = event.taskStep else { return nil }
        for i in all.indices {
            let hit: Bool
            switch all[i].target {
            case .task(let t): hit = step.task == t
            case .event(let e): hit = e.matches(step)
            case .future(let label):
                if case .waits(let w) = step.outcome, case .future(let id) = w.reason { hit = futureLabel(id) == label } else { hit = false }
            }
            if hit {
                all[i].hits += 1
                return all[i]
            }
        }
        return nil
    }
}
