#!/bin/bash
# Installs the build into a scratch prefix (meson install --destdir) and
# builds and runs a small C program against the installed pkg-config file,
# headers and library; checks that the GIR, typelib, VAPI and (when built)
# the Devhelp documentation are where GNOME tools look for them.
#   check-install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd); src=$(cd "$2" && pwd)
dest=$(mktemp -d); trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >/dev/null
prefix=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
libdir=$(meson introspect "$build" --buildoptions | /usr/bin/python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="libdir"][0])')
case "$libdir" in /*) ;; *) libdir="$prefix/$libdir" ;; esac
root="$dest$prefix"

pc=$(find "$dest" -name bayeux-glib-1.0.pc | head -n 1)
[ -n "$pc" ] || { echo "not ok: no bayeux-glib-1.0.pc installed"; exit 1; }
echo "pkg-config file: ${pc#$dest}"

# The files sit under $dest instead of $prefix: point the .pc file's prefix
# there, as a real install into that prefix would have it.
mkdir "$dest/pc"
sed "s|^prefix=.*|prefix=$root|" "$pc" > "$dest/pc/bayeux-glib-1.0.pc"
flags=$(PKG_CONFIG_PATH="$dest/pc" pkg-config --cflags --libs bayeux-glib-1.0)
case "$flags" in *"$dest"*) ;; *) echo "not ok: pkg-config flags do not point into the install: $flags"; exit 1 ;; esac
cc -std=gnu11 -Wall -Werror -o "$dest/smoke" "$src/tests/install/smoke.c" $flags
LD_LIBRARY_PATH="$dest$libdir" "$dest/smoke"

for f in "include/bayeux-glib-1.0/bayeux-glib/bayeux-glib.h" \
         "include/bayeux-glib-1.0/bayeux-glib/bayeux-enums.h" \
         "include/bayeux-glib-1.0/bayeux-glib/bayeux-version.h"; do
  [ -f "$root/$f" ] || { echo "not ok: $f not installed"; exit 1; }
done
if ls "$root"/include/bayeux-glib-1.0/bayeux-glib/*-private.h >/dev/null 2>&1; then
  echo "not ok: private headers installed"; exit 1
fi
if [ -f "$build/bayeux-glib/Bayeux-1.0.gir" ]; then
  [ -f "$root/share/gir-1.0/Bayeux-1.0.gir" ] || { echo "not ok: GIR not installed"; exit 1; }
  [ -n "$(find "$dest" -name Bayeux-1.0.typelib)" ] || { echo "not ok: typelib not installed"; exit 1; }
fi
if [ -n "$(find "$build" -name 'bayeux-glib-1.0.vapi' -print -quit)" ]; then
  [ -f "$root/share/vala/vapi/bayeux-glib-1.0.vapi" ] || { echo "not ok: VAPI not installed"; exit 1; }
  [ -f "$root/share/vala/vapi/bayeux-glib-1.0.deps" ] || { echo "not ok: VAPI .deps not installed"; exit 1; }
  # A Vala program against the installed VAPI (its .deps file included).
  PKG_CONFIG_PATH="$dest/pc" valac --vapidir "$root/share/vala/vapi" --pkg bayeux-glib-1.0 -X -w \
    -o "$dest/smoke-vala" "$src/tests/vala/test-vala.vala"
  LD_LIBRARY_PATH="$dest$libdir" "$dest/smoke-vala"
fi
if [ -d "$build/docs/bayeux-glib-1.0" ]; then
  [ -f "$root/share/doc/bayeux-glib-1.0/bayeux-glib-1.0.devhelp2" ] || { echo "not ok: Devhelp index not installed"; exit 1; }
fi
echo "ok: install into a prefix and build against pkg-config"
