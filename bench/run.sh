#!/usr/bin/env bash
# bench/run.sh: the bench suite, in one command (bench/README.md).
#
#   bench/run.sh [--quick] [--scenarios LIST] [--transports LIST]
#                [--build-dir DIR] [--no-build] [--out DIR] [--callgrind]
#                [--perf] [--perf-on SERVER:TRANSPORT] [--bindings LIST]
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
# --quick writes to BUILD_DIR/results-quick unless --out says otherwise
# (the committed bench/results are a full run's).
# --quick is the tiny configuration CI runs so that the suite cannot rot
# (meson test bench-quick): 50 round trips, 20 clients, 3 s idle, two
# short fan-out steps. --scenarios takes a comma-separated subset of
# pingpong,fanout,many,idle,parse,allocs,soup. --transports takes a subset of
# long-polling,websocket (both by default): the WebSocket rows (ping-pong
# and fan-out on Faye) are run with --transport websocket (a transport
# our client did not have would be reported as not available: bayeux-bench
# exits 77 then). --callgrind also profiles our
# ping-pong (200 round trips) with valgrind --tool=callgrind and writes
# callgrind-pingpong.txt (callgrind_annotate) to OUT. --perf also profiles
# our fan-out subscriber process (perf record, on cometd-nodejs-server at
# 120,000 messages a second) and writes perf-fanout.txt to OUT.
# --bindings takes a subset of python,gjs,python-node,gjs-node (default
# python,gjs): the fan-out is run again with our library through PyGObject
# (bench/py-subscriber.py) and GJS (bench/gjs-subscriber.js), the data read
# with get_data_json and the language's JSON parser (the -node ones: the old
# way, Json.to_string first); "none" leaves them out. They need the typelib:
# the build folder is configured with introspection (one configured without
# it reports those rows as not available).
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
out=""
scenarios="pingpong,fanout,many,idle,parse,allocs,soup"
transports="long-polling,websocket"
callgrind=0
perf=0
perf_on=cometd:long-polling
bindings="python,gjs"

while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --build-dir) build_dir=$2; shift ;;
    --no-build) do_build=0 ;;
    --out) out=$2; shift ;;
    --scenarios) scenarios=$2; shift ;;
    --transports) transports=$2; shift ;;
    --callgrind) callgrind=1 ;;
    --perf) perf=1 ;;
    --perf-on) perf=1; perf_on=$2; shift ;;
    --bindings) bindings=$2; shift ;;
    -h|--help) sed -n '2,40p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# The committed results are those of a full run: a quick run writes
# elsewhere unless told.
if [ -z "$out" ]; then
  if [ "$quick" = 1 ]; then out="$build_dir/results-quick"; else out="$here/results"; fi
fi

if [ "$quick" = 1 ]; then
  rounds=50 warmup=10 clients=20 idle=3 parse_seconds=0.3 client_timeout=120
  fanout_opts=(--fanout-rates 20,100 --step-seconds 0.6 --settle-seconds 0.2 --fanout-warmup 0 --drain-seconds 10)
else
  rounds=2000 warmup=200 clients=1000 idle=60 parse_seconds=2 client_timeout=900
  # Publishes a second (each delivered to 10 subscribers), 3 s a step
  # (measured after 0.75 s), after 2 s at 1,000: bench-client.c's defaults.
  fanout_opts=()
fi
fanout_subscribers=10
# How long the Bayeux servers hold a /meta/connect (their advised timeout).
server_timeout=30

has() { case ",$scenarios," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
has_transport() { case ",$transports," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
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
    # Introspection for the bindings' fan-out subscribers (--bindings).
    meson setup "$build_dir" "$root" -Dintrospection=enabled -Dvapi=disabled >&2
  fi
  meson compile -C "$build_dir" bench/bayeux-bench bench/bench-alloc >&2
  if [ "$bindings" != none ] && grep -q "Bayeux-1.0.typelib" "$build_dir/build.ninja"; then
    meson compile -C "$build_dir" bayeux-glib/Bayeux-1.0.typelib >&2
  fi
fi
[ -x "$bench" ] || { say "$bench not built"; exit 1; }

mkdir -p "$out"
# Anything else running on the machine moves the figures: say how busy it
# was (the 1-minute load average) before and after.
load_start=$(cut -d' ' -f1 /proc/loadavg)
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
last_failed=0

# measure LABEL COMMAND…: runs one measurement, appends its JSON object to
# the raw results (a stand-in object if it printed none). Exit status 77
# with a `not_available` record is not a failure: the transport asked for
# does not exist in this bayeux-glib yet.
measure() {
  local label=$1; shift
  local json status=0

  say "$label"
  json=$(timeout "$client_timeout" "$@" 2> "$tmp/stderr") || status=$?
  if [ -s "$tmp/stderr" ]; then sed 's/^/    /' "$tmp/stderr" | head -40 >&2; fi
  json=$(printf '%s\n' "$json" | grep '^{' | tail -1 || true)
  if [ -z "$json" ]; then
    json="{\"label\":\"$label\",\"error\":\"no result (exit status $status)\"}"
  fi
  last_failed=0
  if [ "$status" = 77 ] && [[ $json == *'"not_available"'* ]]; then
    say "  not available"
  elif [ "$status" != 0 ]; then
    failures=$((failures + 1))
    last_failed=1
    say "  FAILED (exit status $status)"
  fi
  printf '%s\n' "$json" >> "$raw"
  say "  $json"
}

ours() { measure "$1 bayeux-glib ${server_kind:-}" "${pin_client[@]}" "$bench" --scenario "$1" "${@:2}"; }
peer() { measure "$1 $2 $server_kind" "${pin_client[@]}" node "$here/peer-bench.js" --scenario "$1" --client "$2" "${@:3}"; }

# fanout TRANSPORT SUBSCRIBER-COMMAND…: scenario 3, on a fresh server.
# bayeux-bench --scenario fanout is the driver and the publisher, on the
# server's core; it starts the subscriber process (ours or the peer's, on
# the clients' core) and measures it step by step (bench/README.md). A run
# that other work on the machine disturbed (a core busier than the
# measurement's processes explain: `disturbed_steps`) is done again, up to
# 3 times in all; the least disturbed one is kept (the later one of equals),
# and its record says which (`attempt`) of how many (`attempts`).
fanout() {
  local transport=$1; shift
  local url attempt line disturbed best="" best_disturbed=0 best_failed=0
  for attempt in 1 2 3; do
    start_server "$server_kind"
    url=$(url_for "$server_kind")
    measure "fanout ${FANOUT_LABEL:-} $server_kind $transport" \
      "${pin_server[@]}" "$bench" --scenario fanout --url "$url" --server "$server_kind" \
      --server-pid "$server_pid" "${fanout_opts[@]}" -- \
      "${pin_client[@]}" "$@" --url "$url" --server "$server_kind" --transport "$transport" \
      --subscribers "$fanout_subscribers"
    stop_server
    line=$(tail -1 "$raw")
    sed -i '$ d' "$raw"
    failures=$((failures - last_failed))
    disturbed=$(sed -n 's/.*"disturbed_steps":\([0-9]*\).*/\1/p' <<< "$line")
    disturbed=${disturbed:-0}
    if [ -z "$best" ] || [ "$disturbed" -le "$best_disturbed" ]; then
      best="{\"attempt\":$attempt,${line#\{}" best_disturbed=$disturbed best_failed=$last_failed
    fi
    if [ "$quick" = 1 ] || [ "$disturbed" = 0 ] || [ "$attempt" = 3 ]; then
      break
    fi
    say "  disturbed by other work on the machine ($disturbed steps): once more in 15 s"
    sleep 15
  done
  printf '%s\n' "{\"attempts\":$attempt,${best#\{}" >> "$raw"
  failures=$((failures + best_failed))
}
fanout_ours() { FANOUT_LABEL=bayeux-glib fanout "$1" "$bench" --scenario fanout-subscribe; }
fanout_peer() { FANOUT_LABEL=$2 fanout "$1" node "$here/peer-bench.js" --scenario fanout-subscribe --client "$2"; }
# fanout_binding TRANSPORT python|gjs|python-node|gjs-node: our library
# through a binding, with the build's typelib and library.
has_binding() { case ",$bindings," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
fanout_binding() {
  local transport=$1 which=$2 path=json lang=${2%-node}
  [ "$which" != "$lang" ] && path=node
  if [ ! -f "$build_dir/bayeux-glib/Bayeux-1.0.typelib" ]; then
    say "fanout bayeux-glib-$which: not available ($build_dir has no Bayeux-1.0.typelib: configure it with -Dintrospection=enabled)"
    printf '%s\n' "{\"scenario\":\"fanout\",\"client\":\"bayeux-glib-$which\",\"server\":\"$server_kind\",\"transport\":\"$transport\",\"not_available\":\"no typelib in the bench build\"}" >> "$raw"
    return
  fi
  local env_=(env "GI_TYPELIB_PATH=$build_dir/bayeux-glib${GI_TYPELIB_PATH:+:$GI_TYPELIB_PATH}"
              "LD_LIBRARY_PATH=$build_dir/bayeux-glib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
  case $lang in
    python) FANOUT_LABEL=bayeux-glib-$which fanout "$transport" "${env_[@]}" /usr/bin/python3 "$here/py-subscriber.py" \
              --data-path "$path" ;;
    gjs) FANOUT_LABEL=bayeux-glib-$which fanout "$transport" "${env_[@]}" gjs -m "$here/gjs-subscriber.js" \
              --data-path "$path" ;;
  esac
}

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
      # The WebSocket rows: Faye's server has the transport (CometD's here
      # has not). Warmed up on WebSocket the same way.
      if [ "$server_kind" = faye ] && has_transport websocket; then
        say "warming the $server_kind server up on WebSocket (not recorded)"
        "${pin_client[@]}" timeout "$client_timeout" "$bench" --scenario pingpong --url "$url" --server "$server_kind" \
          --transport websocket --rounds "$rounds" --warmup "$warmup" > /dev/null 2>&1 || true
        "${pin_client[@]}" timeout "$client_timeout" node "$here/peer-bench.js" --scenario pingpong --client "$peer_client" \
          --url "$url" --server "$server_kind" --transport websocket --rounds "$rounds" --warmup "$warmup" \
          > /dev/null 2>&1 || true
        ours pingpong --url "$url" --server "$server_kind" --transport websocket --rounds "$rounds" --warmup "$warmup" \
          --cdf "$tmp/cdf-bayeux-glib-$server_kind-websocket.txt"
        peer pingpong "$peer_client" --url "$url" --server "$server_kind" --transport websocket --rounds "$rounds" \
          --warmup "$warmup" --cdf "$tmp/cdf-$peer_client-$server_kind-websocket.txt"
      fi
    fi
    if has idle; then
      ours idle --url "$url" --server "$server_kind" --idle "$idle"
      peer idle "$peer_client" --url "$url" --server "$server_kind" --idle "$idle"
    fi
    stop_server
  fi

  # Fan-out: a fresh server for each run (its JIT warmed by the run's own
  # first steps, no sessions left behind by the previous one).
  if has fanout; then
    for transport in long-polling websocket; do
      has_transport "$transport" || continue
      [ "$transport" = websocket ] && [ "$server_kind" != faye ] && continue
      fanout_ours "$transport"
      fanout_peer "$transport" "$peer_client"
      for b in python gjs python-node gjs-node; do
        has_binding "$b" && fanout_binding "$transport" "$b"
      done
    done
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

# Allocations per message (bench/alloc-count.c preloaded, every slice a
# malloc): in-process along the parse path, and end to end in the fan-out
# subscriber process (10 clients, libsoup included) at fixed rates on
# CometD. BENCH_BEFORE=path/to/an/older/bayeux-bench counts that one's
# fan-out subscriber too (label bayeux-glib-before), for a before/after.
if has allocs; then
  shim="$build_dir/bench/libbench-alloc.so"
  if [ ! -f "$shim" ]; then
    say "allocs: $shim not built"
    printf '%s\n' '{"scenario":"allocs","client":"bayeux-glib","server":"none","transport":"long-polling","not_available":"no libbench-alloc.so in the bench build"}' >> "$raw"
  else
    measure "allocs bayeux-glib" "${pin_client[@]}" env LD_PRELOAD="$shim" G_SLICE=always-malloc \
      "$bench" --scenario parse --count-allocations
    alloc_rates=(--fanout-rates 10000,50000 --step-seconds 2 --settle-seconds 0.5 --fanout-warmup 1)
    [ "$quick" = 1 ] && alloc_rates=("${fanout_opts[@]}")
    for which in bayeux-glib ${BENCH_BEFORE:+bayeux-glib-before}; do
      subscriber=$bench
      [ "$which" = bayeux-glib-before ] && subscriber=$BENCH_BEFORE
      server_kind=cometd
      rm -f "$tmp/allocs"
      fanout_opts_saved=("${fanout_opts[@]}")
      fanout_opts=("${alloc_rates[@]}")
      FANOUT_LABEL="$which (allocations)" quick=1 \
        fanout long-polling env LD_PRELOAD="$shim" G_SLICE=always-malloc BENCH_ALLOC_OUT="$tmp/allocs" \
        "$subscriber" --scenario fanout-subscribe
      fanout_opts=("${fanout_opts_saved[@]}")
      # The fan-out record becomes an allocations one.
      line=$(tail -1 "$raw")
      sed -i '$ d' "$raw"
      python3 - "$line" "$tmp/allocs" "$which" >> "$raw" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
out = {'scenario': 'allocs-fanout', 'client': sys.argv[3], 'server': 'cometd', 'transport': 'long-polling'}
try:
    count = int(open(sys.argv[2]).read().split()[1])
    delivered = r['subscriber']['delivered']
    out.update(allocations=count, delivered=delivered, allocs_per_delivered_msg=round(count / delivered, 2),
               rates=[s['offered_msgs_per_s'] for s in r.get('steps', [])],
               method='bench/alloc-count.c preloaded into the fan-out subscriber process (G_SLICE=always-malloc): '
                      'its allocations from start to exit, every thread, over the messages its 10 clients got')
except Exception as e:
    out['error'] = f'no allocation count: {e}'
print(json.dumps(out))
PY
    done
  fi
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

if [ "$perf" = 1 ]; then
  command -v perf >/dev/null || { say "perf not found (Debian: linux-perf)"; exit 1; }
  # Our fan-out subscriber process at one rate our client keeps up with on
  # cometd-nodejs-server (12,000 publishes a second to 10 subscribers:
  # 120,000 messages a second), 5 s of its steady state with call graphs
  # (DWARF: the libraries have no frame pointers). The profile stays in
  # the build folder.
  # --perf-on SERVER:TRANSPORT (faye:websocket, say) profiles another
  # pair, into perf-fanout-SERVER-TRANSPORT.txt.
  perf_server=${perf_on%%:*} perf_transport=${perf_on#*:}
  perf_name=perf-fanout
  [ "$perf_on" != cometd:long-polling ] && perf_name=perf-fanout-$perf_server-$perf_transport
  perf_data="$build_dir/bench/$perf_name.data"
  say "perf: our fan-out subscriber process, $perf_server server, $perf_transport, 120,000 messages a second"
  start_server "$perf_server"
  perf_url=$(url_for "$perf_server")
  "${pin_server[@]}" "$bench" --scenario fanout --url "$perf_url" --server "$perf_server" --server-pid "$server_pid" \
    --fanout-rates 12000 --step-seconds 12 --fanout-warmup 2 -- \
    "${pin_client[@]}" "$bench" --scenario fanout-subscribe --url "$perf_url" --server "$perf_server" \
    --transport "$perf_transport" --subscribers "$fanout_subscribers" > "$tmp/perf.json" 2> "$tmp/perf.err" &
  perf_driver=$!
  sleep 4
  perf_sub=$(pgrep -P "$perf_driver" | head -1 || true)
  if [ -n "$perf_sub" ]; then
    perf record -F 999 --call-graph dwarf,16384 -o "$perf_data" -p "$perf_sub" -- sleep 5 > /dev/null 2>&1 ||
      { say "perf record failed"; failures=$((failures + 1)); }
  else
    say "perf: no subscriber process to profile"; failures=$((failures + 1))
  fi
  wait "$perf_driver" || { cat "$tmp/perf.err" >&2; failures=$((failures + 1)); }
  stop_server
  if [ -s "$perf_data" ]; then
    /usr/bin/env python3 "$here/report.py" --perf "$perf_data" --result "$(grep '^{' "$tmp/perf.json" | tail -1)" \
      > "$out/$perf_name.txt"
    say "wrote $out/$perf_name.txt (profile: $perf_data)"
  fi
fi

# --- report --------------------------------------------------------------

for f in "$tmp"/cdf-*.txt; do
  [ -e "$f" ] && cp "$f" "$out/"
done

machine_json=$(
  /usr/bin/env python3 - "$pinning" "$quick" "$rounds" "$warmup" "$clients" "$idle" "$server_timeout" \
    "$fanout_subscribers" "$transports" "$("$bench" --help | sed -n 's/.*--fanout-rates=LIST.*(\(.*\))$/\1/p')" \
    "${fanout_opts[*]:-}" "$load_start" "$(cut -d' ' -f1 /proc/loadavg)" <<'EOF'
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
(pinning, quick, rounds, warmup, clients, idle, timeout, subscribers, transports, rates, fanout_opts,
 load_start, load_end) = sys.argv[1:]
# The fan-out steps: bayeux-bench's defaults unless run.sh overrode them.
fanout = {'subscribers': int(subscribers), 'rates_per_s': rates, 'step_s': 3.0, 'settle_s': 0.75, 'warmup_s': 2.0}
opts = fanout_opts.split()
for key, name, conv in (('--fanout-rates', 'rates_per_s', str), ('--step-seconds', 'step_s', float),
                        ('--settle-seconds', 'settle_s', float), ('--fanout-warmup', 'warmup_s', float)):
    if key in opts:
        fanout[name] = conv(opts[opts.index(key) + 1])
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
    'load_average_1min': {'start': float(load_start), 'end': float(load_end)},
    'config': {'quick': quick == '1', 'rounds': int(rounds), 'warmup': int(warmup), 'clients': int(clients),
               'idle_s': float(idle), 'server_timeout_s': int(timeout), 'fanout': fanout,
               'transports': transports.split(',')},
}))
EOF
)

/usr/bin/env python3 "$here/report.py" --raw "$raw" --machine "$machine_json" --out "$out"

if command -v gnuplot >/dev/null; then
  if [ -f "$out/fanout-throughput.gp" ]; then
    (cd "$out" && gnuplot fanout-throughput.gp) && say "wrote $out/fanout-throughput.png"
  fi
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
