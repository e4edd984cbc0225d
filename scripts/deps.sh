#!/bin/bash
# deps.sh: install what building and testing bayeux-glib needs on Debian
# bookworm (or a close relative), then the Node packages of the interop tests.
#
# Idempotent: when everything is already there it runs no apt-get and no npm,
# and prints one line.
#
# Usage: scripts/deps.sh
#
# BAYEUX_SKIP_DEPS=1: no dpkg-query and no apt-get (another system, or no
# root): install the packages by hand (README.md lists them). The Node
# packages are still installed (npm ci) when missing or stale.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  build-essential
  meson
  ninja-build
  pkg-config
  libglib2.0-dev
  libsoup-3.0-dev
  libjson-glib-dev
  gobject-introspection
  libgirepository1.0-dev
  gir1.2-soup-3.0
  gir1.2-json-1.0
  gi-docgen
  valac
  gjs
  python3-gi
  valgrind
  ca-certificates
  glib-networking
  clang
  libclang-rt-14-dev
  help2man
  libgtk-4-dev
  libadwaita-1-dev
  gir1.2-gtk-4.0
  gir1.2-adw-1
  xvfb
  xauth
  imagemagick
  redis-server
  graphviz
  tinyproxy
)

# (glib-networking: the TLS backend for https:// and the TLS tests; clang
# and its libFuzzer runtime: the fuzzing stage of scripts/test.sh;
# help2man: the bayeux tool's man page; GTK 4, libadwaita, Xvfb and
# imagemagick: the GTK chat example and its test under a real display;
# redis-server: the clustered Faye test.)

# (ca-certificates: npm fetches over HTTPS.)
# Node may come from elsewhere than Debian (nodesource, nvm…): keep it.
command -v node > /dev/null || packages+=(nodejs)
command -v npm > /dev/null || packages+=(npm)

skip_debian=0
if [ "${BAYEUX_SKIP_DEPS:-}" = 1 ]; then
  skip_debian=1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  sudo=(sudo)
fi

missing=()
if [ "$skip_debian" -eq 0 ]; then
  for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2> /dev/null || true)
    if [ "$status" != "install ok installed" ]; then
      missing+=("$p")
    fi
  done
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The interop tests' servers and peer clients (faye, cometd-nodejs-server…),
# pinned by tests/interop/package-lock.json. npm writes its own copy of the
# lock into node_modules; an older copy means the install is stale.
interop=tests/interop
npm_state="not needed"
if [ -f "$interop/package-lock.json" ]; then
  installed_lock="$interop/node_modules/.package-lock.json"
  if [ ! -f "$installed_lock" ] \
     || [ "$interop/package-lock.json" -nt "$installed_lock" ] \
     || [ "$interop/package.json" -nt "$installed_lock" ]; then
    echo "deps: npm ci --prefix $interop"
    npm ci --prefix "$interop" --no-audit --no-fund --loglevel=error
    npm_state="installed"
  else
    npm_state="up to date"
  fi
else
  echo "deps: warning: $interop/package-lock.json not found; interop packages not installed" >&2
fi

if [ "$skip_debian" -eq 1 ]; then
  debian_state="Debian packages not checked (BAYEUX_SKIP_DEPS=1)"
else
  debian_state="${#packages[@]} Debian packages present"
fi
echo "deps: $debian_state; node $(node --version 2> /dev/null || echo 'not found'); interop node_modules $npm_state"
