#!/usr/bin/env bash
# benchmarks/run trace: what recording a trace costs. corepl's fib server (release build)
# without and with `--trace` (the REPL's `trace record`: a ring of the last 100,000 events),
# in alternating runs under the C load generator; one figure per line, ratios of medians.
# (The step's cost with a recorder attached is in `benchmarks/run steps`.)
# Durations: SECONDS (default 3) per run; REPEAT (default 5) pairs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
REPEAT=${REPEAT:-5}
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

. "$here/lib.sh"
build_servers

for c in 1 10; do
  for pool in inline thread:4; do
    off=() on=() ratios=() maxoff=0 maxon=0
    for _ in $(seq 1 "$REPEAT"); do
      start_server "$corepl" serve 0 --pool "$pool"
      out=$("$tmp/loadgen" "$PORT" "$c" "$SECONDS_PER_RUN" 1); stop_server
      a=$(echo "$out" | field 'req/s'); off+=("$a"); maxoff=$(echo "$out" | field max_us | awk -v m="$maxoff" '{ print ($1 > m) ? $1 : m }')
      start_server "$corepl" serve 0 --pool "$pool" --trace "$tmp/trace.json"
      out=$("$tmp/loadgen" "$PORT" "$c" "$SECONDS_PER_RUN" 1); stop_server
      b=$(echo "$out" | field 'req/s'); on+=("$b"); maxon=$(echo "$out" | field max_us | awk -v m="$maxon" '{ print ($1 > m) ? $1 : m }')
      ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')")
    done
    echo "corepl $pool fib(1) C=$c: $(printf '%s\n' "${off[@]}" | median) req/s (max $maxoff us; runs: ${off[*]})"
    echo "corepl $pool fib(1) C=$c recording a trace: $(printf '%s\n' "${on[@]}" | median) req/s (max $maxon us; runs: ${on[*]})"
    echo "corepl $pool fib(1) C=$c recording / not, median of pairs: $(printf '%s\n' "${ratios[@]}" | median) x"
  done
done
echo "trace file of the last run: $(wc -c < "$tmp/trace.json") bytes"
