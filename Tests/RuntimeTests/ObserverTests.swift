// Observers see spawn, step begin/end, wait, wake, poll begin/end, exit and pool work, in
// order, on the loop thread.
import Runtime
import Testing
import TestSupport

final class Recorder: LoopObserver {
    var events: [String] = []
    func loop(_ loop: EventLoop, observed event: LoopEvent) {
        switch event {
        case .spawned(let id, let name, _, _): events.append("spawn \(id.rawValue) \(name)")
        case .stepBegan(let n, let task): events.append("begin #\(n) \(task.map { "\($0.rawValue)" } ?? "poll")")
        case .stepEnded(let e): events.append("end #\(e.number)")
        case .waits(let id, let w): events.append("wait \(id.rawValue) \(w.reason)")
        case .woke(let w): events.append("wake \(w.task.rawValue) \(w.cause)")
        case .pollBegan(let kind, _): events.append("poll \(kind)")
        case .pollEnded(let r): events.append("polled \(r.wakes.count)")
        case .exited(let id, let exit): events.append("exit \(id.rawValue) \(exit)")
        case .pool(let p): events.append("pool \(p.future.rawValue) \(p.kind)")
        case .net(let n): events.append("\(n)")
        }
    }
}

@Suite(.timeLimit(.minutes(2))) struct ObserverTests {
    @Test func anObserverSeesEveryEventInOrder() throws {
        let loop = try EventLoop()
        let recorder = Recorder()
        loop.addObserver(recorder)
        let (a, b) = try AsyncSocket.pair(on: loop)
        loop.spawn(name: "reader") { _ = try await a.recv(max: 1) }
        loop.step()
        try #require(b.tryRecv(max: 1) == nil)
        loop.spawn(name: "writer") { try await b.send(all: [1]) }
        loop.step()
        loop.step()
        #expect(recorder.events == [
            "spawn 1 reader",
            "begin #1 1", "wait 1 recv fd \(a.fd)", "end #1",
            "spawn 2 writer",
            "begin #2 2", "wait 2 send fd \(b.fd)", "end #2",
            "begin #3 poll", "poll epoll", "wake 2 fd \(b.fd) writable", "polled 1", "end #3",
        ])
        recorder.events.removeAll()
        loop.run()
        #expect(recorder.events.contains("exit 2 done"))
        #expect(recorder.events.contains("wake 1 fd \(a.fd) readable"))
        #expect(recorder.events.last == "end #\(loop.stepCount)")
        loop.removeObserver(recorder)
        loop.spawn(name: "unseen") {}
        loop.step()
        #expect(!recorder.events.contains("spawn 3 unseen"))
    }

    @Test func poolEventsPostedFromAnotherThreadArriveOnTheLoopThread() throws {
        let loop = try EventLoop()
        let recorder = Recorder()
        loop.addObserver(recorder)
        let future = loop.makeFuture(of: Int.self)
        let t = loop.spawn(name: "waiter") { _ = try await future.get() }
        loop.step()
        let worker = Thread {
            loop.post(PoolEvent(pool: "thread:1", future: future.id, kind: .started(worker: 1), label: "fib(1)", at: loop.sharedClock.now()))
            loop.post(PoolEvent(pool: "thread:1", future: future.id, kind: .finished(worker: 1, ok: true), label: "fib(1)", at: loop.sharedClock.now()))
            future.succeed(1)
        }
        worker.start()
        loop.run(until: .taskDone(t.id))
        worker.join()
        let pool = recorder.events.filter { $0.hasPrefix("pool") }
        #expect(pool == ["pool 1 started(worker: 1)", "pool 1 finished(worker: 1, ok: true)"])
    }
}
