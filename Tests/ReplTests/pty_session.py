"""Drive corepl on a real pseudo-terminal and assert on what the terminal shows.

Usage: pty_session.py PATH-TO-COREPL

Types a command and checks its output; recalls it with the up arrow; completes a command
name with Tab; starts perf2 + run and interrupts it with Ctrl-C, after which `tasks` still
answers; sees background output above a half-typed line that survives intact; quits with
Ctrl-D leaving nothing listening. Exits 0 when every check holds; prints the screen and
exits 1 at the first that does not.
"""
import os
import pty
import re
import select
import shutil
import signal
import socket
import sys
import tempfile
import time

COLUMNS, ROWS = 120, 40


class Screen:
    """Just enough of a VT100 for what libedit sends under TERM=xterm."""

    def __init__(self):
        self.lines = [""]
        self.row = 0
        self.col = 0

    def _line(self):
        while len(self.lines) <= self.row:
            self.lines.append("")
        return self.lines[self.row]

    def _put(self, text):
        line = self._line().ljust(self.col)
        self.lines[self.row] = line[: self.col] + text + line[self.col + len(text):]
        self.col += len(text)

    def feed(self, data):
        text = data.decode("utf-8", "replace")
        i = 0
        while i < len(text):
            c = text[i]
            if c == "\x1b" and i + 1 < len(text) and text[i + 1] == "[":
                m = re.match(r"\x1b\[([0-9;]*)([A-Za-z@])", text[i:])
                if not m:
                    i += 1
                    continue
                args, op = m.group(1), m.group(2)
                n = int(args.split(";")[0]) if args and args.split(";")[0] else 1
                line = self._line()
                if op == "K":
                    self.lines[self.row] = line[: self.col]
                elif op == "G":
                    self.col = n - 1
                elif op == "C":
                    self.col += n
                elif op == "D":
                    self.col = max(0, self.col - n)
                elif op == "A":
                    self.row = max(0, self.row - n)
                elif op == "B":
                    self.row += n
                elif op == "@":
                    line = line.ljust(self.col)
                    self.lines[self.row] = line[: self.col] + " " * n + line[self.col:]
                elif op == "P":
                    self.lines[self.row] = line[: self.col] + line[self.col + n:]
                elif op == "J":
                    self.lines[self.row] = line[: self.col]
                    del self.lines[self.row + 1:]
                elif op == "H":
                    parts = args.split(";") if args else ["1", "1"]
                    self.row, self.col = int(parts[0] or 1) - 1, int((parts + ["1"])[1] or 1) - 1
                i += len(m.group(0))
                continue
            if c == "\r":
                self.col = 0
            elif c == "\n":
                self.row += 1
                self._line()
            elif c == "\b":
                self.col = max(0, self.col - 1)
            elif c == "\x07":
                pass
            elif c >= " ":
                self._put(c)
            i += 1

    def text(self):
        return "\n".join(l.rstrip() for l in self.lines)

    def last_line(self):
        lines = [l.rstrip() for l in self.lines if l.strip()]
        return lines[-1] if lines else ""


class Session:
    def __init__(self, corepl, home):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ.update(TERM="xterm", HOME=home, COLUMNS=str(COLUMNS), LINES=str(ROWS))
            os.execv(corepl, [corepl])
        self.screen = Screen()

    def read(self, seconds=0.2):
        end = time.time() + seconds
        while time.time() < end:
            r, _, _ = select.select([self.fd], [], [], 0.02)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    return False
                if not data:
                    return False
                self.screen.feed(data)
        return True

    def type(self, keys):
        os.write(self.fd, keys.encode() if isinstance(keys, str) else keys)

    def wait_for(self, pattern, seconds=20):
        """Reads until `pattern` (a regex) is on the screen."""
        end = time.time() + seconds
        while time.time() < end:
            if re.search(pattern, self.screen.text()):
                return re.search(pattern, self.screen.text())
            if not self.read(0.05):
                break
        if re.search(pattern, self.screen.text()):
            return re.search(pattern, self.screen.text())
        fail("never saw %r" % pattern, self)

    def count(self, pattern):
        return len(re.findall(pattern, self.screen.text()))


def fail(message, session):
    print("FAILED: " + message)
    print("---- screen ----")
    print(session.screen.text())
    print("----------------")
    sys.exit(1)


def check(condition, message, session):
    if not condition:
        fail(message, session)
    print("ok: " + message)


def drive(run):
    """Calls run(corepl, home, sessions) with corepl's path from the command line and a
    home directory (its history file) of this run's own; every session it appended is
    killed if still running, and the home removed, however the run ends."""
    corepl = sys.argv[1]
    home = tempfile.mkdtemp(prefix="corepl-pty-")
    sessions = []
    try:
        run(corepl, home, sessions)
    finally:
        for s in sessions:
            try:
                # Still running (a check failed before it quit)? Reaped already raises.
                if os.waitpid(s.pid, os.WNOHANG) == (0, 0):
                    os.kill(s.pid, signal.SIGKILL)
                    os.waitpid(s.pid, 0)
            except ChildProcessError:
                pass
        shutil.rmtree(home)


def main():
    drive(run)


def run(corepl, home, session):
    s = Session(corepl, home)
    session.append(s)
    s.wait_for(r"\[paused #0\] >$")

    # A command and its output.
    s.type("spawn server 0\r")
    m = s.wait_for(r"task 1 server 127\.0\.0\.1:(\d+) \(pool thread:4, inline below 20, wait yield\) → ready")
    port = int(m.group(1))
    s.wait_for(r"\[paused #0\] >$")
    check(True, "a typed command shows its output", s)

    # Recall it with the up arrow.
    s.type("\x1b[A")
    s.read(0.3)
    check(s.screen.last_line().endswith("> spawn server 0"), "the up arrow recalls the last command", s)
    s.type("\x15")  # Ctrl-U: clear the line
    s.read(0.2)

    # Complete a command name with Tab.
    s.type("queu\t")
    s.read(0.3)
    check(s.screen.last_line().endswith("> queues"), "Tab completes 'queu' to 'queues'", s)
    s.type("\r")
    s.wait_for(r"poller\s+epoll")
    check(True, "the completed command runs", s)

    # perf2 + run, interrupted with Ctrl-C; tasks still answers.
    s.type("spawn perf2 @1\r")
    s.wait_for(r"task 2 perf2 127\.0\.0\.1:%d → ready" % port)
    s.type("run\r")
    s.wait_for(r"task 2 perf2: \d+ reqs/sec")
    s.type("\x03")
    s.wait_for(r"interrupted after \d+ steps")
    s.wait_for(r"\[paused #\d+\] >$")
    check(True, "Ctrl-C stops a foreground run and returns to the prompt", s)
    s.type("tasks\r")
    # Interrupted between two steps, perf2 is either waiting on its socket or
    # already woken into the ready queue; either way it is alive, not cancelled.
    s.wait_for(r"2\s+perf2 127\.0\.0\.1:%d\s+(waiting|ready)\s" % port)
    check(True, "after Ctrl-C, tasks still answers (perf2 is alive: waiting or ready)", s)

    # Background output above a half-typed line.
    s.type("run &\r")
    s.wait_for(r"running in the background")
    s.type("echo half typé")
    before = s.count(r"reqs/sec")
    s.wait_for(r"(reqs/sec[\s\S]*){%d}" % (before + 2), seconds=10)
    s.read(0.2)
    check(re.search(r"\[running #\d+\] > echo half typé$", s.screen.last_line()) is not None,
          "background lines print above the prompt; the half-typed line survives intact", s)
    check("echo half" not in "\n".join(s.screen.text().splitlines()[:-1]).split("running in the background")[-1],
          "the half-typed line is never mixed into the output", s)
    s.type("\r")
    s.wait_for(r"\nhalf typé\n")
    s.type("pause\r")
    s.wait_for(r"paused at #\d+")

    # Ctrl-D on an empty line quits; nothing is left listening.
    s.wait_for(r"\[paused #\d+\] >$")
    s.type("\x04")
    s.wait_for(r"bye: cancelled \d+ tasks?, stopped 1 pool\b")
    _, status = os.waitpid(s.pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "Ctrl-D quits with status 0", s)
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        check(False, "nothing listens on %d after quitting" % port, s)
    except ConnectionRefusedError:
        check(True, "nothing listens on %d after quitting" % port, s)

    # libedit writes history vis(3)-encoded: a space is \\040.
    history = open(os.path.join(home, ".corepl_history")).read().replace("\\040", " ")
    check("spawn perf2 @1" in history, "history is saved in ~/.corepl_history", s)
    print("all checks passed")


if __name__ == "__main__":
    main()
