// The seed's fib: naive recursion on purpose — it *is* the CPU-bound load.
import Runtime

/// fib(n) = 1 for n <= 2, else fib(n-1) + fib(n-2), by naive recursion.
///
/// Optimised even in debug builds, so the load a request puts on a worker is the same
/// whichever way corepl was built (fib(30) ≈ 2 ms, fib(36) ≈ 37 ms, fib(42) ≈ 0.7 s here).
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
