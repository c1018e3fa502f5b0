// Loop time while the loop is paused (LoopClock.swift): the clock stands still, for the
// loop and for other threads (`sharedClock`), timers do not expire, and it goes on from
// where it stopped — so a person's pause at the prompt is in no window, rate or latency.
import Runtime
import TimeTravel
import Testing
import TestSupport

private func sleeping(_ loop: EventLoop, _ id: TaskID) -> Bool {
    if case .sleep = loop.state(id)?.waitReason { return true }
    return false
}

@Suite(.timeLimit(.minutes(1))) struct PausedClockTests {
    @Test func aPausedClockStandsStillAndGoesOnFromWhereItStopped() throws {
        let loop = try EventLoop()
        loop.pauseClock()
        #expect(loop.isClockPaused)
        let stopped = loop.now()
        sleepWall(30_000_000)
        #expect(loop.now() == stopped)
        #expect(loop.sharedClock.now() == stopped)
        #expect(loop.sharedClock.isPaused)
        #expect(loop.pausedNanos >= 30_000_000)
        loop.resumeClock()
        let resumed = loop.now()
        // It goes on from its reading, not from the wall clock's (30 ms later).
        #expect(resumed >= stopped && resumed - stopped < 25_000_000, "\(Double(resumed &- stopped) / 1e6) ms")
        sleepWall(10_000_000)
        #expect(loop.now() - resumed >= 10_000_000)
        // Another thread reads the same clock.
        let shared = loop.sharedClock.now()
        #expect(shared >= resumed + 10_000_000 && shared <= loop.now())
    }

    @Test func aTimerDoesNotExpireWhileTheLoopIsPaused() throws {
        let loop = try EventLoop()
        loop.pausesClockBetweenRuns = true
        #expect(loop.isClockPaused)
        let sleeper = loop.spawn(name: "sleeper") { try await loop.sleep(for: .milliseconds(100)) }
        loop.step()
        #expect(sleeping(loop, sleeper.id))
        // Twice its time passes at the prompt; the loop has run for microseconds.
        sleepWall(200_000_000)
        loop.step(timeout: .zero)
        #expect(sleeping(loop, sleeper.id), "a sleep of 100 ms expired after a 200 ms pause")
        let before = loop.now()
        loop.run(until: .taskDone(sleeper.id))
        #expect(loop.state(sleeper.id)?.isFinished == true)
        // The sleep took its 100 ms of loop time, nearly all of it in this run.
        #expect(loop.now() - before >= 90_000_000)
    }

    @Test func switchingToVirtualAndBackKeepsTimeContinuousWhilePaused() throws {
        let loop = try EventLoop()
        loop.pausesClockBetweenRuns = true
        sleepWall(20_000_000)
        let real = loop.now()
        loop.clock = .virtual
        #expect(loop.now() == real)
        let sleeper = loop.spawn(name: "sleeper") { try await loop.sleep(for: .seconds(60)) }
        loop.run(until: .taskDone(sleeper.id))
        #expect(loop.now() >= real + 60_000_000_000)
        let skippedTo = loop.now()
        loop.clock = .real
        #expect(loop.now() == skippedTo, "the real clock goes on from the virtual one's reading")
        #expect(loop.clockSkippedNanos >= 59_000_000_000)
        #expect(loop.isClockPaused)
    }
}
