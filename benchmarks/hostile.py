#!/usr/bin/env python3
"""corepl's fib server in a hostile environment: one scenario per function, each printing
its figures as `name: value` lines and ending with `PASS` or `FAIL: why`.

    benchmarks/run hostile [SCENARIO...]
    scenarios: fds, slow-reader, reset, kill-storm, idle-10k (default: all)

Every client here talks to 127.0.0.1 only, and every loop is bounded in count and time.
"""
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

COREPL = os.environ.get("COREPL", "")
LOADGEN = os.environ.get("LOADGEN", "")


def start_server(*args, fd_limit=None):
    """Starts `corepl serve 0 ARGS…`; returns (process, port)."""
    cmd = [COREPL, "serve", "0", *args]
    if fd_limit:
        cmd = ["sh", "-c", f"ulimit -n {fd_limit} && exec \"$0\" \"$@\"", *cmd]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    if not m:
        raise SystemExit(f"server did not start: {line}")
    lines = []
    threading.Thread(target=lambda: lines.extend(p.stdout), daemon=True).start()
    p.lines = lines
    return p, int(m.group(1))


def stop_server(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        return "killed after 20 s"


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ask(port, n, timeout=30):
    """One request on a fresh connection; returns the reply line."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"%d\n" % n)
        return s.makefile().readline().strip()


def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def verdict(problems):
    print("PASS" if not problems else "FAIL: " + "; ".join(problems))
    return not problems


def scenario_fds():
    """ulimit -n 64 and 200 clients: no spin, no exit, serves again once fds free up."""
    p, port = start_server("--pool", "thread:2", fd_limit=64)
    clients = []
    for _ in range(200):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        clients.append(s)
    time.sleep(0.5)
    c0, t0 = cpu_seconds(p.pid), time.monotonic()
    time.sleep(2)
    cpu = (cpu_seconds(p.pid) - c0) / (time.monotonic() - t0)
    alive = p.poll() is None
    for s in clients:
        s.close()
    t1 = time.monotonic()
    reply = None
    while time.monotonic() - t1 < 10:
        try:
            reply = ask(port, 20, timeout=5)
            break
        except OSError:
            time.sleep(0.05)
    served_after = time.monotonic() - t1
    status = stop_server(p)
    backoff = [l.strip() for l in p.lines if l.startswith("accept:")]
    print(f"fds: server CPU while out of fds: {cpu * 100:.1f} %")
    print(f"fds: still running while out of fds: {alive}")
    print(f"fds: served again {served_after * 1000:.0f} ms after the clients left (reply {reply})")
    print(f"fds: server said: {' | '.join(backoff)}")
    problems = []
    if cpu > 0.3: problems.append(f"CPU {cpu * 100:.0f} % while out of fds")
    if not alive: problems.append("the server exited")
    if reply != "6765": problems.append(f"not served again (reply {reply!r})")
    if status != 0: problems.append(f"exit status {status}")
    return verdict(problems)


def scenario_slow_reader():
    """A client that sends requests and never reads: the loop goes on serving others and
    the server's memory stays bounded."""
    p, port = start_server("--pool", "thread:2")
    rss0 = rss_kib(p.pid)
    hog = socket.create_connection(("127.0.0.1", port))
    hog.setblocking(False)
    sent = 0
    chunk = b"30\n" * 4096
    deadline = time.monotonic() + 10
    rss_samples = []
    latencies = []
    while time.monotonic() < deadline:
        try:
            sent += hog.send(chunk)
        except BlockingIOError:
            pass
        t = time.monotonic()
        reply = ask(port, 20, timeout=10)
        latencies.append(time.monotonic() - t)
        if reply != "6765":
            latencies.append(float("inf"))
        rss_samples.append(rss_kib(p.pid))
        time.sleep(0.05)
    hog.close()
    status = stop_server(p)
    lat = sorted(latencies)
    print(f"slow-reader: request bytes the hog got into the server: {sent}")
    print(f"slow-reader: server RSS {rss0} KiB at start, max {max(rss_samples)} KiB, last {rss_samples[-1]} KiB")
    print(f"slow-reader: another client's fib(20) meanwhile: {len(lat)} requests, p50 {lat[len(lat) // 2] * 1000:.1f} ms, max {lat[-1] * 1000:.1f} ms")
    problems = []
    if lat[-1] > 5: problems.append(f"another client waited {lat[-1]:.1f} s")
    if max(rss_samples) - rss0 > 64 * 1024: problems.append("RSS grew by more than 64 MiB")
    if status != 0: problems.append(f"exit status {status}")
    return verdict(problems)


def scenario_reset():
    """1,000 clients that reset (SO_LINGER 0) while their fib is being computed: no fd
    leak, no crash, the pool keeps serving."""
    p, port = start_server("--pool", "thread:4")
    ask(port, 1)
    fds0 = fd_count(p.pid)
    linger = struct.pack("ii", 1, 0)
    t0 = time.monotonic()
    for i in range(1000):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        s.sendall(b"%d\n" % (25 + i % 6))
        if i % 3 == 0:
            time.sleep(0.001)
        s.close()  # RST
    elapsed = time.monotonic() - t0
    # Let the computations in flight finish and their handlers notice the reset.
    settle = time.monotonic()
    fds1 = fd_count(p.pid)
    while fds1 > fds0 and time.monotonic() - settle < 20:
        time.sleep(0.1)
        fds1 = fd_count(p.pid)
    reply = ask(port, 25)
    alive = p.poll() is None
    status = stop_server(p)
    print(f"reset: 1000 resets in {elapsed:.2f} s; server fds before {fds0}, after {fds1}")
    print(f"reset: fib(25) afterwards: {reply}")
    problems = []
    if fds1 > fds0: problems.append(f"{fds1 - fds0} fds leaked")
    if reply != str(fib(25)): problems.append(f"not served afterwards ({reply!r})")
    if not alive: problems.append("the server died")
    if status != 0: problems.append(f"exit status {status}")
    return verdict(problems)


def children(pid):
    """[pid, state, command] of each child process of `pid`, from /proc (ps is too slow
    to run every 50 ms)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            continue
        comm = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append([entry, fields[0], comm])
    return found


def scenario_kill_storm():
    """kill -9 of a process-pool worker every 50 ms for 10 s under load: every request
    gets its answer or an `error:` line, workers are replaced, no zombies."""
    p, port = start_server("--pool", "process:4")
    stop = threading.Event()
    counts = {"ok": 0, "error": 0, "wrong": 0, "lost": 0}
    lock = threading.Lock()

    def client(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            f = s.makefile()
            while not stop.is_set():
                s.sendall(b"%d\n" % n)
                line = f.readline().strip()
                with lock:
                    if line == str(fib(n)): counts["ok"] += 1
                    elif line.startswith("error: "): counts["error"] += 1
                    elif line == "": counts["lost"] += 1; return
                    else: counts["wrong"] += 1
            s.close()
        except OSError:
            with lock: counts["lost"] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in (20, 24, 27, 30)]
    for t in threads: t.start()
    kills = 0
    pids_seen = set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        workers = [c for c in children(p.pid) if c[2] == "corepl-worker" and not c[1].startswith("Z")]
        pids_seen.update(int(c[0]) for c in workers)
        if workers:
            os.kill(int(workers[kills % len(workers)][0]), signal.SIGKILL)
            kills += 1
        time.sleep(0.05)
    stop.set()
    for t in threads: t.join(timeout=30)
    time.sleep(0.5)
    after = children(p.pid)
    zombies = [c for c in after if c[1].startswith("Z")]
    reply = ask(port, 27)
    live_workers = [c for c in children(p.pid) if c[2] == "corepl-worker" and not c[1].startswith("Z")]
    status = stop_server(p)
    print(f"kill-storm: {kills} workers killed; {len(pids_seen)} distinct worker pids seen")
    print(f"kill-storm: replies ok {counts['ok']}, error {counts['error']}, wrong {counts['wrong']}, connections lost {counts['lost']}")
    print(f"kill-storm: zombies after the storm: {len(zombies)}; live workers after a request: {len(live_workers)}; fib(27) afterwards: {reply}")
    problems = []
    if counts["wrong"] or counts["lost"]: problems.append("a request got neither its answer nor an error line")
    if zombies: problems.append(f"{len(zombies)} zombies")
    if reply != str(fib(27)): problems.append(f"not served afterwards ({reply!r})")
    if counts["ok"] == 0: problems.append("nothing was served during the storm")
    if status != 0: problems.append(f"exit status {status}")
    return verdict(problems)


def scenario_idle_10k():
    """10,000 idle connections plus load on one more: all accepted, none refused; RSS per
    connection."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 10_000 + 200
    if hard < want:
        print(f"idle-10k: the hard fd limit is {hard}; need {want}")
        return verdict([f"hard fd limit {hard} < {want}"])
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    # The default configuration (thread:4, fib(n) below 20 on the loop), as `corepl serve`.
    p, port = start_server(fd_limit=want)
    # The loaded connection's rate with no idle ones, on the same server, first.
    alone = subprocess.run([LOADGEN, str(port), "1", "3", "1"], capture_output=True, text=True, timeout=60).stdout
    alone = dict(line.split(": ") for line in alone.strip().splitlines())
    rss0 = rss_kib(p.pid)
    idle = []
    refused = 0
    t0 = time.monotonic()
    for i in range(10_000):
        try:
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=10))
        except OSError:
            refused += 1
    connect_s = time.monotonic() - t0
    # Wait until the server has accepted them all (one fd each).
    base = fd_count(p.pid)
    settle = time.monotonic()
    while time.monotonic() - settle < 30:
        n = fd_count(p.pid)
        if n >= 10_000: break
        time.sleep(0.2)
    accepted_fds = fd_count(p.pid)
    # Then until it is done with them (each handler's first step, one accept per poll):
    # its CPU time stops growing. Measured earlier, the load below saw the tail of that.
    settle = time.monotonic()
    while time.monotonic() - settle < 30:
        c0 = cpu_seconds(p.pid)
        time.sleep(0.5)
        if cpu_seconds(p.pid) - c0 < 0.02: break
    rss1 = rss_kib(p.pid)
    # Load on one more connection, by the C load generator (a Python client's own pauses,
    # e.g. its garbage collector walking 10,000 sockets, would show as server latency).
    out = subprocess.run([LOADGEN, str(port), "1", "3", "1"], capture_output=True, text=True, timeout=60).stdout
    figures = dict(line.split(": ") for line in out.strip().splitlines())
    # The idle ones are still served.
    probe_ok = 0
    for c in idle[:: 1000]:
        c.sendall(b"10\n")
        if c.makefile().readline().strip() == "55": probe_ok += 1
    for c in idle: c.close()
    status = stop_server(p)
    print(f"idle-10k: 10000 connections in {connect_s:.1f} s, refused {refused}; server fds {accepted_fds}")
    print(f"idle-10k: server RSS {rss0} KiB idle, {rss1} KiB with 10000 connections: {(rss1 - rss0) * 1024 / 10_000:.0f} bytes per connection")
    print(f"idle-10k: fib(1) on one more connection: {figures.get('req/s')} req/s, p50 {figures.get('p50_us')} us, p99.9 {figures.get('p999_us')} us, max {figures.get('max_us')} us")
    ratio = float(figures.get("req/s", 0)) / max(1.0, float(alone.get("req/s", 0)))
    print(f"idle-10k: the same without the idle connections: {alone.get('req/s')} req/s, max {alone.get('max_us')} us; with / without: {ratio:.2f}")
    print(f"idle-10k: idle connections probed afterwards: {probe_ok}/10 answered")
    problems = []
    if refused: problems.append(f"{refused} refused")
    if accepted_fds < 10_000: problems.append(f"only {accepted_fds} fds in the server")
    if probe_ok != 10: problems.append("an idle connection was not served")
    if ratio < 1 / 1.2: problems.append(f"the loaded connection ran at {ratio:.2f} of its rate without the idle ones (target: within 1.2x)")
    if (rss1 - rss0) * 1024 / 10_000 > 5 * 1024: problems.append("over 5 KB of RSS per idle connection")
    if "max_us" not in figures: problems.append("the loaded connection failed")
    if status != 0: problems.append(f"exit status {status}")
    return verdict(problems)


SCENARIOS = {
    "fds": scenario_fds,
    "slow-reader": scenario_slow_reader,
    "reset": scenario_reset,
    "kill-storm": scenario_kill_storm,
    "idle-10k": scenario_idle_10k,
}

if __name__ == "__main__":
    if not COREPL or not LOADGEN:
        raise SystemExit("set COREPL and LOADGEN to the corepl and loadgen executables (benchmarks/run hostile does)")
    names = sys.argv[1:] or list(SCENARIOS)
    failed = []
    for name in names:
        if name not in SCENARIOS:
            raise SystemExit(f"unknown scenario '{name}'; choose from {', '.join(SCENARIOS)}")
        print(f"== {name}", flush=True)
        if not SCENARIOS[name]():
            failed.append(name)
        sys.stdout.flush()
    if failed:
        print(f"failed: {' '.join(failed)}")
        sys.exit(1)
