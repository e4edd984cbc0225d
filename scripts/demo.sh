#!/bin/bash
# demo.sh: the chat example (examples/chat.c, built as bayeux-chat).
#
#   scripts/demo.sh [NAME]          start a local Faye server on a free
#                                   loopback port and chat on it
#   scripts/demo.sh URL [NAME]      chat on the Bayeux server at URL
#
# It installs what is missing (scripts/deps.sh) and builds in _build first
# (or in $BAYEUX_BUILDDIR).
# The client joins /chat/demo, says that it has joined and prints every
# message as "user: chat"; type a line and press Enter to send it. Ctrl-C
# disconnects and quits (and stops the local server); a second Ctrl-C quits
# at once. Arguments after the URL go to bayeux-chat (a NAME, --count N,
# --verbose).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=${BAYEUX_BUILDDIR:-_build}

case "${1:-}" in
  -h|--help)
    cat <<'USAGE'
Usage: scripts/demo.sh [URL] [NAME] [--count N] [--verbose]

  Without URL: installs what is missing, builds, starts a local Faye server
  on a free loopback port, prints its URL, and chats on /chat/demo there.
  With URL: chats on the Bayeux server at URL (a server that cannot be
  reached is retried with the backoff until Ctrl-C; the exit status is 1
  when the client never connected).
  Type a line and press Enter to send it; Ctrl-C disconnects and quits.
USAGE
    exit 0
    ;;
esac

url=""
if [ $# -gt 0 ] && [[ $1 == *://* ]]; then
  url=$1
  shift
fi

scripts/deps.sh
if [ ! -f "$build/meson-private/coredata.dat" ]; then
  meson setup "$build"
fi
meson compile -C "$build" bayeux-chat

chat=$build/examples/bayeux-chat

if [ -n "$url" ]; then
  exec "$chat" "$url" "$@"
fi

# No URL: our own Faye server. It prints "READY <port>" once it listens, and
# exits when its standard input closes, so it cannot outlive this script.
tmp=$(mktemp -d)
server_pid=""

cleanup () {
  exec 3>&- 2> /dev/null || true
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkfifo "$tmp/stdin"
# setsid: Ctrl-C in the terminal is for the client, which then still has a
# server to say goodbye to.
setsid node tests/interop/faye-server.js --port 0 < "$tmp/stdin" > "$tmp/server.out" 2> "$tmp/server.err" &
server_pid=$!
exec 3> "$tmp/stdin"

port=""
for _ in $(seq 1 150); do
  port=$(sed -n 's/^READY \([0-9][0-9]*\).*/\1/p' "$tmp/server.out" | head -n 1)
  [ -n "$port" ] && break
  if ! kill -0 "$server_pid" 2> /dev/null; then
    break
  fi
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "demo: the Faye server did not start:" >&2
  cat "$tmp/server.err" >&2
  exit 1
fi

url="http://127.0.0.1:$port/faye"
echo "demo: Faye server at $url"
echo "demo: join from another terminal with: scripts/demo.sh $url OTHER-NAME"
echo "demo: type a line to send it; Ctrl-C to quit"

# Not exec: the trap must stop the server once the client has quit. The
# client gets Ctrl-C from the terminal, disconnects, and exits; then so do
# we (a trapped, not ignored, SIGINT waits for the client).
trap ':' INT
rc=0
"$chat" "$url" "$@" || rc=$?
exit "$rc"
