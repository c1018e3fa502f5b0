"""Type the tutorial's starvation contrasts at corepl's prompt, as a person would.

Usage: pty_typed_tutorial.py PATH-TO-COREPL

docs/TUTORIAL.md §2 (fib on the loop starves perf2), §4 (a pool and a yield cure it) and
§8 (the GIL starves it again), each in a fresh corepl on a real pseudo-terminal: every
command typed a second after the previous one's prompt came back, then `during` read off
the screen. The ratio of perf2's replies during the long request to the same time before
must come out as the examples' (back to back) do: < 0.02, >= 0.1, < 0.1. Exits 0 when
every check holds; prints the screen and exits 1 at the first that does not.
"""
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pty_session import Session, check, drive, fail  # noqa: E402

PROMPT = r"\[paused #\d+\] >"
PAUSE = 1.0

SECTIONS = [
    ("§2 inline fib(40) starves perf2", [
        "spawn server 0 --pool inline --name server",
        "spawn perf2 @server --thread --name perf2",
        "run 1s",
        "spawn request @server 40 --name long",
        "tasks",
        "queues",
        "run until long done",
        "during long",
    ], "long", "perf2", lambda r: r < 0.02, "< 0.02"),
    ("§4 a pool and a yield keep perf2 served", [
        "spawn server 0 --pool thread:4 --wait yield --name server",
        "spawn perf2 @server --thread --name perf2",
        "run 1s",
        "spawn request @server 40 --name long",
        "break on future fib(40)",
        "run until long done",
        "queues",
        "delete 1",
        "continue",
        "during long",
    ], "long", "perf2", lambda r: r >= 0.1, ">= 0.1"),
    ("§8 under the GIL perf2 starves again", [
        "spawn server 0 --pool thread:4 --gil --name gil",
        "spawn perf2 @gil --thread --name gil-perf2",
        "run 1s",
        "spawn request @gil 40 --name gil-long",
        "run until gil-long done",
        "run 500ms",
        "during gil-long",
    ], "gil-long", "gil-perf2", lambda r: r < 0.1, "< 0.1"),
]


def type_line(s, line):
    """Types `line` a second after the prompt came back, and waits for the next prompt."""
    s.read(PAUSE)
    prompts = s.count(PROMPT)
    s.type(line + "\r")
    end = time.time() + 60
    while s.count(PROMPT) <= prompts:
        if time.time() > end or not s.read(0.05):
            fail("no prompt came back after %r" % line, s)


def section(corepl, home, sessions, title, lines, long, pinger, holds, wanted):
    s = Session(corepl, home)
    sessions.append(s)
    s.wait_for(PROMPT + "$")
    for line in lines:
        type_line(s, line)
    check("fib(40) = 102334155" in s.screen.text(), "%s: fib(40) answered" % title, s)
    m = re.search(r"task \d+ \(%s\): (\d+) repl(?:y|ies) during, (\d+) in the" % re.escape(pinger), s.screen.text())
    if not m:
        fail("%s: no 'during %s' line for %s" % (title, long, pinger), s)
    during, before = int(m.group(1)), int(m.group(2))
    ratio = during / before if before else float("inf")
    check(before > 0 and holds(ratio), "%s: %d replies during, %d before, ratio %.4f %s" % (
        title, during, before, ratio, wanted), s)
    s.type("quit\r")
    _, status = os.waitpid(s.pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "%s: quit with status 0" % title, s)


def run(corepl, home, sessions):
    for args in SECTIONS:
        section(corepl, home, sessions, *args)
    print("all checks passed")


def main():
    drive(run)


if __name__ == "__main__":
    main()
