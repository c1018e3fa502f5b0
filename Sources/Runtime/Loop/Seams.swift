// The places where another module plugs into the loop without the loop knowing it
// (docs/ARCHITECTURE.md): a socket backend under each `AsyncSocket`, a wake source beside
// the poller, and one driver. The simulated network is a wake source and a socket backend;
// time travel (the TimeTravel module: the modelled and recorded clocks, the input recording
// and its replay, the history, the non-FIFO policies) is the driver, and chooses each new
// socket's backend (simulated, replaying, recording). With nothing plugged in the loop is
// the seed's, on the kernel's sockets (IO/KernelSockets.swift): each seam costs a step one
// test of a flag it owns (`driverClock`, `driverInputs`, `driverFutures`, `driverHistory`,
// `driverPicks`; `wakeSource != nil`), and the driver sets its flags when its state changes.

/// What one attempt at `accept` on a woken listener found.
@usableFromInline
package enum AcceptAttempt {
    /// A connection (fd, its local end, its peer).
    case connection(fd: Int32, local: SocketAddress?, peer: SocketAddress?)
    /// No connection: the errno (EAGAIN, EINTR, ECONNABORTED and EPROTO mean wait again).
    case failed(errno: Int32)
}

/// How a socket's system calls are carried out. One instance serves every socket made
/// with it; each call makes one attempt and does not wait.
@usableFromInline
package protocol SocketBackend: AnyObject, Sendable {
    /// Opens a listening socket bound to `address`.
    func listen(_ address: SocketAddress, backlog: Int32, loop: EventLoop) throws(SocketError) -> (fd: Int32, bound: SocketAddress)
    /// One accept on listener `fd`.
    func accept(_ fd: Int32, loop: EventLoop) throws(SocketError) -> AcceptAttempt
    /// Starts connecting to `address`: the new fd, the errno of the attempt (0: done,
    /// EINPROGRESS or EINTR: wait until writable, then ask `connectResult`), and the local
    /// end where it is known at once.
    func connect(to address: SocketAddress, loop: EventLoop) throws(SocketError) -> (fd: Int32, errno: Int32, local: SocketAddress?)
    /// The outcome of a connection in progress once its socket is writable (0: connected).
    func connectResult(_ fd: Int32, loop: EventLoop) throws(SocketError) -> Int32
    /// A connection is established (sets TCP_NODELAY on kernel sockets).
    func connected(_ fd: Int32)
    /// Receives up to `max` bytes from `socket`: nil if that would block, empty at end of
    /// file. Marks the socket not ready when it read less than `max`, where readiness is
    /// the poller's.
    func recv(_ socket: AsyncSocket, max: Int) throws(SocketError) -> [UInt8]?
    /// Sends what it can of `bytes`: the count, nil if that would block.
    func send(_ socket: AsyncSocket, _ bytes: UnsafeRawBufferPointer) throws(SocketError) -> Int?
    /// Shuts down the sending side.
    func shutdownWrite(_ fd: Int32, loop: EventLoop)
    /// Closes `fd` from a thread other than the loop's (a socket dropped there), if it is
    /// an fd of this process.
    func closeOffLoop(_ fd: Int32)
    /// Whether its sockets live on a network a driver simulates (not the kernel's).
    var onSimulatedNetwork: Bool { get }
}

/// A source of readiness beside the poller, with fds of its own that the poller never
/// sees (the simulated network's: numbers no kernel hands out).
@usableFromInline
package protocol WakeSource: AnyObject {
    /// Whether `fd` is one of this source's.
    func owns(_ fd: Int32) -> Bool
    /// Whether a call on `fd` (one of this source's) in that direction would not block.
    func isReady(_ fd: Int32, write: Bool) -> Bool
    /// When the next thing on its way arrives, on the loop's clock (nil: nothing is).
    var nextArrival: UInt64? { get }
    /// At a poll step: takes in what has arrived by now and wakes the loop's tasks waiting
    /// on its fds that are ready.
    func wakeReady(_ loop: EventLoop)
    /// Whether it has a task of the loop's to wake, or something on its way.
    func hasWork(_ loop: EventLoop) -> Bool
    /// Closes one of its fds (the loop has woken whoever waited on it).
    func close(_ fd: Int32, loop: EventLoop)
}

/// What drives the loop in place of the real world: one object, one slot
/// (`EventLoop.driver`). Each group of calls is made only while the loop's flag for it is
/// set, so a driver answers only what it took over.
@usableFromInline
package protocol LoopDriver: AnyObject {
    // MARK: The clock (while `driverClock`)

    /// Now on the loop's clock.
    func now(_ loop: EventLoop) -> UInt64
    /// When a task step that began at `start` ends (the clock may advance by it).
    func stepEnd(_ loop: EventLoop, start: UInt64) -> UInt64
    /// The reading a clock being paused stops at.
    func pauseReading(_ loop: EventLoop) -> UInt64
    /// Whether the clock is a model, not the real one (time travel's): it stands still
    /// for other threads (`sharedClock`) between steps, and real durations mean nothing on it.
    var clockIsModelled: Bool { get }
    /// An idle poll step's poll, if the driver takes it (nil: the poller's), waiting at
    /// most `horizon`.
    func idlePoll(_ loop: EventLoop, horizon: UInt64, signals: inout Int) -> (failure: String?, waited: UInt64)?
    /// How long a free run's idle poll may wait from `clock` (nil: the run's own timeout,
    /// cut at `deadline`).
    func idleHorizon(_ loop: EventLoop, from clock: UInt64, deadline: UInt64?) -> UInt64?

    // MARK: Sockets (whenever a driver is plugged in)

    /// The backend of a socket made now (`simulatable`: a listener or a connection).
    func socketBackend(_ loop: EventLoop, simulatable: Bool) -> any SocketBackend
    /// A connected pair of Unix stream sockets.
    func socketPair(_ loop: EventLoop) throws(SystemCallError) -> (Int32, Int32)

    // MARK: Outside inputs (while `driverInputs`)

    /// The poll: the poller's, or answered without it.
    func poll(_ loop: EventLoop, timeoutNanos: UInt64?, into events: inout [PollEvent]) throws(SystemCallError)
    /// A poll failed with `failure`.
    func pollFailed(_ loop: EventLoop, _ failure: String)
    /// The fd the wake-up channel has in the poll's events (-1: none).
    func polledWakeFD(_ loop: EventLoop) -> Int32
    /// Whether the fds of sockets are the kernel's (false: numbers from elsewhere, never
    /// registered with the poller nor closed).
    func usesKernelFDs(_ loop: EventLoop) -> Bool
    /// Takes the drain of the inbox over, if it does (then the loop takes nothing).
    func drainsInbox(_ loop: EventLoop, afterWake: Bool) -> Bool
    /// What the loop took from its inbox (`afterWake`: at the wake-up channel's report).
    func took(_ loop: EventLoop, _ items: [EventLoop.InboxItem], afterWake: Bool)
    /// Whether outside work's outcome comes from the driver (a replay), not the work.
    func answersOutsideWork(_ loop: EventLoop) -> Bool

    // MARK: Futures (while `driverFutures`)

    /// A future was made: its completion is due at `due` on the loop's clock (nil: now,
    /// read only if the driver needs it — a reading may be an input).
    func futureMade(_ loop: EventLoop, _ future: AnyLoopFuture, due: UInt64?, outside: Bool)
    /// Whether the driver holds back `future`'s completion (it delivers it itself later).
    func holds(_ loop: EventLoop, _ future: AnyLoopFuture) -> Bool
    /// `future`'s completion is being delivered.
    func delivering(_ loop: EventLoop, _ future: AnyLoopFuture)

    // MARK: History (while `driverHistory`)

    /// Before a step pops anything.
    func beforeStep(_ loop: EventLoop)
    /// After a step: the entry it ran (nil: it polled), and the loop's clock at its end
    /// (the reading the step itself took: a driver need not read the clock again).
    func afterStep(_ loop: EventLoop, popped: EventLoop.ReadyEntry?, at end: UInt64)
    /// A task's row changed outside its own step (a figure or fact set for it).
    func touched(_ loop: EventLoop, _ record: TaskRecord)
    /// A task got time stamps outside its own step (a thread will add to them).
    func stamped(_ loop: EventLoop, _ record: TaskRecord)
    /// A task's figures are about to be cleared (`leaving`: the task leaves the table).
    func archiving(_ loop: EventLoop, _ record: TaskRecord, leaving: Bool)

    // MARK: Scheduling (while `driverPicks`)

    /// Takes the entry a step runs out of the ready queue (nil: it is empty).
    func pick(_ loop: EventLoop) -> EventLoop.ReadyEntry?
}

extension EventLoop {
    /// The backend for a socket made now: the driver's choice, else the kernel's.
    package func socketBackend(simulatable: Bool) -> any SocketBackend {
        driver?.socketBackend(self, simulatable: simulatable) ?? KernelSockets.shared
    }

    /// A connected pair of Unix stream sockets (the driver's, else the kernel's).
    package func socketPair() throws(SystemCallError) -> (Int32, Int32) {
        if let driver { return try driver.socketPair(self) }
        return try KernelSockets.shared.pair()
    }

    /// Whether `fd` belongs to the wake source (not the kernel).
    @inline(__always)
    func isSourceFD(_ fd: Int32) -> Bool {
        guard let wakeSource else { return false }
        return wakeSource.owns(fd)
    }

    /// Whether sockets' fds are the kernel's (not a replay's numbers).
    @inline(__always)
    var kernelFDs: Bool { !driverInputs || driver.unsafelyUnwrapped.usesKernelFDs(self) }
}
