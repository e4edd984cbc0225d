# test-cli.py: the bayeux command-line tool, run as a user runs it.
#
# Against real Faye and CometD servers (tests/interop/faye-server.js and
# cometd-server.js, started on free loopback ports): a subscribe process and
# a publish process exchange messages; refused channels; bad JSON on
# standard input; info; --timeout. Against a small Bayeux server of this
# test's own (HTTP and HTTPS, with tests/tls): --header, --ext, --cacert,
# --insecure. On its own: usage errors, --version, --help, the man page.
#
# Run by meson (tests/tools/meson.build) with /usr/bin/python3 and
#   BAYEUX_TOOL         the built tool
#   BAYEUX_INTEROP_DIR  tests/interop (the server scripts, node_modules)
#   BAYEUX_TLS_DIR      tests/tls (test certificates)
#   BAYEUX_MAN_PAGE     the built bayeux.1, when help2man was found
# Without Node or the interop packages, the tests against Faye and CometD
# are skipped (they fail if BAYEUX_INTEROP_REQUIRED is set); the others run.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import http.server
import json
import os
import queue
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest

TOOL = os.environ.get("BAYEUX_TOOL", "bayeux")
INTEROP_DIR = os.environ.get("BAYEUX_INTEROP_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "interop")
TLS_DIR = os.environ.get("BAYEUX_TLS_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tls")
MAN_PAGE = os.environ.get("BAYEUX_MAN_PAGE")

RUN_TIMEOUT = 30      # seconds any one bayeux process may take
START_TIMEOUT = 15    # seconds for a server script to print READY


def run(args, stdin_text=None, timeout=RUN_TIMEOUT):
    """Runs bayeux ARGS to its end; returns the CompletedProcess."""
    return subprocess.run([TOOL] + args, input=stdin_text, capture_output=True,
                          text=True, encoding="utf-8", timeout=timeout)


def free_port():
    """A loopback port that nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A bayeux process whose output lines are read as they come."""

    def __init__(self, args, stdin_text=None):
        self.args = args
        self.proc = subprocess.Popen([TOOL] + args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, encoding="utf-8")
        self.stdout = queue.Queue()
        self.stdout_lines = []
        self.stderr_lines = []
        self.stderr_changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._pump_stdout, daemon=True),
            threading.Thread(target=self._pump_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        if stdin_text is not None:
            self.proc.stdin.write(stdin_text)
        self.proc.stdin.close()

    def _pump_stdout(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            self.stdout_lines.append(line)
            self.stdout.put(line)
        self.stdout.put(None)

    def _pump_stderr(self):
        for line in self.proc.stderr:
            with self.stderr_changed:
                self.stderr_lines.append(line.rstrip("\n"))
                self.stderr_changed.notify_all()
        with self.stderr_changed:
            self.stderr_lines.append(None)
            self.stderr_changed.notify_all()

    @property
    def stderr(self):
        return "\n".join(line for line in self.stderr_lines if line is not None)

    def wait_stderr(self, prefix, count=1, timeout=RUN_TIMEOUT):
        """Waits until COUNT lines of standard error start with PREFIX."""
        deadline = time.monotonic() + timeout

        def seen():
            return sum(1 for line in self.stderr_lines
                       if line is not None and line.startswith(prefix))

        with self.stderr_changed:
            while seen() < count:
                left = deadline - time.monotonic()
                if left <= 0 or None in self.stderr_lines:
                    return False
                self.stderr_changed.wait(left)
        return True

    def next_line(self, timeout=RUN_TIMEOUT):
        """The next line of standard output, or None at its end or after TIMEOUT."""
        try:
            return self.stdout.get(timeout=timeout)
        except queue.Empty:
            return None

    def finish(self, timeout=RUN_TIMEOUT):
        """Waits for the process to exit; returns its status (kills it after TIMEOUT)."""
        try:
            status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"bayeux {' '.join(self.args)} did not exit; "
                                 f"stdout: {self.stdout_lines}, stderr: {self.stderr}")
        self._close()
        return status

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def _close(self):
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if not stream.closed:
                stream.close()


class NodeServer:
    """tests/interop/<kind>-server.js on a free loopback port."""

    def __init__(self, kind):
        self.proc = subprocess.Popen(["node", os.path.join(INTEROP_DIR, f"{kind}-server.js")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        lines = queue.Queue()
        threading.Thread(target=lambda: lines.put(self.proc.stdout.readline()),
                         daemon=True).start()
        try:
            ready = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            ready = "<nothing>"
        if not ready.startswith("READY "):
            self.stop()
            raise RuntimeError(f"{kind}-server.js said {ready!r} instead of READY <port>")
        self.port = int(ready.split()[1])
        # Nothing more is read: the scripts print only when asked (STATS).

    def stop(self):
        # The scripts exit on stdin EOF; SIGKILL if they do not.
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (subprocess.TimeoutExpired, OSError):
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class FakeBayeux(http.server.ThreadingHTTPServer):
    """A small Bayeux server that answers everything successfully, records
    each request's headers and messages, and offers an ext and a made-up
    connection type in its handshake reply; HTTPS with CERT and KEY."""

    daemon_threads = True
    HANDSHAKE_EXT = {"fake": {"greeting": "hello", "n": 1}}

    def __init__(self, cert=None, key=None, refuse_handshakes=0):
        super().__init__(("127.0.0.1", 0), FakeBayeuxHandler)
        self.requests = []   # (headers, messages)
        self.refuse_handshakes = refuse_handshakes   # refused before one is accepted
        self.lock = threading.Lock()
        if cert is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.socket = context.wrap_socket(self.socket, server_side=True)
        self.url = f"{'https' if cert else 'http'}://127.0.0.1:{self.server_address[1]}/bayeux"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def handle_error(self, request, client_address):
        pass   # refused TLS handshakes, connections the client dropped

    def stop(self):
        self.shutdown()
        self.server_close()


class FakeBayeuxHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        messages = json.loads(body)
        with self.server.lock:
            self.server.requests.append((self.headers, messages))
        replies = []
        for message in messages:
            reply = {"channel": message["channel"], "successful": True}
            if "id" in message:
                reply["id"] = message["id"]
            if message["channel"] == "/meta/handshake" and self.server.refuse_handshakes > 0:
                with self.server.lock:
                    self.server.refuse_handshakes -= 1
                reply.update(successful=False, error="401::Not yet",
                             advice={"reconnect": "handshake", "interval": 0},
                             supportedConnectionTypes=["refused-polling"])
            elif message["channel"] == "/meta/handshake":
                reply.update(version="1.0", clientId="fake-client-1",
                             supportedConnectionTypes=["long-polling", "fake-polling"],
                             advice={"reconnect": "retry", "interval": 0, "timeout": 1000},
                             ext=FakeBayeux.HANDSHAKE_EXT)
            else:
                reply["clientId"] = message.get("clientId")
            if message["channel"] == "/meta/connect" and message.get("advice", {}).get("timeout") != 0:
                time.sleep(0.5)   # a short long poll
            replies.append(reply)
        data = json.dumps(replies).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# -------------------------------------------------------------------------
# Against the real servers

class RealServerTests:
    """The tests for one server script; subclasses name it."""

    KIND = None
    MOUNT = None
    # What the server says when it refuses /forbidden/x.
    REFUSED_SUBSCRIBE = None
    REFUSED_PUBLISH = None
    # The transport the client ends up on, by default.
    TRANSPORT = None

    @classmethod
    def setUpClass(cls):
        cls.server = NodeServer(cls.KIND)
        cls.addClassCleanup(cls.server.stop)
        cls.url = f"http://127.0.0.1:{cls.server.port}{cls.MOUNT}"

    def channel(self, name):
        return f"/cli/{self.KIND}/{self._testMethodName}/{name}"

    def subscriber(self, *args):
        """A running `bayeux subscribe --verbose ARGS…`, once subscribed."""
        channels = [arg for arg in args if arg.startswith("/")]
        sub = Process(["subscribe", "--verbose", "--timeout", "20"] + list(args))
        self.addCleanup(sub.kill)
        if not sub.wait_stderr("bayeux: subscribed to ", len(channels)):
            sub.kill()
            self.fail(f"the subscriber did not subscribe; stderr: {sub.stderr}")
        return sub

    def check_messages(self, sub, channel, data):
        status = sub.finish()
        self.assertEqual(status, 0, sub.stderr)
        got = []
        for line in sub.stdout_lines:
            message = json.loads(line)
            self.assertEqual(json.dumps(message, separators=(",", ":"), ensure_ascii=False), line,
                             "one compact JSON object a line")
            self.assertLessEqual(set(message), {"channel", "data", "id"})
            self.assertIsInstance(message.get("id", ""), str)
            self.assertEqual(message["channel"], channel)
            got.append(message["data"])
        self.assertEqual(got, data)

    def test_exchange(self):
        """A subscriber with --count 3 gets the 3 lines a publisher reads."""
        channel = self.channel("chat")
        secret = "s3cret-token-do-not-print"
        sub = self.subscriber("--count", "3", "--ext", json.dumps({"token": secret}),
                              self.url, channel)
        data = [{"n": 1, "text": "first"}, {"n": 2, "text": "h\u00e9llo \u2603"}, [3, None, True]]
        lines = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in data)

        pub = run(["publish", self.url, channel], lines)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.assertEqual(pub.stderr, "")
        self.assertEqual(pub.stdout, "")
        self.check_messages(sub, channel, data)
        # --verbose dumps the wire, the handshake's ext redacted.
        self.assertIn(">>> ", sub.stderr)
        self.assertIn("[redacted]", sub.stderr)
        self.assertNotIn(secret, sub.stderr)
        self.assertIn("bayeux: disconnected", sub.stderr)

    def test_each_line_flushed(self):
        """Each message is printed when it arrives, not when bayeux exits;
        wildcards; publish with a JSON argument."""
        base = self.channel("wild")
        sub = self.subscriber("--count", "2", self.url, base + "/*")

        pub = run(["publish", "--verbose", self.url, base + "/a", '{"first": 1}'])
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.assertIn("/meta/disconnect", pub.stderr)
        self.assertIn("bayeux: disconnected", pub.stderr)
        line = sub.next_line()
        self.assertIsNotNone(line, f"no line while running; stderr: {sub.stderr}")
        self.assertEqual(json.loads(line)["data"], {"first": 1})
        self.assertIsNone(sub.proc.poll(), "the subscriber waits for its second message")

        pub = run(["publish", self.url, base + "/b", '"second"'])
        self.assertEqual(pub.returncode, 0, pub.stderr)
        self.assertEqual(sub.finish(), 0, sub.stderr)
        self.assertEqual([json.loads(line)["channel"] for line in sub.stdout_lines],
                         [base + "/a", base + "/b"])

    def test_negative_json_after_separator(self):
        """`publish URL CHANNEL -- -1`: the "--" ends the options, -1 is the
        JSON (GOptionContext leaves that "--" in place)."""
        channel = self.channel("numbers")
        sub = self.subscriber("--count", "3", self.url, channel)
        for args in [["publish", self.url, channel, "--", "-1"],
                     ["publish", "--verbose", self.url, channel, "--", "-2.5"],
                     ["--", "publish", self.url, channel, "-3"]]:
            pub = run(args)
            self.assertEqual(pub.returncode, 0, (args, pub.stderr))
            self.assertNotIn("Unknown option", pub.stderr)
        self.check_messages(sub, channel, [-1, -2.5, -3])

    def test_subscribe_refused(self):
        result = run(["subscribe", self.url, "/forbidden/x"])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("/forbidden/x", result.stderr)
        self.assertIn(self.REFUSED_SUBSCRIBE, result.stderr)
        self.assertEqual(result.stdout, "")

    def test_publish_refused(self):
        result = run(["publish", self.url, "/forbidden/x", '{"a": 1}'])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("/forbidden/x", result.stderr)
        self.assertIn(self.REFUSED_PUBLISH, result.stderr)

    def test_publish_refused_from_stdin(self):
        result = run(["publish", self.url, "/forbidden/x"], '{"a": 1}\n{"a": 2}\n')
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("line 1: ", result.stderr)
        self.assertIn("line 2: ", result.stderr)
        self.assertIn(self.REFUSED_PUBLISH, result.stderr)

    def test_bad_json_line(self):
        """Line 2 of 3 is not JSON: it is named, the others go out, status 5."""
        channel = self.channel("lines")
        sub = self.subscriber("--count", "2", self.url, channel)

        pub = run(["publish", self.url, channel], '{"n": 1}\n\n{"n": oops}\n{"n": 3}\n')
        self.assertEqual(pub.returncode, 5, pub.stderr)
        self.assertRegex(pub.stderr, r"^bayeux: line 3: ")
        self.assertEqual(len(pub.stderr.splitlines()), 1, pub.stderr)
        self.check_messages(sub, channel, [{"n": 1}, {"n": 3}])

        # The same, line 2 of 3 with no empty line: the numbers are lines of
        # the input, empty ones counted.
        sub = self.subscriber("--count", "2", self.url, channel)
        pub = run(["publish", self.url, channel], '{"n": 1}\n[1, 2\n{"n": 3}')
        self.assertEqual(pub.returncode, 5, pub.stderr)
        self.assertRegex(pub.stderr, r"^bayeux: line 2: ")
        self.assertNotIn("line 1", pub.stderr)
        self.assertNotIn("line 3", pub.stderr)
        self.check_messages(sub, channel, [{"n": 1}, {"n": 3}])

    def test_info(self):
        """info prints the handshake reply the client got through its
        meta::/meta/handshake signal, also with --verbose (standard output
        stays one JSON document)."""
        for args in [["info", self.url], ["info", "--verbose", self.url]]:
            result = run(args)
            self.assertEqual(result.returncode, 0, result.stderr)
            info = json.loads(result.stdout)
            self.assertEqual(info["version"], "1.0")
            self.assertIn("long-polling", info["supportedConnectionTypes"])
            self.assertIsInstance(info["clientId"], str)
            self.assertNotEqual(info["clientId"], "")
            self.assertIsInstance(info["advice"], dict)
            self.assertIn("reconnect", info["advice"])
            # Faye offers a WebSocket (taken by default); cometd-nodejs-server does not.
            self.assertEqual(info["transport"], self.TRANSPORT)
            self.assertEqual(info["url"], self.url)
            # The reply's own bookkeeping is left out.
            self.assertFalse({"channel", "successful", "id"} & set(info), info)
            self.assertNotIn("warning", result.stderr)
        # The clientId printed is the one the client used (the --verbose dump).
        self.assertIn(info["clientId"], result.stderr)

    def test_transport_forced(self):
        """--transport long-polling: never a WebSocket; --transport websocket on a
        server without one: no connection (exit 4)."""
        result = run(["info", "--transport", "long-polling", self.url])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["transport"], "long-polling")
        result = run(["info", "--transport", "websocket", "--connect-timeout", "3", self.url])
        if self.TRANSPORT == "websocket":
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(json.loads(result.stdout)["transport"], "websocket")
        else:
            self.assertEqual(result.returncode, 4, result.stderr)

    def test_server_gone(self):
        """The server goes away: the subscriber gives up after --connect-timeout."""
        server = NodeServer(self.KIND)
        self.addCleanup(server.stop)
        url = f"http://127.0.0.1:{server.port}{self.MOUNT}"
        sub = self.subscriber("--connect-timeout", "2", url, self.channel("gone"))

        server.stop()
        start = time.monotonic()
        status = sub.finish()
        elapsed = time.monotonic() - start
        self.assertEqual(status, 4, sub.stderr)
        self.assertIn(f"bayeux: {url}: connection lost for 2 s: ", sub.stderr)
        self.assertGreaterEqual(elapsed, 1.5)
        self.assertLess(elapsed, 8.0)

    def test_timeout(self):
        start = time.monotonic()
        result = run(["subscribe", "--timeout", "1", self.url, self.channel("quiet")])
        elapsed = time.monotonic() - start
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("no message within 1 s", result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertGreaterEqual(elapsed, 1.0)
        self.assertLess(elapsed, 4.0)


class FayeTests(RealServerTests, unittest.TestCase):
    KIND = "faye"
    MOUNT = "/faye"
    TRANSPORT = "websocket"
    REFUSED_SUBSCRIBE = "403::Forbidden channel"
    REFUSED_PUBLISH = "403::Forbidden channel"


class CometDTests(RealServerTests, unittest.TestCase):
    KIND = "cometd"
    MOUNT = "/cometd"
    TRANSPORT = "long-polling"
    REFUSED_SUBSCRIBE = "403::subscribe_denied"
    REFUSED_PUBLISH = "403::publish_denied"


# -------------------------------------------------------------------------
# Against a server of our own: headers, ext, TLS

class FakeServerTests(unittest.TestCase):

    def server(self, cert=None, key=None):
        server = FakeBayeux(cert, key)
        self.addCleanup(server.stop)
        return server

    def test_headers_and_ext(self):
        server = self.server()
        result = run(["info", "--header", "X-Bayeux-Test: one", "-H", "X-Bayeux-Test:two",
                      "-H", "Authorization:Bearer t0ken", "--ext", '{"token": "abc"}', server.url])
        self.assertEqual(result.returncode, 0, result.stderr)
        info = json.loads(result.stdout)
        self.assertEqual(info["ext"], FakeBayeux.HANDSHAKE_EXT)
        self.assertEqual(info["supportedConnectionTypes"], ["long-polling", "fake-polling"])
        self.assertEqual(info["clientId"], "fake-client-1")

        channels = [messages[0]["channel"] for _, messages in server.requests]
        self.assertEqual(channels[0], "/meta/handshake")
        self.assertIn("/meta/disconnect", channels)
        for headers, _ in server.requests:
            # A name given twice is sent once, its values as a list.
            self.assertEqual(headers.get_all("X-Bayeux-Test"), ["one, two"])
            self.assertEqual(headers.get("Authorization"), "Bearer t0ken")
        self.assertEqual(server.requests[0][1][0]["ext"], {"token": "abc"})

    def test_info_after_refused_handshake(self):
        """info shows the handshake reply that was accepted, not a refused one
        before it (the client handshakes again, per the advice)."""
        server = FakeBayeux(refuse_handshakes=1)
        self.addCleanup(server.stop)
        result = run(["info", server.url])
        self.assertEqual(result.returncode, 0, result.stderr)
        info = json.loads(result.stdout)
        self.assertEqual(info["clientId"], "fake-client-1")
        self.assertEqual(info["supportedConnectionTypes"], ["long-polling", "fake-polling"])
        self.assertNotIn("error", info)
        handshakes = [m for _, messages in server.requests for m in messages
                      if m["channel"] == "/meta/handshake"]
        self.assertEqual(len(handshakes), 2)

    def test_separator(self):
        """A JSON argument that starts with a dash goes after "--"."""
        server = self.server()
        for args, data in [(["publish", server.url, "/numbers", "--", "-1"], -1),
                           (["publish", "-v", server.url, "/numbers", "--", "-7e2"], -700),
                           (["publish", server.url, "/numbers", "--", "3"], 3)]:
            del server.requests[:]
            result = run(args)
            self.assertEqual(result.returncode, 0, (args, result.stderr))
            published = [m for _, messages in server.requests for m in messages
                         if m["channel"] == "/numbers"]
            self.assertEqual([m["data"] for m in published], [data], args)
        # Without "--", -1 is an option (a usage error); a second "--" is an
        # argument, and not JSON.
        result = run(["publish", server.url, "/numbers", "-1"])
        self.assertEqual(result.returncode, 1, result.stderr)
        result = run(["publish", server.url, "/numbers", "--", "--"])
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertIn("the JSON argument", result.stderr)

    def test_bad_header(self):
        for header in ["no-colon", ":value", "bad name:x", "X-A:line\nbreak"]:
            result = run(["info", "-H", header, "http://127.0.0.1:1/bayeux"])
            self.assertEqual(result.returncode, 1, (header, result.stderr))
            self.assertIn("--header", result.stderr)

    def test_cacert(self):
        server = self.server(os.path.join(TLS_DIR, "server.pem"),
                             os.path.join(TLS_DIR, "server-key.pem"))
        result = run(["info", "--cacert", os.path.join(TLS_DIR, "ca.pem"), server.url])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["clientId"], "fake-client-1")
        self.assertEqual(result.stderr, "")

    def test_untrusted_certificate(self):
        server = self.server(os.path.join(TLS_DIR, "server.pem"),
                             os.path.join(TLS_DIR, "server-key.pem"))
        start = time.monotonic()
        result = run(["info", server.url])
        self.assertEqual(result.returncode, 4, result.stderr)
        self.assertIn("TLS certificate", result.stderr)
        self.assertIn("--cacert", result.stderr)
        self.assertLess(time.monotonic() - start, 5.0, "no retrying a certificate that does not verify")
        self.assertEqual(server.requests, [])

    def test_insecure(self):
        server = self.server(os.path.join(TLS_DIR, "self-signed.pem"),
                             os.path.join(TLS_DIR, "self-signed-key.pem"))
        result = run(["info", "--insecure", server.url])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout)["clientId"], "fake-client-1")
        self.assertIn("warning: --insecure", result.stderr)

    def test_cacert_missing(self):
        result = run(["info", "--cacert", os.path.join(TLS_DIR, "no-such.pem"), "https://127.0.0.1:1/"])
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("--cacert", result.stderr)


# -------------------------------------------------------------------------
# On its own

class OfflineTests(unittest.TestCase):

    def test_version(self):
        result = run(["--version"])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout.splitlines()[0], r"^bayeux \(bayeux-glib\) \d+\.\d+\.\d+$")

    def test_help(self):
        result = run(["--help"])
        self.assertEqual(result.returncode, 0, result.stderr)
        text = result.stdout
        for wanted in ["Usage: bayeux subscribe [OPTION...] URL CHANNEL...",
                       "bayeux publish [OPTION...] URL CHANNEL [JSON]",
                       "bayeux info [OPTION...] URL",
                       "Options:", "Commands:", "Exit status:", "Examples:",
                       "--count", "--timeout", "--connect-timeout", "--transport", "--header",
                       "--ext", "--cacert", "--insecure", "--verbose", "--version", "--help"]:
            self.assertIn(wanted, text)
        for status in range(6):
            self.assertRegex(text, rf"(?m)^  {status}   \S")
        self.assertTrue(text.isascii())
        self.assertEqual(run(["-h"]).stdout, text)

    def test_usage_errors(self):
        for args in [[], ["frobnicate", "http://127.0.0.1:1/"], ["info"],
                     ["info", "ftp://127.0.0.1/x"], ["info", "not a url"],
                     ["subscribe", "http://127.0.0.1:1/"],
                     ["subscribe", "http://127.0.0.1:1/", "no-slash"],
                     ["subscribe", "http://127.0.0.1:1/", "/meta/connect"],
                     ["publish", "http://127.0.0.1:1/", "/a/*", "1"],
                     ["publish", "http://127.0.0.1:1/", "/a", "1", "2"],
                     ["publish", "--count", "1", "http://127.0.0.1:1/", "/a", "1"],
                     ["info", "--no-such-option", "http://127.0.0.1:1/"],
                     ["subscribe", "--count", "-1", "http://127.0.0.1:1/", "/a"]]:
            result = run(args)
            self.assertEqual(result.returncode, 1, (args, result.stderr))
            self.assertTrue(result.stderr.startswith("bayeux: "), (args, result.stderr))
            self.assertEqual(result.stdout, "")

    def test_transport(self):
        for names in ["carrier-pigeon", "websocket,carrier-pigeon", ""]:
            result = run(["info", "--transport", names, "http://127.0.0.1:1/"])
            self.assertEqual(result.returncode, 1, (names, result.stderr))
            self.assertIn("websocket", result.stderr)
            self.assertIn("long-polling", result.stderr)

    def test_bad_json_arguments(self):
        result = run(["publish", "http://127.0.0.1:1/", "/a", '{"a":'])
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertIn("JSON", result.stderr)
        for ext in ['{"a":', '[1]']:
            result = run(["info", "--ext", ext, "http://127.0.0.1:1/"])
            self.assertEqual(result.returncode, 5, result.stderr)
            self.assertIn("--ext", result.stderr)

    def test_json_error_position(self):
        """JSON errors name the line (of standard input, or of a JSON
        argument of several lines), not json-glib's column (that of the
        token's end: "not json" at column 3)."""
        url = f"http://127.0.0.1:{free_port()}/faye"
        result = run(["publish", url, "/a", "not json"])
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertEqual(result.stderr,
                         "bayeux: the JSON argument: unexpected identifier `not', expected value\n")
        result = run(["publish", url, "/a", '{"a":\n  oops}'])
        self.assertEqual(result.returncode, 5, result.stderr)
        self.assertEqual(result.stderr,
                         "bayeux: the JSON argument: line 2: unexpected identifier `oops', expected value\n")
        result = run(["publish", "--connect-timeout", "1", url, "/a"], 'not json\n\n{"n": oops}\n')
        self.assertEqual(result.returncode, 5, result.stderr)
        errors = [line for line in result.stderr.splitlines() if not line.startswith(f"bayeux: {url}")]
        self.assertEqual(errors, ["bayeux: line 1: unexpected identifier `not', expected value",
                                  "bayeux: line 3: unexpected identifier `oops', expected value"])
        self.assertNotIn("column", result.stderr)
        self.assertNotIn("<data>", result.stderr)

    def test_connection_refused(self):
        url = f"http://127.0.0.1:{free_port()}/faye"
        for args in [["info", url], ["subscribe", url, "/a"], ["publish", url, "/a", "1"]]:
            start = time.monotonic()
            result = run(["--connect-timeout", "1"] + args)
            elapsed = time.monotonic() - start
            self.assertEqual(result.returncode, 4, (args, result.stderr))
            self.assertIn("not connected after 1 s", result.stderr)
            self.assertIn("onnect", result.stderr)   # the last error: "Could not connect…"
            self.assertLess(elapsed, 5.0)

    def test_man_page(self):
        if shutil.which("help2man") is None:
            self.skipTest("help2man is not installed: no man page is built")
        self.assertTrue(MAN_PAGE, "BAYEUX_MAN_PAGE is not set although help2man is installed")
        self.assertTrue(os.path.isfile(MAN_PAGE), f"{MAN_PAGE} was not built")
        with open(MAN_PAGE, encoding="utf-8") as f:
            page = f.read()
        self.assertRegex(page, r'(?m)^\.TH BAYEUX "1"')
        for section in ["NAME", "SYNOPSIS", "OPTIONS", "COMMANDS", '"EXIT STATUS"', "EXAMPLES"]:
            self.assertRegex(page, rf"(?m)^\.SH {section}$")
        self.assertIn("subscribe", page)
        self.assertIn("\\-\\-connect\\-timeout", page)


def missing_prerequisite():
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not os.path.isdir(os.path.join(INTEROP_DIR, "node_modules")):
        return f"{INTEROP_DIR}/node_modules is missing (npm ci --prefix tests/interop)"
    return None


if __name__ == "__main__":
    missing = missing_prerequisite()
    if missing is not None:
        if os.environ.get("BAYEUX_INTEROP_REQUIRED"):
            print(f"test-cli: FAIL: {missing}", file=sys.stderr)
            sys.exit(1)
        print(f"test-cli: the tests against Faye and CometD are skipped: {missing}", file=sys.stderr)
        unittest.skip(missing)(FayeTests)
        unittest.skip(missing)(CometDTests)
    unittest.main(verbosity=2)
