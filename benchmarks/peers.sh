#!/usr/bin/env bash
# benchmarks/run peers: corepl's fib server against a SwiftNIO server (benchmarks/nio-peer)
# and the seed's own Python server, side by side, with one load generator
# (benchmarks/load/loadgen.c), servers alternating within each repetition.
#
# fib(1) ping-pong with the seed's perf2 requests ("1", no newline); per run a 0.5 s warm-up
# on the same server, then a window of SECONDS. Every row: the median req/s of REPEAT runs,
# their spread (min-max), the largest latency of any run, the server's CPU time per request
# (all its threads and child processes, from /proc/PID/task/*/schedstat) and the ratio of
# the medians to the NIO peer's configuration it is compared with, and in brackets the
# median of the repetitions' own ratios (each run against the peer's run beside it):
#   corepl inline  vs  NIO inline (one event loop, fib on the loop)
#   corepl default vs  NIO pool   (one event loop, fib above 19 on NIOThreadPool(4)); the
#                      default is thread:4 with fib(n) for n below 20 on the loop
#   corepl process:4, seed python thread:4  vs  NIO pool
# "one core": server and load generator pinned to CPU 0 (taskset); "two cores": unpinned.
# Then: starvation (fib(1) req/s during a fib(36) / just before), fib(30) latency beside the
# bare compute time, and 10,000 idle connections (benchmarks/hostile.py idle-10k).
#
# Environment: REPEAT (3), SECONDS_PER_RUN (4), SMOKE=1 (one repetition of 1 s, fewer rows:
# under a minute); SERVERS, ONE_CORE, TWO_CORES (space-separated lists) and ROWS_ONLY=1 (no
# starvation, fib(30) or idle sections) for narrower runs. SERVERS may add c-epoll and
# c-uring: the hand-written C floor (benchmarks/c-floor; liburing-dev), compared with NIO.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
REPEAT=${REPEAT:-3}
WINDOW=${SECONDS_PER_RUN:-4}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
. "$here/lib.sh"

build_servers
(cd "$here/nio-peer" && swift build -c release >&2)
nio="$here/nio-peer/.build/release/nio-peer"
export LOADGEN_NO_NEWLINE=1

one_core=(1 100 1000)
two_cores=(10 100 1000)
servers=(corepl-inline nio-inline corepl-default nio-pool corepl-process seed-python)
# Narrower runs: SERVERS="corepl-inline nio-inline" ONE_CORE="1 100" TWO_CORES="" ROWS_ONLY=1
[ -n "${SERVERS:-}" ] && read -r -a servers <<< "$SERVERS"
[ -n "${ONE_CORE+x}" ] && read -r -a one_core <<< "$ONE_CORE"
[ -n "${TWO_CORES+x}" ] && read -r -a two_cores <<< "$TWO_CORES"
# The C floor (benchmarks/c-floor, needs liburing-dev): only when named in SERVERS.
if [[ " ${servers[*]} " == *" c-"* ]]; then
  build_floor
fi
if [ "${SMOKE:-}" = 1 ]; then
  REPEAT=1; WINDOW=1; one_core=(1 100); two_cores=(100); servers=(corepl-inline nio-inline corepl-default nio-pool)
fi

server_command() {  # NAME: the command line of that server, in $cmd
  case $1 in
    corepl-inline) cmd=("$corepl" serve 0 --pool inline) ;;
    corepl-default) cmd=("$corepl" serve 0) ;;
    corepl-process) cmd=("$corepl" serve 0 --pool process:4) ;;
    nio-inline) cmd=("$nio" --port 0 --loops 1) ;;
    c-epoll) cmd=("$tmp/floor" epoll) ;;
    c-uring) cmd=("$tmp/floor" uring) ;;
    nio-pool) cmd=("$nio" --port 0 --loops 1 --pool-above 19) ;;
    seed-python) cmd=(python3 "$here/python/seed_server.py" 0 thread 4) ;;
  esac
}
peer_of() {
  case $1 in
    corepl-inline|seed-python-inline|c-epoll|c-uring) echo nio-inline ;;
    corepl-default|corepl-process|seed-python) echo nio-pool ;;
    *) echo "" ;;
  esac
}

# CPU nanoseconds of a process, its threads and its children's.
cpu_ns() {
  local pids
  pids="$1 $(pgrep -P "$1" | tr '\n' ' ')"
  for p in $pids; do cat /proc/"$p"/task/*/schedstat 2>/dev/null; done | awk '{s += $1} END {printf "%d\n", s}'
}

# run_one NAME PIN C: one run; appends "rate max_us cpu_ns_per_req" to $tmp/NAME.PIN.C
run_one() {
  local name=$1 pin=$2 c=$3 pre=() out t0 t1 reqs
  server_command "$name"
  [ "$pin" = one ] && pre=(taskset -c 0)
  start_server "${pre[@]}" "${cmd[@]}"
  # The seed's server dies of the resets a warm-up's exit leaves (ConnectionResetError in
  # recv), and CPython has nothing to warm: no warm-up for it.
  local warm=("${pre[@]}" "$tmp/loadgen" "$PORT" "$c" 0.5 1)
  [ "$name" = seed-python ] && warm=(true)
  if ! "${warm[@]}" > /dev/null || {
    t0=$(cpu_ns "$PID")
    ! out=$("${pre[@]}" "$tmp/loadgen" "$PORT" "$c" "$WINDOW" 1)
  }; then
    echo "!!! $name, $pin core, C=$c: the load generator failed; server said: $(tail -3 "$tmp/server.out")"
    stop_server
    return
  fi
  t1=$(cpu_ns "$PID")
  stop_server
  reqs=$(echo "$out" | field reqs)
  echo "$(echo "$out" | field 'req/s') $(echo "$out" | field max_us) $(( (t1 - t0) / (reqs > 0 ? reqs : 1) ))" >> "$tmp/$name.$pin.$c"
}

col() { awk -v k="$1" '{print $k}' "$2"; }

row() {  # NAME PIN C: one line of the table
  local f="$tmp/$1.$2.$3" med lo hi worst cpu peer ratio=""
  med=$(col 1 "$f" | median); lo=$(col 1 "$f" | sort -n | head -1); hi=$(col 1 "$f" | sort -n | tail -1)
  worst=$(col 2 "$f" | sort -n | tail -1); cpu=$(col 3 "$f" | median)
  peer=$(peer_of "$1")
  if [ -n "$peer" ] && [ -f "$tmp/$peer.$2.$3" ]; then
    ratio=$(awk -v a="$med" -v b="$(col 1 "$tmp/$peer.$2.$3" | median)" 'BEGIN { printf "%.2f", a / b }')
    ratio="$ratio vs $peer"
    # Each repetition's run beside the peer's run of the same repetition (adjacent in
    # time): the median of those ratios drifts less with the neighbours' load.
    if [ "$(wc -l < "$f")" = "$(wc -l < "$tmp/$peer.$2.$3")" ]; then
      ratio="$ratio (paired $(paste <(col 1 "$f") <(col 1 "$tmp/$peer.$2.$3") | awk '{printf "%.4f\n", $1 / $2}' | median | awk '{printf "%.2f", $1}'))"
    fi
  fi
  printf '| %-9s | %5s | %-14s | %7.0f | %15s | %9.1f | %6.1f | %s |\n' \
    "$2 core$([ "$2" = two ] && echo s)" "$3" "$1" "$med" "$lo-$hi" "$(awk -v m="$worst" 'BEGIN {print m / 1000}')" \
    "$(awk -v c="$cpu" 'BEGIN {print c / 1000}')" "$ratio"
}

echo "# fib(1) ping-pong, seed-style requests; $REPEAT alternating runs of ${WINDOW} s per row; $(nproc) CPUs, $(uname -r)"
echo "| placement | C | server | req/s | spread | max ms | CPU us/req | ratio |"
echo "|---|---|---|---|---|---|---|---|"
for pin in one two; do
  if [ "$pin" = one ]; then cs=("${one_core[@]}"); else cs=("${two_cores[@]}"); fi
  for c in "${cs[@]+"${cs[@]}"}"; do
    for r in $(seq 1 "$REPEAT"); do
      # Each repetition starts one server further on, so no server always runs first.
      order=("${servers[@]:$(( (r - 1) % ${#servers[@]} ))}" "${servers[@]:0:$(( (r - 1) % ${#servers[@]} ))}")
      for s in "${order[@]}"; do
        # select() in the seed's server cannot take a thousand connections and more.
        if [ "$s" = seed-python ] && [ "$c" -ge 1000 ]; then continue; fi
        run_one "$s" "$pin" "$c"
      done
    done
    for s in "${servers[@]}"; do [ -f "$tmp/$s.$pin.$c" ] && row "$s" "$pin" "$c"; done
  done
done

[ "${SMOKE:-}" = 1 ] || [ "${ROWS_ONLY:-}" = 1 ] && exit 0

echo
# fib(36) lasts ~38 ms in Swift: its window holds ~1,000 requests and swings with thread
# placement; fib(42) (~1 s) measures the same thing steadily.
unset LOADGEN_NO_NEWLINE
for long in 36 42; do
  echo "# starvation: fib(1) req/s (C=1, two cores) while a fib($long) computes / in as long just before; medians of $REPEAT"
  for s in corepl-default nio-pool corepl-inline nio-inline corepl-process seed-python; do
    # The seed's Python takes minutes over fib(42).
    if [ "$s" = seed-python ] && [ "$long" -gt 36 ]; then continue; fi
    ratios=()
    for _ in $(seq 1 "$REPEAT"); do
      server_command "$s"
      start_server "${cmd[@]}"
      out=$("$tmp/loadgen" "$PORT" 1 5 1 "$long" 1.5)
      stop_server
      ratios+=("$(awk -v d="$(echo "$out" | field 'during_req/s')" -v b="$(echo "$out" | field 'before_req/s')" 'BEGIN { printf "%.3f", (b > 0 ? d / b : 0) }')")
    done
    echo "starvation fib($long) $s: $(printf '%s\n' "${ratios[@]}" | median) (runs: ${ratios[*]})"
  done
done

echo
bare=$(python3 - "$root/.build/release/corepl-worker" <<'PY'
import subprocess, sys, time
p = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
def t(n):
    s = time.perf_counter(); p.stdin.write(b"%d\n" % n); p.stdin.flush(); p.stdout.readline()
    return time.perf_counter() - s
t(30)
print("%.2f" % (min(t(30) for _ in range(9)) * 1000))
PY
)
echo "# fib(30) latency, C=1, two cores; bare compute in a worker process (pipe round trip included): $bare ms"
for s in corepl-default nio-pool corepl-inline nio-inline; do
  p50s=(); worst=0
  for _ in $(seq 1 "$REPEAT"); do
    server_command "$s"
    start_server "${cmd[@]}"
    out=$("$tmp/loadgen" "$PORT" 1 2 30)
    stop_server
    p50s+=("$(echo "$out" | field p50_us)")
    worst=$(awk -v a="$worst" -v b="$(echo "$out" | field max_us)" 'BEGIN { print (b > a ? b : a) }')
  done
  echo "fib(30) $s: p50 $(awk -v x="$(printf '%s\n' "${p50s[@]}" | median)" 'BEGIN {printf "%.2f", x / 1000}') ms, max $(awk -v x="$worst" 'BEGIN {printf "%.2f", x / 1000}') ms (bare $bare ms)"
done

echo
echo "# 10,000 idle connections plus fib(1) on one more (corepl default)"
COREPL="$corepl" LOADGEN="$tmp/loadgen" python3 "$here/hostile.py" idle-10k
