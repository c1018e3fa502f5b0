#!/usr/bin/env bash
# benchmarks/run instructions: user-space instructions per fib(1) request, counted by
# valgrind's callgrind — the one figure of the server path this VM reproduces to the
# instruction (it has no hardware counters, and its req/s swing by 10-30 % with the
# neighbours' load).
#
# Each server runs twice under callgrind with SHORT and LONG seconds of fib(1) ping-pong
# at C connections (seed-style requests, as `benchmarks/run peers`); the difference of the
# two runs' totals over the difference of their request counts is the cost of one request,
# start-up and shut-down subtracted. What the kernel does for the system calls is not
# counted (callgrind sees user space only): `strace -c -f` counts those.
#
# Servers: corepl serve --pool inline, the NIO peer with one event loop computing inline,
# and the C floor (benchmarks/c-floor, epoll). The Swift binaries are built in release
# with DWARF 4 (valgrind 3.19 cannot read the default DWARF 5) in their own scratch
# directories, so the regular release builds are left alone.
#
# Environment: SHORT (2), LONG (6), C (1), SERVERS ("corepl-inline nio-inline c-epoll"),
# PROFILE=DIR (keep each long run's callgrind file there, for callgrind_annotate).
# Needs valgrind (apt-get install -y valgrind).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
SHORT=${SHORT:-2}
LONG=${LONG:-6}
C=${C:-1}
read -r -a servers <<< "${SERVERS:-corepl-inline nio-inline c-epoll}"
command -v valgrind > /dev/null || { echo "benchmarks/run instructions needs valgrind: apt-get install -y valgrind" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT
. "$here/lib.sh"

dwarf4=(-c release -Xswiftc -dwarf-version=4 -Xcc -gdwarf-4)
gcc -O2 -o "$tmp/loadgen" "$here/load/loadgen.c"
for s in "${servers[@]}"; do
  case $s in
    corepl-inline) (cd "$root" && swift build "${dwarf4[@]}" --product corepl --scratch-path "$root/.build/callgrind" >&2) ;;
    nio-inline) (cd "$here/nio-peer" && swift build "${dwarf4[@]}" --scratch-path "$here/nio-peer/.build/callgrind" >&2) ;;
    c-epoll) build_floor -gdwarf-4 ;;
    *) echo "unknown server $s (corepl-inline, nio-inline, c-epoll)" >&2; exit 2 ;;
  esac
done

server_command() {  # NAME: the command line of that server, in $cmd
  case $1 in
    corepl-inline) cmd=("$root/.build/callgrind/release/corepl" serve 0 --pool inline) ;;
    nio-inline) cmd=("$here/nio-peer/.build/callgrind/release/nio-peer" --port 0 --loops 1) ;;
    c-epoll) cmd=("$tmp/floor" epoll) ;;
  esac
}

# measure NAME SECONDS: runs the server under callgrind; prints "instructions requests"
measure() {
  local out="$tmp/$1.$2.cg" reqs
  server_command "$1"
  start_server valgrind --tool=callgrind --callgrind-out-file="$out" "${cmd[@]}"
  reqs=$(LOADGEN_NO_NEWLINE=1 "$tmp/loadgen" "$PORT" "$C" "$2" 1 | field reqs)
  # SIGINT: corepl and the NIO peer stop at once; callgrind writes its file on any exit.
  kill -INT "$PID" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  stop_server
  echo "$(grep -m1 '^summary:\|^totals:' "$out" | awk '{print $2}') $reqs"
}

echo "# user-space instructions per fib(1) request (callgrind; ${LONG} s minus ${SHORT} s of load at C=$C)"
for s in "${servers[@]}"; do
  read -r ir1 n1 <<< "$(measure "$s" "$SHORT")"
  read -r ir2 n2 <<< "$(measure "$s" "$LONG")"
  if [ -z "$ir1" ] || [ -z "$ir2" ] || [ "$n2" -le "$n1" ]; then
    echo "$s: no figure (runs gave '$ir1 $n1' and '$ir2 $n2')"
    continue
  fi
  [ -n "${PROFILE:-}" ] && mkdir -p "$PROFILE" && cp "$tmp/$s.$LONG.cg" "$PROFILE/$s.callgrind"
  echo "$s: $(( (ir2 - ir1) / (n2 - n1) )) instructions/request ($n1 and $n2 requests)"
done
