// The seed's fib: naive recursion on purpose — it *is* the CPU-bound load.
import Runtime

/// fib(n) = 1 for n <= 2, else fib(n-1) + fib(n-2), by naive recursion.
///
/// In a release build fib(30) ≈ 2 ms, fib(36) ≈ 37 ms, fib(42) ≈ 0.7 s here. A debug build
/// computes it about three times slower: `@_optimize(speed)` does not optimise a function
/// compiled with -Onone (fib(36) took 173 ms in a debug corepl, and this function alone
/// 172 ms built with -Onone, 58 ms with -O, on one loaded 2-vCPU machine).
@_optimize(speed)
public func fib(_ n: Int) -> Int {
    n <= 2 ? 1 : fib(n - 1) + fib(n - 2)
}

/// The largest n whose fib fits in an Int (fib(92) = 7540113804746346429).
public let fibLargestN = 92

/// fib(n) as a thread "under the GIL" computes it: every call above n = 18 (some 10 µs of
/// work apart) checks whether another thread asked for the lock, as CPython's eval loop
/// does, and hands it over if so. The caller holds `gil`.
@_optimize(speed)
public func fib(_ n: Int, checking gil: GIL) -> Int {
    if n <= 18 { return fib(n) }
    gil.checkpoint()
    return fib(n - 1, checking: gil) + fib(n - 2, checking: gil)
}

/// fib(n) as a pool thread computes it: every call above n = 18 (some 10 µs of work apart)
/// passes the loop's pause gate, so the computation stands still while the loop is paused
/// at a prompt (and the GIL's checkpoint too, under a GIL).
@_optimize(speed)
public func fib(_ n: Int, pausingAt gate: PauseGate, checking gil: GIL? = nil) -> Int {
    if n <= 18 { return fib(n) }
    gate.checkpoint()
    gil?.checkpoint()
    return fib(n - 1, pausingAt: gate, checking: gil) + fib(n - 2, pausingAt: gate, checking: gil)
}
