// The cost of one step: a task resumed from the ready queue and suspended again by
// yield(), on corepl's loop and on a bare TaskExecutor that keeps no books, in one run.
import DequeModule
import Foundation
import Glibc
import Insight
import Runtime
import TimeTravel
import Trace

/// A TaskExecutor over a Deque and nothing else: the floor our loop is measured against.
/// yield() parks a continuation in the queue; a step resumes it and runs the job that
/// produces, so one step is one suspend/resume round trip, as on the loop.
final class BareExecutor: TaskExecutor, @unchecked Sendable {
    enum Entry { case job(UnownedJob), resume(UnsafeContinuation<Void, Never>) }
    var queue = Deque<Entry>()
    var capturing = false
    var captured: UnownedJob?

    func enqueue(_ job: consuming ExecutorJob) {
        if capturing {
            capturing = false
            captured = UnownedJob(job)
        } else {
            queue.append(.job(UnownedJob(job)))
        }
    }

    func yield() async {
        await withUnsafeContinuation { queue.append(.resume($0)) }
    }

    /// Runs until the queue is empty; returns the number of steps.
    func runAll() -> Int {
        let me = asUnownedTaskExecutor()
        var steps = 0
        while let entry = queue.popFirst() {
            switch entry {
            case .job(let j):
                j.runSynchronously(on: me)
            case .resume(let c):
                capturing = true
                c.resume()
                capturing = false
                captured!.runSynchronously(on: me)
                captured = nil
            }
            steps += 1
        }
        return steps
    }
}

final class NullObserver: LoopObserver {
    var count = 0
    func loop(_ loop: EventLoop, observed event: LoopEvent) { count &+= 1 }
}

/// ns per step for `tasks` tasks each yielding `yields` times on corepl's loop; with
/// `observer`, a no-op observer attached; with `recording`, a trace recorder (the `trace
/// record` of the REPL: a ring of the last 100,000 events); with `monitor`, the monitor a
/// REPL session attaches (lints, stats, top); with `history`, the history of the loop's
/// state a REPL session keeps (for `step back`).
func loopStep(tasks: Int, yields: Int, observer: Bool = false, recording: Bool = false, monitor: Bool = false,
              history: Bool = false) throws -> Double {
    let loop = try EventLoop()
    if history { loop.startHistory() }
    if observer { loop.addObserver(NullObserver()) }
    let watcher = monitor ? LoopMonitor() : nil
    watcher?.start(on: loop)
    defer { watcher?.stop() }
    let recorder = recording ? TraceRecorder() : nil
    recorder?.start(on: loop)
    defer { recorder?.stop() }
    for i in 0..<tasks {
        loop.spawn(name: "t\(i)") { for _ in 0..<yields { try await loop.yield() } }
    }
    let start = now()
    let before = loop.stepCount
    loop.run()
    let steps = loop.stepCount - before
    return Double(now() - start) / Double(steps)
}

/// ns per round trip of one byte between two tasks over a socket pair (recv_wait and
/// send_wait, real system calls, polls); with `journal`, the loop records its outside
/// inputs (what a REPL session does by default, for `corepl replay`).
func socketRoundTrip(trips: Int, journal: Bool) throws -> Double {
    let loop = try EventLoop()
    if journal { loop.startRecordingInputs() }
    let (a, b) = try AsyncSocket.pair(on: loop)
    loop.spawn(name: "ping") {
        for _ in 0..<trips {
            try await a.send(all: [1])
            _ = try await a.recv(max: 1)
        }
    }
    loop.spawn(name: "pong") {
        for _ in 0..<trips {
            let x = try await b.recv(max: 1)
            try await b.send(all: x)
        }
    }
    let start = now()
    loop.run()
    a.close()
    b.close()
    return Double(now() - start) / Double(trips)
}

/// Microseconds to rebuild the state of the step before the 100,000th (median of 21), and
/// the history's estimated size then.
func stepBack(tasks: Int) throws -> (Double, Int, Int) {
    let loop = try EventLoop()
    let before = rss().current
    loop.startHistory()
    for i in 0..<tasks {
        loop.spawn(name: "t\(i)") { while true { try await loop.yield() } }
    }
    loop.run(until: .steps(100_000))
    var times: [Double] = []
    for _ in 0..<21 {
        let start = now()
        let snap = loop.snapshot(atStep: loop.stepCount - 1)
        times.append(Double(now() - start) / 1e3)
        precondition(snap?.tasks.count == tasks)
    }
    let bytes = loop.historyStatus?.estimatedBytes ?? 0
    let grown = rss().current - before
    for t in loop.snapshot().tasks { loop.cancel(t.id) }
    loop.run(until: .idle)
    return (median(times), bytes, grown)
}

/// ns per step for the same work on the bare executor.
func bareStep(tasks: Int, yields: Int) -> Double {
    let ex = BareExecutor()
    for _ in 0..<tasks {
        Task(executorPreference: ex) { for _ in 0..<yields { await ex.yield() } }
    }
    let start = now()
    let steps = ex.runAll()
    return Double(now() - start) / Double(steps)
}

/// Peak RSS growth per task with `tasks` tasks each suspended (sleeping) on the loop.
func idleTaskBytes(tasks: Int) throws -> Double {
    let loop = try EventLoop()
    let before = rss().current
    for i in 0..<tasks {
        loop.spawn(name: "idle \(i)", kind: "sleeper") { try await loop.sleep(for: .seconds(3600)) }
    }
    for _ in 0..<tasks { loop.step() }
    let after = rss().peak
    // Checked after the reading: a snapshot copies every task's row.
    precondition(loop.snapshot().timers.count == tasks)
    for i in 1...tasks { loop.cancel(TaskID(i)) }
    loop.run()
    return Double(after - before) / Double(tasks)
}

/// Peak RSS growth per task with `tasks` bare tasks each suspended on a continuation.
func bareIdleTaskBytes(tasks: Int) -> Double {
    let ex = BareExecutor()
    let before = rss().current
    for _ in 0..<tasks {
        Task(executorPreference: ex) { await ex.yield() }
    }
    // Each task runs to its first suspension; their continuations stay queued.
    var first = 0
    while first < tasks, case .job(let j)? = ex.queue.first {
        _ = ex.queue.popFirst()
        j.runSynchronously(on: ex.asUnownedTaskExecutor())
        first += 1
    }
    let after = rss().peak
    _ = ex.runAll()
    return Double(after - before) / Double(tasks)
}

/// Runs a program and reads the one number it prints; nil if it cannot run or prints none.
func numberPrinted(by executable: String, _ arguments: [String]) -> Double? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Double(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
}

/// Runs this benchmark again as `corepl-bench SUITE` and reads the number it prints.
func childFigure(_ suite: String) -> Double? {
    guard let figure = numberPrinted(by: "/proc/self/exe", [suite]) else {
        Stderr.write("could not measure with corepl-bench \(suite)\n")
        return nil
    }
    return figure
}

func pythonStep(script: String) -> Double? {
    numberPrinted(by: "/usr/bin/env", ["python3", script])
}

func runStepSuite() throws {
    // The machine is shared and noisy, in phases of seconds: each figure of ours is
    // measured right next to its comparison, and ratios are medians of those pairs.
    // Memory in fresh processes: a heap that earlier runs grew and freed would absorb
    // the growth and under-report it.
    let idleBytes = childFigure("idle")
    let historyBytes = childFigure("history-rss")
    let bareIdleBytes = childFigure("idle-bare")
    let runs = 21
    let pairYields = 300_000
    var ours: [Double] = [], bare: [Double] = [], observed: [Double] = [], recorded: [Double] = [], monitored: [Double] = []
    var ratio: [Double] = [], observerRatio: [Double] = [], recordingRatio: [Double] = [], monitorRatio: [Double] = []
    var kept: [Double] = [], historyRatio: [Double] = []
    var together: [Double] = [], togetherRatio: [Double] = []
    _ = try loopStep(tasks: 2, yields: 100_000)
    _ = bareStep(tasks: 2, yields: 100_000)
    for _ in 0..<runs {
        let o = try loopStep(tasks: 2, yields: pairYields)
        let b = bareStep(tasks: 2, yields: pairYields)
        let w = try loopStep(tasks: 2, yields: pairYields, observer: true)
        let r = try loopStep(tasks: 2, yields: pairYields, recording: true)
        let m = try loopStep(tasks: 2, yields: pairYields, monitor: true)
        let h = try loopStep(tasks: 2, yields: pairYields, history: true)
        let a = try loopStep(tasks: 2, yields: pairYields, observer: true, recording: true, monitor: true, history: true)
        kept.append(h); historyRatio.append(h / o)
        together.append(a); togetherRatio.append(a / o)
        ours.append(o); bare.append(b); observed.append(w); recorded.append(r); monitored.append(m)
        ratio.append(o / b); observerRatio.append(w / o); recordingRatio.append(r / o); monitorRatio.append(m / o)
    }
    let yieldStep = median(ours)
    figure("yield step", yieldStep, "ns")
    figure("yield step, bare executor", median(bare), "ns")
    figure("yield step / bare", median(ratio), "x", digits: 2)
    figure("yield step with a no-op observer", median(observed), "ns")
    figure("no-op observer / none", median(observerRatio), "x", digits: 2)
    figure("yield step recording a trace", median(recorded), "ns")
    figure("trace recording / none", median(recordingRatio), "x", digits: 2)
    figure("yield step with the monitor (lints, stats)", median(monitored), "ns")
    figure("monitor / none", median(monitorRatio), "x", digits: 2)
    figure("yield step keeping the history (step back)", median(kept), "ns")
    figure("history / none", median(historyRatio), "x", digits: 2)
    figure("yield step with all of them (observer, trace, monitor, history)", median(together), "ns")
    figure("all together / none", median(togetherRatio), "x", digits: 2)
    var trips: [Double] = [], journaled: [Double] = [], journalRatio: [Double] = []
    _ = try socketRoundTrip(trips: 20_000, journal: false)
    for _ in 0..<9 {
        let plain = try socketRoundTrip(trips: 50_000, journal: false)
        let j = try socketRoundTrip(trips: 50_000, journal: true)
        trips.append(plain); journaled.append(j); journalRatio.append(j / plain)
    }
    figure("socket pair round trip (1 byte each way)", median(trips), "ns")
    figure("socket pair round trip recording outside inputs (journal)", median(journaled), "ns")
    figure("journal / none", median(journalRatio), "x", digits: 2)
    for tasks in [2, 1_000] {
        let (back, bytes, _) = try stepBack(tasks: tasks)
        figure("step back 1 at step 100000, \(tasks) tasks (rebuild the state)", back, "us", digits: 1)
        figure("history of 100000 steps, \(tasks) tasks (estimated)", Double(bytes) / 1e6, "MB", digits: 1)
    }

    var many: [Double] = [], bareMany: [Double] = [], manyRatio: [Double] = []
    var scaleRatio: [Double] = [], bareScaleRatio: [Double] = []
    for _ in 0..<7 {
        let two = try loopStep(tasks: 2, yields: 500_000)
        let m = try loopStep(tasks: 100_000, yields: 10)
        let b = bareStep(tasks: 100_000, yields: 10)
        let bareTwo = bareStep(tasks: 2, yields: 500_000)
        many.append(m); bareMany.append(b)
        manyRatio.append(m / b); scaleRatio.append(m / two); bareScaleRatio.append(b / bareTwo)
    }
    figure("yield step, 100000 tasks x 10 yields", median(many), "ns")
    figure("yield step, 100000 tasks, bare executor", median(bareMany), "ns")
    figure("100000 tasks / 2 tasks", median(scaleRatio), "x", digits: 2)
    figure("100000 tasks / 2 tasks, bare executor", median(bareScaleRatio), "x", digits: 2)
    figure("100000 tasks / bare at 100000", median(manyRatio), "x", digits: 2)

    if let historyBytes {
        figure("history of 100000 steps, 2 tasks (RSS grown, fresh process)", historyBytes / 1e6, "MB", digits: 1)
    }
    if let idleBytes, let bareIdleBytes {
        figure("peak RSS per idle task, 100000 tasks", idleBytes, "bytes", digits: 0)
        figure("peak RSS per idle task, bare executor", bareIdleBytes, "bytes", digits: 0)
    }

    let script = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : "python/gen_loop.py"
    if let py = pythonStep(script: script) {
        figure("python generator loop step", py, "ns")
    } else {
        Stderr.write("python3 not found: skipped the generator loop\n")
    }
}
