#!/usr/bin/python3
# run-snippet.py: runs one getting-started program of docs/snippets/
# against a real Faye server (tests/interop/faye-server.js), as the
# "Getting started" page tells a reader to:
#
#   run-snippet.py LANGUAGE PROGRAM
#
# LANGUAGE is c (PROGRAM: the built executable), python (the .py file, run
# with this Python) or gjs (the .js file, run with gjs -m). The program gets
# the server's URL as its argument; it must print
#   received "Hello from <C|Python|GJS>" on /hello
# and exit with status 0 within TIMEOUT seconds, printing nothing on
# standard error.
#
# Exits 77 (skipped) when Node, gjs or the interop packages are missing,
# unless BAYEUX_INTEROP_REQUIRED is set.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import subprocess
import sys

SKIP = 77
TIMEOUT = 30

INTEROP_DIR = os.environ.get("BAYEUX_INTEROP_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "interop")

NAMES = {"c": "C", "python": "Python", "gjs": "GJS"}


def fail(why):
    print(f"run-snippet: FAIL: {why}", file=sys.stderr)
    sys.exit(1)


def main():
    language, program = sys.argv[1], sys.argv[2]
    if language not in NAMES:
        fail(f"unknown language {language}")

    missing = None
    if shutil.which("node") is None:
        missing = "node is not on PATH"
    elif language == "gjs" and shutil.which("gjs") is None:
        missing = "gjs is not on PATH"
    elif not os.path.isdir(os.path.join(INTEROP_DIR, "node_modules")):
        missing = f"{INTEROP_DIR}/node_modules is missing (npm ci --prefix tests/interop)"
    if missing is not None:
        if os.environ.get("BAYEUX_INTEROP_REQUIRED"):
            fail(missing)
        print(f"run-snippet: skipped: {missing}", file=sys.stderr)
        return SKIP

    server = subprocess.Popen(["node", os.path.join(INTEROP_DIR, "faye-server.js")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ready = server.stdout.readline()
        if not ready.startswith("READY "):
            fail(f"faye-server.js said {ready!r}")
        url = f"http://127.0.0.1:{int(ready.split()[1])}/faye"

        argv = {
            "c": [program, url],
            "python": [sys.executable, program, url],
            "gjs": ["gjs", "-m", program, url],
        }[language]
        print(f"run-snippet: {' '.join(argv)}")
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            fail(f"still running after {TIMEOUT} s; stdout: {e.stdout!r}, stderr: {e.stderr!r}")

        expected = f'received "Hello from {NAMES[language]}" on /hello'
        lines = done.stdout.splitlines()
        if done.returncode != 0 or lines != [expected] or done.stderr.strip():
            fail(f"exit status {done.returncode}, stdout {lines!r} (expected {[expected]!r}), "
                 f"stderr {done.stderr!r}")
        print(f"run-snippet: {expected}")
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
