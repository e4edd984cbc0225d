#!/bin/bash
# run-fuzz.sh SECONDS: build tests/fuzz/fuzz-messages with clang and libFuzzer
# (-Dfuzzing=true, in its own build folder) and fuzz the parsing of server
# responses for SECONDS seconds, starting from a copy of the seed corpus.
#
# Prints the executions, executions per second and corpus size, and exits
# non-zero on any crash, leak, sanitizer report, timeout or out-of-memory;
# the input that caused it is saved under tests/fuzz/crashes/ (the
# 'fuzz-corpus' test replays that folder in the ordinary builds).
#
# Environment: BAYEUX_FUZZ_BUILDDIR (default _build-fuzz, in the source
# tree), BAYEUX_FUZZ_ARGS (more libFuzzer options, e.g. -seed=1),
# LSAN_OPTIONS (passed on: e.g. suppressions=FILE to look past a known,
# reported leak while it waits for its fix; see crashes/README.md).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

seconds=${1:-}
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 SECONDS" >&2
  exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BAYEUX_FUZZ_BUILDDIR:-_build-fuzz}
cd "$root"

# clang and its libFuzzer runtime (Debian: clang, libclang-rt-NN-dev).
have_libfuzzer () {
  command -v clang >/dev/null 2>&1 || return 1
  echo 'int LLVMFuzzerTestOneInput (const unsigned char *d, unsigned long n) { return 0; }' \
    | clang -x c -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1
}
if ! have_libfuzzer; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "run-fuzz.sh: installing clang and its libFuzzer runtime"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq clang >/dev/null
    major=$(clang -dumpversion | cut -d. -f1)
    apt-get install -y -qq "libclang-rt-$major-dev" >/dev/null || true
  fi
  if ! have_libfuzzer; then
    echo "run-fuzz.sh: clang with -fsanitize=fuzzer is needed (apt-get install clang libclang-rt-14-dev)" >&2
    exit 1
  fi
fi

options=(-Dfuzzing=true -Dintrospection=disabled -Ddocumentation=false -Dinterop=disabled -Db_lundef=false)
if [ -f "$build/meson-private/coredata.dat" ]; then
  meson setup --reconfigure "$build" "${options[@]}" >/dev/null \
    || { rm -rf "$build"; CC=clang meson setup "$build" "${options[@]}" >/dev/null; }
else
  rm -rf "$build"
  CC=clang meson setup "$build" "${options[@]}" >/dev/null
fi
if ! grep -q "^C compiler for the host machine: clang" "$build/meson-logs/meson-log.txt"; then
  echo "run-fuzz.sh: $build is not a clang build folder: remove it" >&2
  exit 1
fi
meson compile -C "$build" fuzz-messages

work=$(mktemp -d "${TMPDIR:-/tmp}/bayeux-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus" "$work/artifacts"
cp "$here"/corpus/* "$work/corpus/"
seeds=$(find "$work/corpus" -type f | wc -l)

log=$work/fuzz.log
rc=0
# detect_leaks: LeakSanitizer after every input that allocates more than it
# frees; fast_unwind_on_malloc=0 because GLib and json-glib are built without
# frame pointers (a leak report that stops at g_malloc() tells nothing);
# halt_on_error for UBSan so that a report is a crash.
ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
G_SLICE=always-malloc \
G_DEBUG=gc-friendly \
  "$build/tests/fuzz/fuzz-messages" \
    -max_total_time="$seconds" \
    -dict="$here/bayeux.dict" \
    -max_len=65536 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" \
    ${BAYEUX_FUZZ_ARGS:-} \
    "$work/corpus" >"$log" 2>&1 || rc=$?

grep -E '^(INFO: Seed|#[0-9]+ *(INITED|DONE))' "$log" || true
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
final=$(find "$work/corpus" -type f | wc -l)
echo "fuzz-messages: ${execs:-?} executions in ${seconds} s, ${speed:-?} exec/s, corpus ${seeds} seeds -> ${final} inputs"

artifacts=$(find "$work/artifacts" -type f)
if [ "$rc" -ne 0 ] || [ -n "$artifacts" ]; then
  # The report (the end of the log: libFuzzer stops at the first finding).
  grep -n -E 'ERROR: |SUMMARY: |runtime error:|^==[0-9]+==|ERROR|Test unit written' "$log" | head -n 40 >&2 || true
  tail -n 60 "$log" >&2
  if [ -n "$artifacts" ]; then
    mkdir -p "$here/crashes"
    for a in $artifacts; do
      cp "$a" "$here/crashes/"
      echo "run-fuzz.sh: reproducer saved as tests/fuzz/crashes/$(basename "$a")" \
           "(replay: $build/tests/fuzz/fuzz-messages tests/fuzz/crashes/$(basename "$a"))" >&2
    done
  fi
  echo "run-fuzz.sh: FAILED (libFuzzer exit $rc)" >&2
  exit 1
fi
echo "run-fuzz.sh: no crash, leak or sanitizer report"
