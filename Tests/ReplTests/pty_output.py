"""Drive corepl on a real pseudo-terminal: a client's flood of lines is held back.

Usage: pty_output.py PATH-TO-COREPL

An in-loop perf1 asking for fib(1) replies thousands of times a second; at the prompt
only a few of its lines a second show, one line sums up the rest after the run, and a
request's replies all show. `output limit off` shows every line again. Exits 0 when every
check holds; prints the screen and exits 1 at the first that does not. (The terminal and
its checks are pty_session.py's.)
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pty_session import Session, check, drive  # noqa: E402


def main():
    drive(run)


def run(corepl, home, sessions):
    s = Session(corepl, home)
    sessions.append(s)
    s.wait_for(r"\[paused #0\] >$")
    s.type("spawn server 0\r")
    s.wait_for(r"task 1 server 127\.0\.0\.1:\d+ .* → ready")
    s.type("spawn perf1 @1 --n 1 --name p1\r")
    s.wait_for(r"task 2 p1 → ready")
    s.type("spawn request @1 1 1 1 1 1 1 1 1 --name r\r")
    s.wait_for(r"task 3 r → ready")

    # A foreground run: a few of perf1's lines, every reply of the request, one summary.
    s.type("run 2s\r")
    s.wait_for(r"ran \d+ steps in")
    m = s.wait_for(r"… ([\d,]+) lines from task 2 \(perf1\) held back; 'show 2' has its figures "
                   r"\(each task shows at most 5 lines a second; 'output limit N' or 'output limit off' changes it\)")
    s.wait_for(r"\[paused #\d+\] >$")
    shown = s.count(r"task 2 perf1: \d")
    held = int(m.group(1).replace(",", ""))
    # A burst of 5, then 5 a second for the 2 s run (and what the command took besides).
    check(1 <= shown <= 20, "perf1 showed %d lines in a 2 s run, at most 5 a second" % shown, s)
    check(held > 10 * shown, "the summary counts the %d lines held back (%d shown)" % (held, shown), s)
    check(s.count(r"task 3 request: fib\(1\) = 1 in") == 8, "every reply of a request shows", s)
    s.type("expect task p1 latency.count > %d; echo figures-recorded\r" % (shown + held - 1))
    s.wait_for(r"\nfigures-recorded\n")
    check(True, "perf1's figures count every reply, shown or held back", s)

    # No limit: every line shows.
    s.type("output limit off\r")
    s.wait_for(r"task lines: every line shown")
    s.type("cancel p1; spawn perf1 @1 --n 1 --name p2 --duration 300ms; run until p2 done\r")
    p2 = s.wait_for(r"task (\d+) p2 → ready").group(1)
    s.wait_for(r"task %s done after" % p2)
    s.wait_for(r"\[paused #\d+\] >$")
    # Every line: as many shown as perf1 recorded latencies (a count, not a rate: a
    # loaded machine answers fewer requests in 300 ms).
    lines = s.count(r"task %s perf1: \d" % p2)
    errors = s.count(r"error:")
    s.type("expect task p2 latency.count == %d\r" % lines)
    s.type("echo counted-p2\r")
    s.wait_for(r"\ncounted-p2\n")
    check(lines >= 1 and s.count(r"error:") == errors,
          "with 'output limit off' every line shows (%d lines, as many as latencies recorded)" % lines, s)

    # A flood that stops during a background run is summed up with no command typed (the
    # prompt's timer), once its lines have been held for the summary period (5 s).
    s.type("output limit 5\r")
    s.wait_for(r"task lines: at most 5 lines a second")
    s.type("spawn perf1 @1 --n 1 --name p3 --duration 1s\r")
    p3 = s.wait_for(r"task (\d+) p3 → ready").group(1)
    s.type("run &\r")
    s.wait_for(r"running in the background")
    s.wait_for(r"… [\d,]+ lines from task %s \(perf1\) held back; 'show %s' has its figures" % (p3, p3), seconds=15)
    check(True, "a background flood that stopped is summed up without a command", s)
    s.type("pause\r")
    s.wait_for(r"paused at #\d+")

    s.type("\x04")
    s.wait_for(r"bye: ")
    os.waitpid(s.pid, 0)
    print("all checks passed")


if __name__ == "__main__":
    main()
