# test-examples.py: the examples, run against a real Faye server
# (tests/interop/faye-server.js).
#
#   test-examples.py BAYEUX_CHAT EXAMPLES_DIR
#
# First the three chat examples chat with each other: alice runs
# examples/chat.c (BAYEUX_CHAT), bob examples/chat.py, carol examples/chat.js.
# Each joins in turn; carol then types a line. Every client must print every
# join from its own on, and carol's line, in order, and then quit by itself
# (--count) after disconnecting, with status 0 and no error.
#
# Then examples/subscriptions.py and examples/subscriptions.js, one after the
# other (they use the same channel): each must print the same lines, in
# order (two handles get the first message, the cancelled one no more; what
# is published while paused comes only after "resuming", in order, with its
# publish ext), and quit by itself with status 0 and no error.
#
# Run by meson (examples/meson.build) with /usr/bin/python3, the build folder
# first in GI_TYPELIB_PATH and LD_LIBRARY_PATH, and BAYEUX_INTEROP_DIR set.
# Exits 77 (skipped) when Node, gjs or the interop packages are missing,
# unless BAYEUX_INTEROP_REQUIRED is set.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import queue
import shutil
import subprocess
import sys
import threading
import time

SKIP = 77
TIMEOUT = 30  # seconds for the whole conversation, and for each other example

# What examples/subscriptions.{py,js} print, line by line.
SUBSCRIPTIONS_OUTPUT = [
    "2 handles on /demo/stocks",
    'ticker: {"text":"one"} (trace 1)',
    'audit: {"text":"one"} (trace 1)',
    "audit cancelled, 1 handle left",
    'ticker: {"text":"two"} (trace 2)',
    "paused",
    "resuming",
    'ticker: {"text":"three"} (trace 3)',
    'ticker: {"text":"four"} (trace 4)',
    "ticker got 4 messages, audit 1",
]

INTEROP_DIR = os.environ.get("BAYEUX_INTEROP_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "interop")


def fail(why):
    print(f"test-examples: FAIL: {why}", file=sys.stderr)
    sys.exit(1)


class Process:
    """A child whose standard output lines are read as they come."""

    END = "<end of output>"

    def __init__(self, name, argv):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = queue.Queue()
        self.seen = []
        self.stderr = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append),
                         daemon=True).start()

    @staticmethod
    def _pump(stream, put):
        for line in stream:
            put(line.rstrip("\n"))
        put(None)

    def expect(self, wanted, deadline):
        """Waits for the next line on standard output to be wanted."""
        try:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            line = "<timed out>"
        if line is None:
            line = self.END
        self.seen.append(line)
        if line != wanted:
            self.dump()
            fail(f"{self.name}: expected {wanted!r}, got {line!r}")

    def expect_end(self, deadline):
        """Waits for standard output to end, with no more lines."""
        self.expect(self.END, deadline)

    def type(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def finish(self, deadline):
        try:
            rc = self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.dump()
            fail(f"{self.name} did not quit after its last message")
        time.sleep(0.1)  # let the readers drain
        errors = [line for line in self.stderr
                  if line and line.startswith(("error", "publish", "subscribe", "disconnect", "demo"))]
        if rc != 0 or errors:
            self.dump()
            fail(f"{self.name} exited with {rc}, errors: {errors}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def dump(self):
        print(f"--- {self.name}: stdout so far: {self.seen}", file=sys.stderr)
        print(f"--- {self.name}: stderr: {self.stderr}", file=sys.stderr)


def main():
    chat_c, examples = sys.argv[1], sys.argv[2]
    missing = None
    if shutil.which("node") is None:
        missing = "node is not on PATH"
    elif shutil.which("gjs") is None:
        missing = "gjs is not on PATH"
    elif not os.path.isdir(os.path.join(INTEROP_DIR, "node_modules")):
        missing = f"{INTEROP_DIR}/node_modules is missing (npm ci --prefix tests/interop)"
    if missing is not None:
        if os.environ.get("BAYEUX_INTEROP_REQUIRED"):
            fail(missing)
        print(f"test-examples: skipped: {missing}", file=sys.stderr)
        return SKIP

    server = subprocess.Popen(["node", os.path.join(INTEROP_DIR, "faye-server.js")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready = server.stdout.readline()
    if not ready.startswith("READY "):
        fail(f"faye-server.js said {ready!r}")
    url = f"http://127.0.0.1:{int(ready.split()[1])}/faye"

    clients = []
    try:
        deadline = time.monotonic() + TIMEOUT
        alice = Process("alice (C)", [chat_c, "--count", "4", url, "alice"])
        clients.append(alice)
        alice.expect("alice: has joined", deadline)

        bob = Process("bob (Python)", [sys.executable, os.path.join(examples, "chat.py"),
                                       "--count", "3", url, "bob"])
        clients.append(bob)
        bob.expect("bob: has joined", deadline)
        alice.expect("bob: has joined", deadline)

        carol = Process("carol (GJS)", ["gjs", "-m", os.path.join(examples, "chat.js"),
                                        "--count", "2", url, "carol"])
        clients.append(carol)
        for client in (carol, bob, alice):
            client.expect("carol: has joined", deadline)

        carol.type("hello from GJS, ünïcode too")
        for client in (carol, bob, alice):
            client.expect("carol: hello from GJS, ünïcode too", deadline)

        for client in clients:
            client.finish(deadline)

        for name, argv in (("subscriptions (Python)", [sys.executable, "subscriptions.py"]),
                           ("subscriptions (GJS)", ["gjs", "-m", "subscriptions.js"])):
            deadline = time.monotonic() + TIMEOUT
            example = Process(name, argv[:-1] + [os.path.join(examples, argv[-1]), url])
            clients.append(example)
            for line in SUBSCRIPTIONS_OUTPUT:
                example.expect(line, deadline)
            example.expect_end(deadline)
            example.finish(deadline)
    finally:
        for client in clients:
            client.kill()
        server.stdin.close()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    print("test-examples: alice (C), bob (Python) and carol (GJS) chatted through Faye")
    print("test-examples: subscriptions.py and subscriptions.js printed what they should")
    return 0


if __name__ == "__main__":
    sys.exit(main())
