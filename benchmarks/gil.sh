#!/usr/bin/env bash
# benchmarks/run gil: the seed's starvation experiment on a thread pool, with and without
# the GIL switch, measured the way the seed measures it: fib(1) ping-pong (sent as "1",
# with no newline, as the seed's perf2 does) on one connection, a fib(40) on another; the
# figure is req/s while fib(40) is in flight over req/s in the same time just before it.
# REPEAT (default 3) runs each, alternating, median kept. The seed's own Python server
# (CPython, a real GIL) runs alongside for reference.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
REPEAT=${REPEAT:-3}
LONG_N=${LONG_N:-40}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

. "$here/lib.sh"
build_servers

declare -A ratios during before
names=("corepl thread:4" "corepl thread:4 --gil" "seed python thread:4")
for _ in $(seq 1 "$REPEAT"); do
  for name in "${names[@]}"; do
    case "$name" in
      "corepl thread:4") start_server "$corepl" serve 0 --pool thread:4 ;;
      "corepl thread:4 --gil") start_server "$corepl" serve 0 --pool thread:4 --gil ;;
      "seed python thread:4") start_server python3 "$here/python/seed_server.py" 0 thread 4 ;;
    esac
    out=$(LOADGEN_NO_NEWLINE=1 "$tmp/loadgen" "$PORT" 1 3 1 "$LONG_N" 1.5)
    stop_server
    d=$(echo "$out" | field 'during_req/s'); b=$(echo "$out" | field 'before_req/s')
    during[$name]+="$d "; before[$name]+="$b "
    ratios[$name]+="$(awk -v d="$d" -v b="$b" 'BEGIN { printf "%.4f", (b > 0 ? d / b : 0) }') "
  done
done
echo "starvation, fib(1) ping-pong without newline while a fib($LONG_N) is in flight (median of $REPEAT):"
for name in "${names[@]}"; do
  echo "  $name: $(printf '%s\n' ${ratios[$name]} | median) during/before (during $(printf '%s\n' ${during[$name]} | median) req/s, before $(printf '%s\n' ${before[$name]} | median) req/s; runs: ${ratios[$name]})"
done
