#!/usr/bin/env bash
# bench/run.sh: the bench suite, in one command (bench/README.md).
#
#   bench/run.sh [--quick] [--scenarios LIST] [--build-dir DIR] [--no-build]
#                [--out DIR] [--callgrind]
#
# Builds bayeux-bench if needed (meson, in _build_bench), starts the real
# servers on loopback (bench-server.js: cometd-nodejs-server and Faye, and a
# trivial HTTP server for libsoup's floor), runs bayeux-bench and the peer
# clients (peer-bench.js: the CometD JavaScript client, Faye's Node client)
# against the same server in the same run, and writes to OUT (default
# bench/results): latest.json (every measurement, the machine), latest.md
# (the table with the ratios ours/peer and the targets) and
# latency-cdf.png (gnuplot; skipped, saying so, without gnuplot: Debian's
# gnuplot-nox). On a machine with 2 cores or more the servers run on core 0
# and the clients on core 1 (taskset).
#
# --quick is the tiny configuration CI runs so that the suite cannot rot
# (meson test bench-quick): 50 round trips, 20 clients, 3 s idle.
# --scenarios takes a comma-separated subset of
# pingpong,many,idle,parse,soup. --callgrind also profiles our ping-pong
# (200 round trips) with valgrind --tool=callgrind and writes
# callgrind-pingpong.txt (callgrind_annotate) to OUT.
#
# Exits non-zero if any measurement failed (a client that could not
# connect, a message that never arrived), after writing what it has.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
export BENCH_ROOT="$root"

quick=0
build_dir="$root/_build_bench"
do_build=1
out="$here/results"
scenarios="pingpong,many,idle,parse,soup"
callgrind=0

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --build-dir) build_dir=$2; shift ;;
    --no-build) do_build=0 ;;
    --out) out=$2; shift ;;
    --scenarios) scenarios=$2; shift ;;
    --callgrind) callgrind=1 ;;
    -h|--help) sed -n '2,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ "$quick" = 1 ]; then
  rounds=50 warmup=10 clients=20 idle=3 parse_seconds=0.3 client_timeout=120
else
  rounds=2000 warmup=200 clients=1000 idle=60 parse_seconds=2 client_timeout=900
fi
# How long the Bayeux servers hold a /meta/connect (their advised timeout).
server_timeout=30

has() { case ",$scenarios," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
say() { echo "run.sh: $*" >&2; }

# --- what the suite needs ------------------------------------------------

command -v node >/dev/null || { say "node not found (Debian: nodejs)"; exit 1; }
if [ ! -d "$root/tests/interop/node_modules" ]; then
  say "installing the Node packages: npm ci --prefix tests/interop"
  npm ci --prefix "$root/tests/interop" >&2
fi

bench="$build_dir/bench/bayeux-bench"
if [ "$do_build" = 1 ]; then
  if [ ! -f "$build_dir/build.ninja" ]; then
    say "configuring $build_dir"
    meson setup "$build_dir" "$root" -Dintrospection=disabled -Dvapi=disabled >&2
  fi
  meson compile -C "$build_dir" bench/bayeux-bench >&2
fi
[ -x "$bench" ] || { say "$bench not built"; exit 1; }

mkdir -p "$out"
tmp=$(mktemp -d)
raw="$tmp/raw.jsonl"
: > "$raw"

if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  pin_server=(taskset -c 0)
  pin_client=(taskset -c 1)
  pinning="servers on core 0, clients on core 1 (taskset)"
else
  pin_server=()
  pin_client=()
  pinning="none (fewer than 2 cores or no taskset)"
fi

# --- servers -------------------------------------------------------------

# Each server reads its stdin from a FIFO that this script holds open;
# closing it is end-of-file, on which the server exits.
server_pid=""
server_fd=""
server_port=""

start_server() {
  local kind=$1 fifo="$tmp/$1.in" log="$tmp/$1.$RANDOM.log"

  rm -f "$fifo"
  mkfifo "$fifo"
  "${pin_server[@]}" node "$here/bench-server.js" --kind "$kind" --timeout "$server_timeout" \
    < "$fifo" > "$log" 2>&1 &
  server_pid=$!
  exec {server_fd}> "$fifo"
  for _ in $(seq 100); do
    server_port=$(awk '/^READY /{print $2; exit}' "$log")
    [ -n "$server_port" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  say "the $kind server did not start:"; cat "$log" >&2
  stop_server
  return 1
}

stop_server() {
  if [ -n "$server_fd" ]; then exec {server_fd}>&-; server_fd=""; fi
  if [ -n "$server_pid" ]; then
    # It exits on end-of-file; give it a moment, then insist.
    for _ in $(seq 30); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

cleanup() { stop_server; rm -rf "$tmp"; }
trap cleanup EXIT

url_for() {
  case $1 in
    cometd) echo "http://127.0.0.1:$server_port/cometd" ;;
    faye) echo "http://127.0.0.1:$server_port/faye" ;;
    http) echo "http://127.0.0.1:$server_port/" ;;
  esac
}

# --- measurements --------------------------------------------------------

failures=0

# measure LABEL COMMAND…: runs one measurement, appends its JSON object to
# the raw results (a stand-in object if it printed none).
measure() {
  local label=$1; shift
  local json status=0

  say "$label"
  json=$(timeout "$client_timeout" "$@" 2> "$tmp/stderr") || status=$?
  if [ -s "$tmp/stderr" ]; then sed 's/^/    /' "$tmp/stderr" | head -20 >&2; fi
  json=$(printf '%s\n' "$json" | grep '^{' | tail -1 || true)
  if [ -z "$json" ]; then
    json="{\"label\":\"$label\",\"error\":\"no result (exit status $status)\"}"
  fi
  if [ "$status" != 0 ]; then
    failures=$((failures + 1))
    say "  FAILED (exit status $status)"
  fi
  printf '%s\n' "$json" >> "$raw"
  say "  $json"
}

ours() { measure "$1 bayeux-glib ${server_kind:-}" "${pin_client[@]}" "$bench" --scenario "$1" "${@:2}"; }
peer() { measure "$1 $2 $server_kind" "${pin_client[@]}" node "$here/peer-bench.js" --scenario "$1" --client "$2" "${@:3}"; }

for server_kind in cometd faye; do
  case $server_kind in cometd) peer_client=cometd ;; faye) peer_client=faye ;; esac

  if has pingpong || has idle; then
    start_server "$server_kind"
    url=$(url_for "$server_kind")
    if has pingpong; then
      # Node's JIT keeps optimising the server for thousands of round trips
      # (the first runs against a fresh server have a slower tail): warm it
      # with both clients first, results discarded, then measure.
      say "warming the $server_kind server up (both clients, $rounds round trips each, not recorded)"
      "${pin_client[@]}" timeout "$client_timeout" "$bench" --scenario pingpong --url "$url" --server "$server_kind" \
        --rounds "$rounds" --warmup "$warmup" > /dev/null 2>&1 || true
      "${pin_client[@]}" timeout "$client_timeout" node "$here/peer-bench.js" --scenario pingpong --client "$peer_client" \
        --url "$url" --server "$server_kind" --rounds "$rounds" --warmup "$warmup" > /dev/null 2>&1 || true
      ours pingpong --url "$url" --server "$server_kind" --rounds "$rounds" --warmup "$warmup" \
        --cdf "$tmp/cdf-bayeux-glib-$server_kind.txt"
      peer pingpong "$peer_client" --url "$url" --server "$server_kind" --rounds "$rounds" --warmup "$warmup" \
        --cdf "$tmp/cdf-$peer_client-$server_kind.txt"
    fi
    if has idle; then
      ours idle --url "$url" --server "$server_kind" --idle "$idle"
      peer idle "$peer_client" --url "$url" --server "$server_kind" --idle "$idle"
    fi
    stop_server
  fi

  # A fresh server for each many-clients run: the sessions one run leaves
  # behind would weigh on the next.
  if has many; then
    start_server "$server_kind"
    ours many --url "$(url_for "$server_kind")" --server "$server_kind" --clients "$clients"
    stop_server
    start_server "$server_kind"
    peer many "$peer_client" --url "$(url_for "$server_kind")" --server "$server_kind" --clients "$clients"
    stop_server
  fi
done
server_kind=""

if has soup; then
  start_server http
  server_kind=http
  ours soup --url "$(url_for http)" --server node-http --rounds "$rounds" --warmup "$warmup"
  stop_server
  server_kind=""
fi

if has parse; then
  ours parse --parse-seconds "$parse_seconds"
fi

if [ "$callgrind" = 1 ]; then
  command -v valgrind >/dev/null || { say "valgrind not found (Debian: valgrind)"; exit 1; }
  # Only the timed round trips (exchanges) are collected: bench-client.c
  # toggles collection. The profiles stay in the build folder.
  profile="$build_dir/bench/callgrind-pingpong.out"
  floor_profile="$build_dir/bench/callgrind-soup.out"
  cg=(valgrind --tool=callgrind --collect-atstart=no)
  say "callgrind: our ping-pong (200 round trips, cometd server) and libsoup's floor (800 exchanges)"
  start_server cometd
  "${pin_client[@]}" "${cg[@]}" --callgrind-out-file="$profile" \
    "$bench" --scenario pingpong --url "$(url_for cometd)" --server cometd --rounds 200 --warmup 20 \
    > "$tmp/callgrind.json" 2> "$tmp/callgrind.err" || { cat "$tmp/callgrind.err" >&2; failures=$((failures + 1)); }
  stop_server
  start_server http
  "${pin_client[@]}" "${cg[@]}" --callgrind-out-file="$floor_profile" \
    "$bench" --scenario soup --url "$(url_for http)" --server node-http --exchanges 800 --warmup 20 \
    > "$tmp/callgrind-soup.json" 2> "$tmp/callgrind.err" || { cat "$tmp/callgrind.err" >&2; failures=$((failures + 1)); }
  stop_server
  if [ -s "$profile" ] && [ -s "$floor_profile" ]; then
    /usr/bin/env python3 "$here/report.py" --callgrind "$profile" --callgrind-floor "$floor_profile" \
      --rounds 200 --exchanges 800 --result "$(cat "$tmp/callgrind.json")" > "$out/callgrind-pingpong.txt"
    say "wrote $out/callgrind-pingpong.txt (profiles: $profile, $floor_profile)"
  fi
fi

# --- report --------------------------------------------------------------

for f in "$tmp"/cdf-*.txt; do
  [ -e "$f" ] && cp "$f" "$out/"
done

machine_json=$(
  /usr/bin/env python3 - "$pinning" "$quick" "$rounds" "$warmup" "$clients" "$idle" "$server_timeout" <<'EOF'
import json, os, platform, subprocess, sys, datetime
def run(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return None
cpu = None
with open('/proc/cpuinfo') as f:
    for line in f:
        if line.startswith('model name'):
            cpu = line.split(':', 1)[1].strip(); break
mem = None
with open('/proc/meminfo') as f:
    for line in f:
        if line.startswith('MemTotal'):
            mem = round(int(line.split()[1]) / 1024 / 1024, 1); break
pinning, quick, rounds, warmup, clients, idle, timeout = sys.argv[1:]
print(json.dumps({
    'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
    'cpu': cpu, 'cores': os.cpu_count(), 'memory_gib': mem,
    'kernel': platform.release(),
    'os': run('sh', '-c', '. /etc/os-release && echo "$PRETTY_NAME"'),
    'node': run('node', '--version'),
    'glib': run('pkg-config', '--modversion', 'glib-2.0'),
    'libsoup': run('pkg-config', '--modversion', 'libsoup-3.0'),
    'json_glib': run('pkg-config', '--modversion', 'json-glib-1.0'),
    'commit': run('git', '-C', os.environ.get('BENCH_ROOT', '.'), 'describe', '--always', '--dirty'),
    'pinning': pinning,
    'config': {'quick': quick == '1', 'rounds': int(rounds), 'warmup': int(warmup), 'clients': int(clients),
               'idle_s': float(idle), 'server_timeout_s': int(timeout)},
}))
EOF
)

/usr/bin/env python3 "$here/report.py" --raw "$raw" --machine "$machine_json" --out "$out"

if command -v gnuplot >/dev/null; then
  if [ -f "$out/latency-cdf.gp" ]; then
    (cd "$out" && gnuplot latency-cdf.gp) && say "wrote $out/latency-cdf.png"
  fi
else
  say "gnuplot not found: no latency-cdf.png (Debian: apt-get install gnuplot-nox)"
fi

say "wrote $out/latest.json and $out/latest.md"
if [ "$failures" -gt 0 ]; then
  say "$failures measurement(s) failed"
  exit 1
fi
