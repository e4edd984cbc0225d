#!/bin/bash
# Builds tests/vala/test-vala.vala with valac against the uninstalled
# bayeux-glib-1.0 VAPI and pkg-config file, and runs it.
#   check-vala.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd); src=$(cd "$2" && pwd)
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
# Uninstalled, meson keeps the .deps file apart from the VAPI: pass its
# packages by hand (installed, valac reads it next to the VAPI).
deps=$(find "$build" -name bayeux-glib-1.0.deps -not -path '*/docs/*' | head -n 1)
pkgs=$(sed 's/^/--pkg /' "$deps")
PKG_CONFIG_PATH="$build/meson-uninstalled" valac --vapidir "$build/bayeux-glib" $pkgs --pkg bayeux-glib-1.0 \
  -X -w -o "$out/test-vala" "$src/tests/vala/test-vala.vala"
LD_LIBRARY_PATH="$build/bayeux-glib" "$out/test-vala"
