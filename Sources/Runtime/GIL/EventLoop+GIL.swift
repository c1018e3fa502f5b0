// The loop's side of the GIL switch (GIL.swift): while a pool asks for a GIL, the loop
// thread holds it while it runs steps, and releases it around its blocking calls — the
// poll, and every socket syscall, as CPython releases the GIL around I/O — and whenever a
// run or a step returns to its caller (the prompt). With no GIL every check is one load of
// an optional that is nil.

extension EventLoop {
    /// The GIL the loop takes part in, if a pool asked for one (`joinGIL`).
    public var gil: GIL? {
        assertOnLoopThread()
        return gilLock
    }

    /// Makes the loop take part in a GIL, made on first use: from the next step on, the
    /// loop thread holds it while it runs and releases it around poll and socket calls.
    /// Pools that compute "under the GIL" take the same lock. Each call is matched by a
    /// `leaveGIL()`; the GIL goes when the last user leaves.
    ///
    /// - Parameter switchInterval: sets the GIL's switch interval (for every user, as
    ///   `sys.setswitchinterval` does); nil leaves it.
    @discardableResult
    public func joinGIL(switchInterval: Duration? = nil) -> GIL {
        assertOnLoopThread()
        let lock = gilLock ?? GIL()
        if let switchInterval { lock.switchInterval = switchInterval }
        gilLock = lock
        gilActive = true
        gilUsers += 1
        return lock
    }

    /// Ends one `joinGIL`. After the last, the loop releases the GIL and runs without one.
    public func leaveGIL() {
        assertOnLoopThread()
        guard gilUsers > 0 else { return }
        gilUsers -= 1
        if gilUsers == 0 {
            releaseGIL()
            gilLock = nil
            gilActive = false
        }
    }

    /// At the start of every step: take the GIL if the loop does not hold it, or give it
    /// up for a moment if another thread asked for it.
    @inline(__always)
    func holdGILForStep() {
        guard let lock = gilLock else { return }
        let before = monotonicNanos()
        if loopHoldsGIL {
            lock.checkpoint()
        } else {
            lock.acquire(as: "loop")
            loopHoldsGIL = true
        }
        gilWaitInStep &+= monotonicNanos() &- before
    }

    /// Releases the GIL if the loop thread holds it (a run or step returning).
    @inline(__always)
    func releaseGIL() {
        guard loopHoldsGIL else { return }
        gilLock?.release()
        loopHoldsGIL = false
    }

    /// Runs a blocking call (a socket syscall) with the GIL released, as CPython does
    /// around I/O; without a GIL it just runs it. Loop thread.
    @inline(__always)
    public func allowingThreads<T>(_ body: () throws -> T) rethrows -> T {
        guard loopHoldsGIL, let lock = gilLock else { return try body() }
        // The call and the wait to take the lock back: not the task's own busy time (the
        // call itself is microseconds; the wait may be a switch interval or more).
        let before = monotonicNanos()
        defer { gilWaitInStep &+= monotonicNanos() &- before }
        return try lock.releasing(as: "loop", body)
    }

    /// `allowingThreads` for code that may run on any thread (blocking on a future).
    func allowingThreadsFromAnyThread<T>(_ body: () throws -> T) rethrows -> T {
        guard isOnLoopThread else { return try body() }
        return try allowingThreads(body)
    }
}
