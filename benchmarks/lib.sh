# Shared by benchmarks/server.sh, gil.sh and trace.sh (sourced, after `here`, `root` and
# `tmp` are set): building the servers, starting and stopping one, reading loadgen's figures.

# build_servers: corepl and its process-pool worker (release) and the C load generator in
# $tmp; sets corepl.
build_servers() {
  (cd "$root" && swift build -c release --product corepl >&2 && swift build -c release --product corepl-worker >&2)
  corepl="$root/.build/release/corepl"
  gcc -O2 -o "$tmp/loadgen" "$here/load/loadgen.c"
}

# build_floor [GCC FLAGS…]: the hand-written C floor (benchmarks/c-floor, needs
# liburing-dev) as $tmp/floor.
build_floor() {
  gcc -O2 "$@" -o "$tmp/floor" "$here/c-floor/floor.c" -luring ||
    { echo "benchmarks/c-floor needs liburing: apt-get install -y liburing-dev" >&2; exit 1; }
}

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
