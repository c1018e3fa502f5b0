# The seed's loop, reduced to its ready queue: a deque of generators, each `next()` one
# step. Two generators take turns; prints the median ns per step of 7 runs.
import time
from collections import deque


def task(n):
    for _ in range(n):
        yield "yield", None


def run(tasks):
    steps = 0
    while tasks:
        t = tasks.popleft()
        try:
            why, what = next(t)
            tasks.append(t)
        except StopIteration:
            pass
        steps += 1
    return steps


def once(n=1_000_000):
    tasks = deque([task(n), task(n)])
    start = time.perf_counter_ns()
    steps = run(tasks)
    return (time.perf_counter_ns() - start) / steps


run(deque([task(10_000), task(10_000)]))
results = sorted(once() for _ in range(7))
print(f"{results[len(results) // 2]:.1f}")
