#!/usr/bin/env python3
"""A soak of corepl's fib server: two release servers on 127.0.0.1 — the default
configuration (`corepl serve 0`) and a process pool (`corepl serve 0 --pool process:2`) —
under mixed load for DURATION, every answer checked against the true fib value.

    benchmarks/run soak [DURATION]        (default 10m; 90s, 10m, 1h, or seconds)
    COREPL=path/to/corepl python3 benchmarks/soak.py [DURATION]

The load, on each server at once:
  - ping-pong clients, as the seed's perf2: send "1\\n", read the reply, again;
  - now and then fib(30) (and other n from 20 to 30) on a fresh connection;
  - hostile clients, one at a time, in the manner of benchmarks/hostile.py: a client that
    sends and never reads for a few seconds, a connection reset (SO_LINGER 0) while its
    fib is computed, a number with no newline (answered, as the seed's clients send it)
    and a late newline, the first digit of a number and a close, garbage (an `error:`
    line expected; for binary data, that line and a close);
and a kill -9 of one process-pool worker every few seconds (SOAK_KILL_EVERY, default 3 s).

Every SOAK_EVERY seconds (default 30) one line: elapsed, RSS and open fds of each server,
requests answered, wrong answers, errors (an `error:` reply to a valid request, and a
refused, reset, closed or timed-out connection, counted apart from wrong answers).
At the end a summary; exit status 1 if any answer was wrong or a server died (or did not
exit 0 on SIGTERM). Servers (and their workers) are killed at exit however the run ends.
"""
import atexit
import ctypes
import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import children, fd_count, fib, rss_kib  # noqa: E402

COREPL = os.environ.get("COREPL", "")
EVERY = float(os.environ.get("SOAK_EVERY", "30"))
KILL_EVERY = float(os.environ.get("SOAK_KILL_EVERY", "3"))
PINGERS = int(os.environ.get("SOAK_PINGERS", "2"))
TIMEOUT = 30  # seconds a client waits for a reply before counting a timeout

FIBS = {n: str(fib(n)) for n in range(0, 46)}

# ---------------------------------------------------------------------------------------
# Servers, and killing them whatever happens


SERVERS = []  # every Popen started, for the exit handler


def _die_with_parent():
    """In the child before exec: SIGKILL when this script dies, even by kill -9."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def start_server(*args):
    """Starts `corepl serve 0 ARGS…`; returns (process, port)."""
    p = subprocess.Popen([COREPL, "serve", "0", *args], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, preexec_fn=_die_with_parent)
    SERVERS.append(p)
    line = p.stdout.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        raise SystemExit(f"server did not start: {line!r}")
    p.lines = []
    threading.Thread(target=lambda: p.lines.extend(p.stdout), daemon=True).start()
    return p, int(m.group(1))


def kill_all_servers():
    for p in SERVERS:
        if p.poll() is None:
            workers = [int(c[0]) for c in children(p.pid)]
            for pid in [p.pid, *workers]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def stop_server(p):
    """SIGTERM, as a user's Ctrl-C; returns the exit status, or a string if it had to be killed."""
    if p.poll() is not None:
        return p.returncode
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "killed after 20 s"


def _on_signal(signum, _frame):
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------
# Counts: each thread writes its own, the reporter sums them


class Counts:
    FIELDS = ("answered", "pings", "fibs", "hostile_ok", "wrong", "error_reply",
              "refused", "reset", "closed", "timeout")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)
        self.max_ping = 0.0   # the longest ping-pong round trip since the last report
        self.max_fib30 = 0.0  # the longest fib(30) since the last report
        self.wrong_samples = []


class Server:
    def __init__(self, name, args):
        self.name = name
        self.args = args
        self.proc, self.port = start_server(*args)
        self.counts = []  # one Counts per thread
        self.samples = []  # (elapsed, rss KiB, fds)
        self.died = None

    def new_counts(self):
        c = Counts()
        self.counts.append(c)
        return c

    def total(self, field):
        return sum(getattr(c, field) for c in self.counts)

    def errors(self):
        return sum(self.total(f) for f in ("error_reply", "refused", "reset", "closed", "timeout"))

    def take_max(self, field):
        m = 0.0
        for c in self.counts:
            m = max(m, getattr(c, field))
            setattr(c, field, 0.0)
        return m


def count_oserror(c, e):
    if isinstance(e, ConnectionRefusedError):
        c.refused += 1
    elif isinstance(e, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        c.reset += 1
    elif isinstance(e, socket.timeout):
        c.timeout += 1
    else:
        c.reset += 1


def check(c, n, line, what):
    """Counts the reply `line` to a valid request for fib(n)."""
    if line == FIBS[n]:
        c.answered += 1
        return True
    if line.startswith("error: "):
        c.error_reply += 1
    elif line == "":
        c.closed += 1
    else:
        c.wrong += 1
        if len(c.wrong_samples) < 10:
            c.wrong_samples.append(f"{what}: fib({n}) answered {line!r}")
    return False


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)


# ---------------------------------------------------------------------------------------
# Load


def pinger(server, stop):
    """perf2: "1\\n", read, again, on one connection (a new one if it is lost)."""
    c = server.new_counts()
    while not stop.is_set():
        try:
            with connect(server.port) as s:
                f = s.makefile("rb")
                while not stop.is_set():
                    t = time.monotonic()
                    s.sendall(b"1\n")
                    line = f.readline().decode("utf-8", "replace").strip()
                    dt = time.monotonic() - t
                    if dt > c.max_ping:
                        c.max_ping = dt
                    c.pings += 1
                    if not check(c, 1, line, "ping"):
                        break
        except OSError as e:
            count_oserror(c, e)
            stop.wait(0.1)


def fibber(server, stop, rng):
    """fib(30), and another n from 20 to 30, now and then, each on a fresh connection."""
    c = server.new_counts()
    while not stop.wait(rng.uniform(0.2, 1.0)):
        for n in (30, rng.randint(20, 30)):
            try:
                t = time.monotonic()
                with connect(server.port) as s:
                    s.sendall(b"%d\n" % n)
                    line = s.makefile("rb").readline().decode("utf-8", "replace").strip()
                dt = time.monotonic() - t
                if n == 30 and dt > c.max_fib30:
                    c.max_fib30 = dt
                c.fibs += 1
                check(c, n, line, "fib")
            except OSError as e:
                count_oserror(c, e)


def hostile(server, stop, rng):
    """One hostile client after another, with a pause between."""
    c = server.new_counts()
    linger = struct.pack("ii", 1, 0)

    def never_reads():
        # Sends requests for a few seconds and never reads a reply, then closes.
        s = connect(server.port)
        s.setblocking(False)
        chunk = b"%d\n" % rng.choice((20, 25, 27)) * 2048
        until = time.monotonic() + rng.uniform(2, 5)
        while time.monotonic() < until and not stop.is_set():
            try:
                s.send(chunk)
            except BlockingIOError:
                pass
            time.sleep(0.05)
        s.close()
        c.hostile_ok += 1

    def reset():
        # A request, then RST while (probably) its fib is computed.
        for _ in range(rng.randint(1, 20)):
            s = connect(server.port)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            s.sendall(b"%d\n" % rng.randint(22, 30))
            time.sleep(rng.choice((0, 0, 0.001, 0.005)))
            s.close()
        c.hostile_ok += 1

    def half_number_then_close():
        # The first digit of a number, then a close (half the time a reset): the server
        # may take the digit as a request (the seed's clients send no newline) and find
        # nobody to answer.
        s = connect(server.port)
        s.sendall(b"%d" % rng.randint(1, 4))
        time.sleep(rng.uniform(0, 0.2))
        if rng.random() < 0.5:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        s.close()
        c.hostile_ok += 1

    def number_in_pieces():
        # As the seed's clients: a number with no newline, answered once no more bytes
        # come; then its newline late (a blank line, ignored), and another request on
        # the same connection, which must get its own answer.
        n, m = rng.randint(10, 30), rng.randint(10, 30)
        with connect(server.port) as s:
            f = s.makefile("rb")
            s.sendall(b"%d" % n)
            c.fibs += 1
            if not check(c, n, f.readline().decode("utf-8", "replace").strip(), "unterminated"):
                return
            time.sleep(rng.uniform(0.01, 0.2))
            s.sendall(b"\n")
            s.sendall(b"%d\n" % m)
            c.fibs += 1
            check(c, m, f.readline().decode("utf-8", "replace").strip(), "after unterminated")

    def garbage():
        # Text that is not a number (an error line, then the connection still serves), or
        # binary bytes (an error line and a close).
        with connect(server.port) as s:
            f = s.makefile("rb")
            if rng.random() < 0.5:
                bad = rng.choice((b"abc\n", b"-5\n", b"99999999999999999999\n", b"1 2\n",
                                  b"fib(30)\n", b"0x1e\n", b"46\n"))
                s.sendall(bad)
                line = f.readline().decode("utf-8", "replace").strip()
                if line.startswith("error: "):
                    c.hostile_ok += 1
                else:
                    c.wrong += 1
                    if len(c.wrong_samples) < 10:
                        c.wrong_samples.append(f"garbage {bad!r} answered {line!r}")
                    return
                s.sendall(b"25\n")  # the same connection goes on
                c.fibs += 1
                check(c, 25, f.readline().decode("utf-8", "replace").strip(), "after garbage")
            else:
                # Printable letters (never a newline), then bytes that are not text.
                junk = bytes(rng.choice(b"abcxyz ") for _ in range(rng.randint(0, 20)))
                junk += bytes(rng.choice((rng.randrange(0, 9), rng.randrange(14, 32), rng.randrange(127, 256)))
                              for _ in range(rng.randint(1, 300)))
                s.sendall(junk + b"\n")
                s.settimeout(5)
                try:
                    rest = f.read()  # an error line or nothing, then end of file
                except (ConnectionResetError, socket.timeout):
                    rest = b""
                text = rest.decode("utf-8", "replace")
                if all(l.startswith("error: ") for l in text.splitlines()):
                    c.hostile_ok += 1
                else:
                    c.wrong += 1
                    if len(c.wrong_samples) < 10:
                        c.wrong_samples.append(f"binary garbage answered {text[:80]!r}")

    kinds = [never_reads, reset, half_number_then_close, number_in_pieces, garbage, garbage]
    while not stop.wait(rng.uniform(0.1, 1.0)):
        try:
            rng.choice(kinds)()
        except OSError as e:
            count_oserror(c, e)


def killer(server, stop, kills):
    """kill -9 one process-pool worker every KILL_EVERY seconds."""
    while not stop.wait(KILL_EVERY):
        workers = [c for c in children(server.proc.pid)
                   if c[2] == "corepl-worker" and not c[1].startswith("Z")]
        if workers:
            try:
                os.kill(int(random.choice(workers)[0]), signal.SIGKILL)
                kills[0] += 1
            except OSError:
                pass


# ---------------------------------------------------------------------------------------


def parse_duration(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(s|m|h)?", text.strip())
    if not m:
        raise SystemExit(f"duration '{text}': give seconds, or e.g. 90s, 10m, 1h")
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def fmt_duration(s):
    return f"{int(s) // 60}m{int(s) % 60:02d}s"


def fd_kinds(pid):
    """'3 socket, 2 pipe, …': the open fds of `pid` by kind."""
    kinds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        kind = target.split(":")[0] if not target.startswith("anon_inode:") else target[len("anon_inode:"):]
        kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))


def probe(server):
    """(rss KiB, fds) of a live server, or None."""
    try:
        return rss_kib(server.proc.pid), fd_count(server.proc.pid)
    except OSError:
        return None


def main():
    if not COREPL:
        raise SystemExit("set COREPL to the corepl executable (benchmarks/run soak does)")
    duration = parse_duration(sys.argv[1] if len(sys.argv) > 1 else "10m")
    seed = int(os.environ.get("SOAK_SEED", str(random.randrange(1 << 31))))
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, _on_signal)
    atexit.register(kill_all_servers)

    servers = [Server("default", []), Server("process:2", ["--pool", "process:2"])]
    pool = servers[1]
    print(f"soak: {fmt_duration(duration)} on {COREPL}; seed {seed}; "
          + ", ".join(f"{s.name} on port {s.port} (pid {s.proc.pid})" for s in servers), flush=True)

    # Idle figures after one request each (the first request warms the pools up).
    for s in servers:
        with connect(s.port) as c:
            c.sendall(b"20\n")
            c.makefile().readline()
    time.sleep(0.5)
    idle0 = {s.name: probe(s) for s in servers}
    kinds0 = {s.name: fd_kinds(s.proc.pid) for s in servers}
    print("soak: idle at start: " + "; ".join(
        f"{n} RSS {v[0]} KiB, {v[1]} fds" for n, v in idle0.items()), flush=True)

    stop = threading.Event()
    kills = [0]
    threads = []
    rng_master = random.Random(seed)
    for s in servers:
        for _ in range(PINGERS):
            threads.append(threading.Thread(target=pinger, args=(s, stop), daemon=True))
        threads.append(threading.Thread(target=fibber, args=(s, stop, random.Random(rng_master.random())), daemon=True))
        threads.append(threading.Thread(target=hostile, args=(s, stop, random.Random(rng_master.random())), daemon=True))
    threads.append(threading.Thread(target=killer, args=(pool, stop, kills), daemon=True))

    problems = []
    t0 = time.monotonic()
    for t in threads:
        t.start()
    try:
        next_report = EVERY
        while True:
            elapsed = time.monotonic() - t0
            for s in servers:
                if s.died is None and s.proc.poll() is not None:
                    s.died = (elapsed, s.proc.returncode)
                    print(f"soak: {fmt_duration(elapsed)} the {s.name} server DIED "
                          f"(exit status {s.proc.returncode}); its last output: "
                          + " | ".join(l.strip() for l in s.proc.lines[-5:]), flush=True)
            if any(s.died for s in servers):
                problems.append("a server died")
                break
            if elapsed >= next_report or elapsed >= duration:
                parts = []
                for s in servers:
                    v = probe(s) or (0, 0)
                    s.samples.append((elapsed, v[0], v[1]))
                    parts.append(f"{s.name}: RSS {v[0]} KiB, {v[1]} fds, answered {s.total('answered')}, "
                                 f"wrong {s.total('wrong')}, errors {s.errors()}, "
                                 f"max ping {s.take_max('max_ping') * 1000:.0f} ms, "
                                 f"max fib(30) {s.take_max('max_fib30') * 1000:.0f} ms")
                print(f"{fmt_duration(elapsed)}  " + " | ".join(parts) + f" | workers killed {kills[0]}", flush=True)
                next_report += EVERY
            if elapsed >= duration:
                break
            time.sleep(min(0.5, max(0.05, duration - elapsed)))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=TIMEOUT + 5)
    stuck = [t.name for t in threads if t.is_alive()]

    # Idle figures at the end: the load has stopped; let the servers settle (handlers of
    # closed connections finish, pool work in flight completes).
    idle1, kinds1 = {}, {}
    for s in servers:
        if s.proc.poll() is not None:
            continue
        start_fds = idle0[s.name][1]
        settle = time.monotonic()
        while time.monotonic() - settle < 10 and (probe(s) or (0, 0))[1] > start_fds:
            time.sleep(0.2)
        idle1[s.name] = probe(s)
        kinds1[s.name] = fd_kinds(s.proc.pid)
    after = {}
    for s in servers:
        if s.proc.poll() is not None:
            continue
        try:
            with connect(s.port) as c:
                c.sendall(b"27\n")
                after[s.name] = c.makefile().readline().strip()
        except OSError as e:
            after[s.name] = f"{type(e).__name__}: {e}"
    zombies = [c for c in children(pool.proc.pid) if c[1].startswith("Z")] if pool.proc.poll() is None else []
    statuses = {s.name: stop_server(s.proc) for s in servers}

    elapsed = time.monotonic() - t0
    print(f"== summary after {fmt_duration(elapsed)} (seed {seed})")
    for s in servers:
        first = s.samples[0] if s.samples else None
        last = s.samples[-1] if s.samples else None
        if first and last:
            print(f"{s.name}: RSS first {first[1]} KiB ({fmt_duration(first[0])}), last {last[1]} KiB "
                  f"({fmt_duration(last[0])}); fds first {first[2]}, last {last[2]}")
        i0, i1 = idle0.get(s.name), idle1.get(s.name)
        if i0 and i1:
            print(f"{s.name}: idle before the load RSS {i0[0]} KiB, {i0[1]} fds ({kinds0[s.name]}); "
                  f"idle after it RSS {i1[0]} KiB, {i1[1]} fds ({kinds1[s.name]})")
        print(f"{s.name}: answered {s.total('answered')} (ping-pong {s.total('pings')}, other requests "
              f"{s.total('fibs')}), wrong {s.total('wrong')}, errors {s.errors()} (error replies "
              f"{s.total('error_reply')}, refused {s.total('refused')}, reset {s.total('reset')}, "
              f"closed without a reply {s.total('closed')}, timeouts {s.total('timeout')}); "
              f"hostile clients done {s.total('hostile_ok')}")
        print(f"{s.name}: fib(27) after the load: {after.get(s.name)}; exit status on SIGTERM: {statuses[s.name]}"
              + (f"; DIED at {fmt_duration(s.died[0])} with status {s.died[1]}" if s.died else ""))
        for w in [w for c in s.counts for w in c.wrong_samples][:10]:
            print(f"{s.name}: wrong: {w}")
        if after.get(s.name) != FIBS[27]:
            problems.append(f"the {s.name} server did not answer fib(27) after the load")
        if statuses[s.name] != 0 and not s.died:
            problems.append(f"the {s.name} server exited {statuses[s.name]} on SIGTERM")
    total = lambda f: sum(s.total(f) for s in servers)
    wrong = total("wrong")
    print(f"total: answered {total('answered')}, wrong {wrong}, errors {sum(s.errors() for s in servers)}; "
          f"process-pool workers killed {kills[0]}; zombies left {len(zombies)}")
    if wrong:
        problems.append(f"{wrong} wrong answers")
    if zombies:
        problems.append(f"{len(zombies)} zombie workers")
    if stuck:
        problems.append(f"{len(stuck)} client threads did not stop")
    print("PASS" if not problems else "FAIL: " + "; ".join(dict.fromkeys(problems)), flush=True)
    return 0 if not problems else 1


if __name__ == "__main__":
    code = 1
    try:
        code = main()
    except SystemExit as e:
        if isinstance(e.code, int) and e.code > 128:
            print(f"soak: stopped by signal {e.code - 128}; servers killed", file=sys.stderr, flush=True)
        raise
    finally:
        kill_all_servers()
    sys.exit(code)
