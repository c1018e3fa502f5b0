#!/usr/bin/env bash
# benchmarks/run server: corepl's fib server (release build) under a C load generator, next
# to the seed's own Python server, alternating runs. One figure per line: `name: value unit`.
# Durations: SECONDS (default 3) per throughput run; REPEAT (default 3) runs, median kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
REPEAT=${REPEAT:-3}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

. "$here/lib.sh"
build_servers

# fib(n) that takes about a second here: time fib(34) in a worker and scale by phi.
long_n=$(python3 - "$root/.build/release/corepl-worker" <<'PY'
import math, subprocess, sys, time
p = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def t(n):
    s = time.perf_counter(); p.stdin.write(b"%d\n" % n); p.stdin.flush(); p.stdout.readline()
    return time.perf_counter() - s
t(30); d = min(t(34) for _ in range(3))
print(34 + round(math.log(1.0 / d) / math.log((1 + 5 ** 0.5) / 2)))
PY
)
echo "long request: fib($long_n)"

outliers=0
# throughput NAME PIN C N -- server command...: req/s and latency, median of REPEAT runs;
# the maximum latency is the largest of every run (an outlier in any run counts).
throughput() {
  local name=$1 pin=$2 c=$3 n=$4; shift 4
  local rates=() p50s=() p99s=() p999s=() maxes=() over=0
  for _ in $(seq 1 "$REPEAT"); do
    if [ "$pin" = pinned ]; then start_server taskset -c 0 "$@"; else start_server "$@"; fi
    if [ "$pin" = pinned ]; then out=$(taskset -c 0 "$tmp/loadgen" "$PORT" "$c" "$SECONDS_PER_RUN" "$n")
    else out=$("$tmp/loadgen" "$PORT" "$c" "$SECONDS_PER_RUN" "$n"); fi
    stop_server
    record_run
  done
  report "$name" "$n"
}

# record_run: keeps the figures of one loadgen output ($out).
record_run() {
  rates+=("$(echo "$out" | field 'req/s')"); p50s+=("$(echo "$out" | field p50_us)"); p99s+=("$(echo "$out" | field p99_us)")
  p999s+=("$(echo "$out" | field p999_us)"); maxes+=("$(echo "$out" | field max_us)")
  over=$((over + $(echo "$out" | field over_100ms)))
}

# report NAME N: one line of medians and the worst maximum; loud when fib(1) took > 100 ms.
report() {
  local name=$1 n=$2 worst
  worst=$(printf '%s\n' "${maxes[@]}" | sort -n | tail -1)
  echo "$name: $(printf '%s\n' "${rates[@]}" | median) req/s (p50 $(printf '%s\n' "${p50s[@]}" | median) us, p99 $(printf '%s\n' "${p99s[@]}" | median) us, p99.9 $(printf '%s\n' "${p999s[@]}" | median) us, max $worst us; runs: ${rates[*]})"
  if [ "$n" = 1 ] && [ "$over" -gt 0 ]; then
    outliers=$((outliers + 1))
    echo "!!! LATENCY OUTLIER in '$name': $over fib(1) replies took over 100 ms (worst $worst us). A latency outlier is a bug until explained."
  fi
}

# recovery NAME -- server command...: a burst of C=10 fib(1) for 2 s, then C=1 fib(1) on the
# same server. A lost wake-up shows here as every reply after the burst waiting out a poll.
recovery() {
  local name=$1; shift
  local rates=() p50s=() p99s=() p999s=() maxes=() over=0
  for _ in $(seq 1 "$REPEAT"); do
    start_server "$@"
    "$tmp/loadgen" "$PORT" 10 2 1 > /dev/null
    out=$("$tmp/loadgen" "$PORT" 1 "$SECONDS_PER_RUN" 1)
    stop_server
    record_run
  done
  report "$name" 1
}

# starvation NAME -- server command...: req/s during the long request / req/s just before
starvation() {
  local name=$1; shift
  local ratios=() during=() before=()
  for _ in $(seq 1 "$REPEAT"); do
    start_server "$@"
    out=$("$tmp/loadgen" "$PORT" 1 4 1 "$long_n" 1.5)
    stop_server
    d=$(echo "$out" | field 'during_req/s'); b=$(echo "$out" | field 'before_req/s')
    during+=("$d"); before+=("$b")
    ratios+=("$(awk -v d="$d" -v b="$b" 'BEGIN { printf "%.3f", (b > 0 ? d / b : 0) }')")
  done
  echo "starvation $name: $(printf '%s\n' "${ratios[@]}" | median) during/idle (during $(printf '%s\n' "${during[@]}" | median) req/s, idle $(printf '%s\n' "${before[@]}" | median) req/s; runs: ${ratios[*]})"
}

seed=(python3 "$here/python/seed_server.py" 0)

for c in 1 10 100; do
  throughput "corepl thread:4/yield fib(1) C=$c" free "$c" 1 "$corepl" serve 0
  throughput "seed python thread:4 fib(1) C=$c" free "$c" 1 "${seed[@]}" thread 4
done
throughput "corepl thread:4/yield fib(1) C=1 pinned to one core" pinned 1 1 "$corepl" serve 0
throughput "seed python thread:4 fib(1) C=1 pinned to one core" pinned 1 1 "${seed[@]}" thread 4
throughput "corepl thread:4/yield fib(30) C=1" free 1 30 "$corepl" serve 0
throughput "seed python thread:4 fib(30) C=1" free 1 30 "${seed[@]}" thread 4
recovery "corepl thread:4/yield fib(1) C=1 after a C=10 burst" "$corepl" serve 0
recovery "corepl process:4/yield fib(1) C=1 after a C=10 burst" "$corepl" serve 0 --pool process:4
for mode in "inline yield" "thread:4 yield" "thread:4 block" "process:4 yield" "process:4 block"; do
  set -- $mode
  starvation "corepl $1/$2" "$corepl" serve 0 --pool "$1" --wait "$2"
done
starvation "seed python thread:4" "${seed[@]}" thread 4
starvation "seed python process:4" "${seed[@]}" process 4
if [ "$outliers" -gt 0 ]; then
  echo "!!! $outliers row(s) had fib(1) replies over 100 ms: see the lines marked !!! above" >&2
  exit 1
fi
