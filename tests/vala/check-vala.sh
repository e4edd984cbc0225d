#!/bin/bash
# Builds tests/vala/test-vala.vala with valac against the uninstalled
# bayeux-glib-1.0 VAPI and pkg-config file, and runs it.
#   check-vala.sh BUILD_DIR SOURCE_DIR
#
# With node and tests/interop/node_modules, a real Faye server
# (tests/interop/faye-server.js) is started on a free loopback port and its
# URL given to the program, which makes a round trip through it (subscribe,
# publish, its own message back, disconnect). Without them only the
# program's offline checks run, and this says so; unless
# BAYEUX_INTEROP_REQUIRED is set (-Dinterop=enabled): then it fails.
set -euo pipefail
build=$(cd "$1" && pwd); src=$(cd "$2" && pwd)
out=$(mktemp -d)
faye_pid=
cleanup() {
  if [ -n "$faye_pid" ]; then
    kill "$faye_pid" 2>/dev/null || true
    wait "$faye_pid" 2>/dev/null || true
  fi
  rm -rf "$out"
}
trap cleanup EXIT

# Uninstalled, meson keeps the .deps file apart from the VAPI: pass its
# packages by hand (installed, valac reads it next to the VAPI).
deps=$(find "$build" -name bayeux-glib-1.0.deps -not -path '*/docs/*' | head -n 1)
pkgs=$(sed 's/^/--pkg /' "$deps")
PKG_CONFIG_PATH="$build/meson-uninstalled" valac --vapidir "$build/bayeux-glib" $pkgs --pkg bayeux-glib-1.0 \
  -X -w -o "$out/test-vala" "$src/tests/vala/test-vala.vala"

interop="$src/tests/interop"
why=
if ! command -v node >/dev/null; then
  why="node is not on PATH"
elif [ ! -d "$interop/node_modules" ]; then
  why="$interop/node_modules is missing (npm ci --prefix tests/interop)"
fi
if [ -n "$why" ]; then
  if [ -n "${BAYEUX_INTEROP_REQUIRED:-}" ]; then
    echo "check-vala: FAIL: $why" >&2
    exit 1
  fi
  echo "check-vala: no round trip through a Faye server ($why): offline checks only" >&2
  LD_LIBRARY_PATH="$build/bayeux-glib" "$out/test-vala"
  exit
fi

# The server prints `READY <port>` once listening (port 0: any free one),
# and exits when its standard input closes.
coproc FAYE { exec node "$interop/faye-server.js" 2>/dev/null; }
faye_pid=$FAYE_PID
faye_out=${FAYE[0]}
faye_in=${FAYE[1]}
ready=
read -t 15 -r ready <&"$faye_out" || true
if [[ "$ready" != "READY "* ]]; then
  echo "check-vala: FAIL: faye-server.js said '${ready:-nothing}' instead of READY <port>" >&2
  exit 1
fi
url="http://127.0.0.1:${ready#READY }/faye"

status=0
LD_LIBRARY_PATH="$build/bayeux-glib" "$out/test-vala" "$url" || status=$?

# Let the server go (it exits at the end of its standard input).
exec {faye_in}>&-
wait "$faye_pid" 2>/dev/null || true
faye_pid=
exit "$status"
