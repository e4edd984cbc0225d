#!/bin/bash
# test.sh: every test of bayeux-glib, with all of its set-up, from a fresh
# Debian machine or an old checkout alike.
#
#   1. deps: scripts/deps.sh (Debian packages, the interop tests' npm packages)
#   2. build: the main build in _build, documentation and introspection on
#   3. variants, compiled only, where any warning fails: GCC release in
#      _build-release, GCC plain with Debian's hardening flags in
#      _build-plain, clang debug in _build-clang
#   4. test: all the suites of the main build (README.md lists them; meson
#      test -C _build --list): unit (in-process servers, WebSocket
#      included), interop against real Faye and CometD servers and peers,
#      Python and GJS through the typelib, Vala, tools, GTK, examples,
#      consumers, install, docs, fuzz-corpus, bench-quick
#   5. asan: an AddressSanitizer + UndefinedBehaviorSanitizer build in _build-asan
#      and its C suites; any sanitizer report fails
#   6. valgrind: the C unit suites and the fuzz corpus of the main build
#      under Valgrind (test setup 'valgrind' in meson.build)
#   7. fuzz: libFuzzer on the response parser for BAYEUX_FUZZ_SECONDS
#      (default 60)
#
# It prints the wall time of each stage and the total, and exits non-zero on
# any failure.
#
# Usage: scripts/test.sh
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -euo pipefail

case "${1:-}" in
  "") ;;
  -h|--help)
    sed -n '2,/^# Usage/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    echo "It takes no options (about 15–17 minutes on 2 cores)."
    exit 0
    ;;
  *)
    echo "test.sh: takes no options: “$*” ignored (see scripts/test.sh --help)" >&2
    ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

# The build folders (overridable, e.g. to keep a developer's own _build).
build=${BAYEUX_BUILDDIR:-_build}
asan_build=${BAYEUX_ASAN_BUILDDIR:-_build-asan}

total_start=$EPOCHREALTIME
stage_names=()
stage_times=()
current_stage=""
passed=0
failed=0
skipped=0

elapsed () {
  # seconds since $1 (an $EPOCHREALTIME value), with one decimal
  awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

report () {
  local rc=$?
  local i
  echo
  echo "=== stage times"
  for i in "${!stage_names[@]}"; do
    printf '  %-12s %8ss\n' "${stage_names[$i]}" "${stage_times[$i]}"
  done
  if [ -n "$current_stage" ]; then
    printf '  %-12s %8ss  (FAILED)\n' "$current_stage" "$(elapsed "$stage_start")"
  fi
  printf '  %-12s %8ss\n' total "$(elapsed "$total_start")"
  if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
  fi
  echo
  echo "Total: $passed passed, $failed failed, $skipped skipped"
  if [ "$rc" -ne 0 ]; then
    echo "test.sh: FAILED in stage '${current_stage:-?}' (exit $rc)" >&2
  else
    echo "test.sh: all stages passed"
  fi
}
trap report EXIT

begin () {
  current_stage=$1
  stage_start=$EPOCHREALTIME
  echo
  echo "=== $1"
}

end () {
  stage_names+=("$current_stage")
  stage_times+=("$(elapsed "$stage_start")")
  echo "--- $current_stage: $(elapsed "$stage_start")s"
  current_stage=""
}

# count the results in one of meson's testlog*.json files
count_results () {
  local log=$1
  local counts
  [ -f "$log" ] || return 0
  counts=$(python3 - "$log" <<'EOF'
import json, sys
ok = bad = skip = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        result = json.loads(line).get("result")
        if result in ("OK", "EXPECTEDFAIL"):
            ok += 1
        elif result == "SKIP":
            skip += 1
        else:
            bad += 1
print(ok, bad, skip)
EOF
  )
  read -r p f s <<< "$counts"
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
}

# meson setup DIR OPTIONS…: configure anew, or reconfigure an existing build
# folder, or wipe it when it cannot be reconfigured.
setup () {
  local dir=$1
  shift
  if [ -f "$dir/meson-private/coredata.dat" ]; then
    meson setup --reconfigure "$dir" "$@" \
      || meson setup --wipe "$dir" "$@"
  else
    rm -rf "$dir"
    meson setup "$dir" "$@"
  fi
}

run_tests () {
  local log=$1
  shift
  rm -f "$log"
  local rc=0
  meson test "$@" || rc=$?
  count_results "$log"
  return "$rc"
}

begin deps
scripts/deps.sh
end

begin build
setup "$build" -Ddocumentation=true -Dinterop=enabled
meson compile -C "$build"
end

# The builds packagers and users make, compiled only (no tests): GCC
# release (-O3), GCC plain with Debian's hardening flags in the environment
# (as dpkg-buildpackage and Flatpak pass their own CFLAGS), clang debug.
# -Dwerror=true: any warning fails. Introspection, Vala and documentation
# are off to save time (the main build covers them); the library, tests,
# examples, tools and bench programs are all compiled, and -Dinterop=enabled
# so that the interop tests' C programs are too (it needs node, not the npm
# packages: nothing runs). 53 to 160 s from scratch on 2 cores (measured
# with other builds running), seconds when nothing changed.
begin variants
variant_options=(
  -Dwerror=true
  -Dintrospection=disabled
  -Dvapi=disabled
  -Ddocumentation=false
  -Dinterop=enabled
)
setup _build-release --buildtype=release "${variant_options[@]}"
meson compile -C _build-release
(
  eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
  setup _build-plain --buildtype=plain "${variant_options[@]}"
)
meson compile -C _build-plain
CC=clang setup _build-clang --buildtype=debug "${variant_options[@]}"
meson compile -C _build-clang
end

begin test
run_tests "$build/meson-logs/testlog.json" -C "$build" --print-errorlogs
end

begin asan
setup "$asan_build" \
  -Db_sanitize=address,undefined \
  -Dintrospection=disabled \
  -Ddocumentation=false \
  -Dinterop=disabled
meson compile -C "$asan_build"
lsan_options=""
if [ -f scripts/lsan.supp ]; then
  lsan_options="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
fi
# fast_unwind_on_malloc=0: GLib is built without frame pointers, and a leak
# report whose stack ends in g_malloc() tells nothing. The 'install' suite
# checks packaging (the main build runs it): its program, built against the
# installed library without -fsanitize, cannot load an ASan library.
# intercept_tls_get_addr=0: LeakSanitizer's exit-time scan crashes ("Tracer
# caught signal 11") in any program that loaded GnuTLS (https:// through
# glib-networking), google/sanitizers#1322; the leak check still runs.
ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:intercept_tls_get_addr=0 \
LSAN_OPTIONS=$lsan_options \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
G_SLICE=always-malloc \
  run_tests "$asan_build/meson-logs/testlog.json" -C "$asan_build" --print-errorlogs \
    --no-suite install --timeout-multiplier 3
# A report from a child process, or one that did not end its process, must
# fail the run too.
if grep -E -n 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer)' \
     "$asan_build/meson-logs/testlog.txt"; then
  echo "test.sh: sanitizer reports in $asan_build/meson-logs/testlog.txt" >&2
  failed=$((failed + 1))
  exit 1
fi
end

begin valgrind
run_tests "$build/meson-logs/testlog-valgrind.json" \
  -C "$build" --setup valgrind --suite unit --suite fuzz --print-errorlogs
end

# libFuzzer on the parsing and checking of server responses, for a bounded
# time (BAYEUX_FUZZ_SECONDS, default 60); any crash, leak or sanitizer
# report fails.
begin fuzz
tests/fuzz/run-fuzz.sh "${BAYEUX_FUZZ_SECONDS:-60}"
end
