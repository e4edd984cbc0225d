#!/bin/bash
# Builds tests/consumers/subproject, a tiny Meson project that uses
# bayeux-glib as a subproject, and runs its program:
#   check-subproject.sh SOURCE_DIR
# The project is copied to a scratch folder and its
# subprojects/bayeux-glib made a symbolic link to SOURCE_DIR (the tree is
# not committed with the link: it would point into itself), next to the
# wrap file the documentation shows (docs/snippets/bayeux-glib.wrap; with
# the folder there, Meson uses it and fetches nothing). The dependency is
# forced to come from the subproject even when an installed
# bayeux-glib-1.0 is on the pkg-config path.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
set -euo pipefail
src=$(cd "$1" && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

cp -r "$src/tests/consumers/subproject" "$work/project"
mkdir -p "$work/project/subprojects"
ln -s "$src" "$work/project/subprojects/bayeux-glib"
cp "$src/docs/snippets/bayeux-glib.wrap" "$work/project/subprojects/"

setup_log="$work/setup.log"
if ! meson setup "$work/build" "$work/project" \
       --force-fallback-for=bayeux-glib-1.0 \
       -Dbayeux-glib:introspection=disabled \
       -Dbayeux-glib:documentation=false \
       -Dbayeux-glib:tests=false \
       -Dbayeux-glib:interop=disabled \
       > "$setup_log" 2>&1; then
  cat "$setup_log"
  echo "not ok: meson setup of the consumer project failed"
  exit 1
fi
# The library must come from the subproject, not from the system.
if ! grep -q "Dependency bayeux-glib-1.0 found: YES .*(overridden)" "$setup_log"; then
  grep -i "bayeux-glib-1.0\|subproject" "$setup_log" || true
  echo "not ok: bayeux-glib-1.0 did not come from the subproject"
  exit 1
fi
echo "subproject: $(grep -m1 "Dependency bayeux-glib-1.0 found" "$setup_log")"

if ! meson compile -C "$work/build" > "$work/compile.log" 2>&1; then
  cat "$work/compile.log"
  echo "not ok: the consumer project did not build"
  exit 1
fi
"$work/build/consumer"
