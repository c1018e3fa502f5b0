# Shared by benchmarks/server.sh and benchmarks/gil.sh (sourced, after `tmp` is set):
# starting and stopping a server under test, and reading loadgen's figures.

start_server() {  # command...; sets PID and PORT
  "$@" > "$tmp/server.out" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do
    if grep -q "listening on" "$tmp/server.out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  PORT=$(grep -o 'listening on [0-9.]*:[0-9]*' "$tmp/server.out" | grep -o '[0-9]*$')
  [ -n "$PORT" ] || { echo "server did not start: $(cat "$tmp/server.out")" >&2; exit 1; }
}
# The seed's Python server leaves its process-pool workers running (one still computing
# the long fib) when it is killed: stop its children first.
stop_server() { pkill -KILL -P "$PID" 2>/dev/null || true; kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { grep "^$1:" | awk '{print $2}'; }
