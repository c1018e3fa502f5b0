#!/usr/bin/env bash
# benchmarks/run seeing [--long [DURATION]]: what watching costs a server. corepl's fib
# server (release, --pool inline, pinned to CPU 0; the load generator on CPU 1) three ways,
# in alternating runs: `corepl serve` (nobody watches), the same server at a session's
# prompt with its defaults (the monitor, the history and the input recording on), and at
# the prompt recording a trace too (`trace record`). fib(1) at C=1 and C=100; ratios are
# medians of the runs' paired ratios to `serve`.
# --long: one default session with a server under C=10 load for DURATION (default 10m),
# its RSS and fd count every 30 s: watching must not grow.
# Durations: SECONDS (default 3) per run; REPEAT (default 5) triples.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
REPEAT=${REPEAT:-5}
tmp=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

. "$here/lib.sh"
build_servers

# start_session COMMANDS…: a corepl session reading its commands from a fifo held open
# (it stays at its prompt), each argument one command; sets PID and PORT like start_server.
start_session() {
  rm -f "$tmp/in"; mkfifo "$tmp/in"
  taskset -c 0 "$corepl" < "$tmp/in" > "$tmp/server.out" 2>&1 &
  PID=$!
  exec 3> "$tmp/in"
  printf '%s\n' "$@" >&3
  for _ in $(seq 1 100); do
    if grep -q "server 127.0.0.1:" "$tmp/server.out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  PORT=$(grep -o 'server 127.0.0.1:[0-9]*' "$tmp/server.out" | head -1 | grep -o '[0-9]*$')
  [ -n "$PORT" ] || { echo "session did not start a server: $(cat "$tmp/server.out")" >&2; exit 1; }
  sleep 0.2  # the free run begins after the spawn's line
}
# (A session gets SIGTERM, and SIGKILL if it has not ended within 5 s: corepl before
# 3d2f61f spun for ever on its standard input once a signal had interrupted its run.)
stop_session() {
  exec 3>&-
  kill -TERM "$PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
}

load() { taskset -c 1 "$tmp/loadgen" "$PORT" "$1" "$SECONDS_PER_RUN" 1 | field 'req/s'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b / a }'; }

if [ "${1:-}" = "--long" ]; then
  duration=${2:-10m}
  secs=$(python3 -c "import sys; s=sys.argv[1]; print(int(float(s[:-1]) * {'s': 1, 'm': 60, 'h': 3600}[s[-1]]) if s[-1] in 'smh' else int(s))" "$duration")
  start_session "spawn server 0 --pool inline" "run"
  SECONDS_PER_RUN=$secs
  taskset -c 1 "$tmp/loadgen" "$PORT" 10 "$secs" 1 > "$tmp/long.out" &
  loadpid=$!
  for t in $(seq 0 30 "$secs"); do
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$PID/status")
    fds=$(ls "/proc/$PID/fd" | wc -l)
    echo "session at ${t} s: RSS ${rss} kB, ${fds} fds"
    [ "$t" -lt "$secs" ] && sleep 30
  done
  wait "$loadpid" || true
  echo "session over ${duration} at C=10: $(field 'req/s' < "$tmp/long.out") req/s, max $(field max_us < "$tmp/long.out") us"
  stop_session
  exit 0
fi

for c in 1 100; do
  plain=() prompt=() traced=() promptRatio=() traceRatio=()
  for _ in $(seq 1 "$REPEAT"); do
    start_server taskset -c 0 "$corepl" serve 0 --pool inline
    a=$(load "$c"); stop_server
    start_session "spawn server 0 --pool inline" "run"
    b=$(load "$c"); stop_session
    start_session "trace record" "spawn server 0 --pool inline" "run"
    t=$(load "$c"); stop_session
    plain+=("$a"); prompt+=("$b"); traced+=("$t")
    promptRatio+=("$(ratio "$a" "$b")"); traceRatio+=("$(ratio "$a" "$t")")
  done
  echo "corepl serve fib(1) C=$c: $(printf '%s\n' "${plain[@]}" | median) req/s (runs: ${plain[*]})"
  echo "at the prompt (monitor, history, input recording) fib(1) C=$c: $(printf '%s\n' "${prompt[@]}" | median) req/s (runs: ${prompt[*]})"
  echo "at the prompt recording a trace fib(1) C=$c: $(printf '%s\n' "${traced[@]}" | median) req/s (runs: ${traced[*]})"
  echo "prompt / serve C=$c, median of pairs: $(printf '%s\n' "${promptRatio[@]}" | median) x"
  echo "prompt with trace record / serve C=$c, median of pairs: $(printf '%s\n' "${traceRatio[@]}" | median) x"
done
