# test-py-client.py: bayeux-glib through PyGObject and the Bayeux-1.0
# typelib, against a real Faye server (tests/interop/faye-server.js).
#
# Run by meson (suite 'python') with /usr/bin/python3, the build folder first
# in GI_TYPELIB_PATH and LD_LIBRARY_PATH, and BAYEUX_INTEROP_DIR pointing at
# tests/interop. Exits 77 (skipped) when Node or the interop packages are
# missing, unless BAYEUX_INTEROP_REQUIRED is set.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import gc
import json
import os
import selectors
import shutil
import subprocess
import sys
import time
import unittest

import gi

gi.require_version("GLib", "2.0")
gi.require_version("GObject", "2.0")
gi.require_version("Json", "1.0")
gi.require_version("Bayeux", "1.0")
from gi.repository import Bayeux, GLib, GObject, Json  # noqa: E402

SKIP = 77
TIMEOUT = 20  # seconds for one test's main loop
CHANNEL = "/gi/test"

INTEROP_DIR = os.environ.get("BAYEUX_INTEROP_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "interop")


def interop_missing():
    """Why the Faye server cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not os.path.isdir(os.path.join(INTEROP_DIR, "node_modules")):
        return f"{INTEROP_DIR}/node_modules is missing (npm ci --prefix tests/interop)"
    return None


class FayeServer:
    """tests/interop/faye-server.js on a free loopback port. It exits when
    its standard input closes, so it cannot outlive this process."""

    def __init__(self):
        self.proc = subprocess.Popen(
            ["node", os.path.join(INTEROP_DIR, "faye-server.js")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        port = None
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + 30
            while port is None and time.monotonic() < deadline:
                if not sel.select(timeout=deadline - time.monotonic()):
                    break
                line = self.proc.stdout.readline()
                if not line:
                    break
                if line.startswith("READY "):
                    port = int(line.split()[1])
        if port is None:
            self.stop()
            raise RuntimeError("faye-server.js did not print READY")
        self.url = f"http://127.0.0.1:{port}/faye"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(timeout=5)
        self.proc.stdout.close()


def to_python(node):
    return json.loads(Json.to_string(node, False))


def from_python(value):
    return Json.from_string(json.dumps(value))


class TestNames(unittest.TestCase):
    """What the bindings see of the API, without a server."""

    def test_state_enum(self):
        self.assertEqual(Bayeux.ClientState.DISCONNECTED.value_nick, "disconnected")
        self.assertEqual(Bayeux.ClientState.HANDSHAKING.value_nick, "handshaking")
        self.assertEqual(Bayeux.ClientState.CONNECTED.value_nick, "connected")
        self.assertEqual(Bayeux.ClientState.UNCONNECTED.value_nick, "unconnected")
        self.assertEqual(Bayeux.ClientState.DISCONNECTING.value_nick, "disconnecting")

    def test_error_domain(self):
        quark = Bayeux.error_quark()
        self.assertNotEqual(quark, 0)
        self.assertEqual(GLib.quark_to_string(quark), "bayeux-error-quark")
        for code in ("FAILED", "HANDSHAKE_DENIED", "UNKNOWN_CLIENT", "REFUSED", "BAD_RESPONSE",
                     "MESSAGE_TOO_LARGE", "TIMEOUT", "DISCONNECTED", "HTTP", "INVALID_CHANNEL"):
            self.assertTrue(hasattr(Bayeux.Error, code), code)

    def test_properties(self):
        client = Bayeux.Client.new("http://127.0.0.1:9/faye")
        self.assertEqual(client.props.url, "http://127.0.0.1:9/faye")
        self.assertEqual(client.props.state, Bayeux.ClientState.DISCONNECTED)
        self.assertIsNone(client.props.client_id)
        self.assertEqual(client.props.transport, "long-polling")
        self.assertEqual(list(client.props.transports), ["websocket", "long-polling"])
        client.props.transports = ["long-polling"]
        self.assertEqual(list(client.get_transports()), ["long-polling"])
        client.set_transports(["websocket", "long-polling"])
        self.assertEqual(list(client.props.transports), ["websocket", "long-polling"])
        self.assertEqual(client.props.max_network_delay, 10000)
        # Auth from bindings: a handshake ext (a token), replaceable, and headers.
        client.props.handshake_ext = Json.from_string('{"auth": {"token": "t1"}}')
        client.set_handshake_ext(Json.from_string('{"auth": {"token": "t2"}}'))
        self.assertEqual(Json.to_string(client.props.handshake_ext, False), '{"auth":{"token":"t2"}}')
        client.set_header("Authorization", "Bearer t2")
        client.set_header("Authorization", None)
        self.assertEqual(client.props.max_message_size, 1024 * 1024)
        self.assertIsNotNone(client.props.session)
        client.props.max_network_delay = 2500
        self.assertEqual(client.get_max_network_delay(), 2500)
        # The binding trap: none of our methods may shadow GObject's.
        for name in ("connect", "disconnect", "emit", "notify"):
            self.assertIs(getattr(Bayeux.Client, name), getattr(GObject.Object, name), name)
        self.assertTrue(GObject.signal_lookup("message", Bayeux.Client))
        self.assertTrue(GObject.signal_lookup("error", Bayeux.Client))

    def test_channels(self):
        self.assertTrue(Bayeux.channel_matches("/chat/*", "/chat/a"))
        self.assertFalse(Bayeux.channel_matches("/chat/*", "/chat/a/b"))
        self.assertTrue(Bayeux.channel_matches("/chat/**", "/chat/a/b"))
        self.assertTrue(Bayeux.channel_validate("/chat/**", Bayeux.ChannelFlags.ALLOW_WILDCARD))
        with self.assertRaises(GLib.Error) as caught:
            Bayeux.channel_validate("/chat/*", Bayeux.ChannelFlags.NONE)
        self.assertTrue(caught.exception.matches(Bayeux.error_quark(),
                                                 Bayeux.Error.INVALID_CHANNEL))

    def test_message(self):
        node = from_python({"channel": "/a/b", "id": "7", "data": {"x": [1, 2]}})
        message = Bayeux.Message.new_from_json(node)
        self.assertEqual(message.get_channel(), "/a/b")
        self.assertEqual(message.get_id(), "7")
        self.assertEqual(to_python(message.get_data()), {"x": [1, 2]})
        self.assertFalse(message.has_successful())
        self.assertIsNone(message.get_ext())
        self.assertEqual(to_python(message.to_json())["channel"], "/a/b")


class TestRoundTrip(unittest.TestCase):
    """A real round trip through a Faye server."""

    @classmethod
    def setUpClass(cls):
        cls.server = FayeServer()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self.loop = GLib.MainLoop()
        self.timed_out = False
        self.timeout_id = GLib.timeout_add_seconds(TIMEOUT, self.on_timeout)
        self.client = Bayeux.Client.new(self.server.url)
        self.errors = []
        self.client.connect("error", lambda client, error, message: self.errors.append(error))

    def tearDown(self):
        GLib.source_remove(self.timeout_id)
        self.client.stop()
        self.client = None

    def on_timeout(self):
        self.timed_out = True
        self.loop.quit()
        return GLib.SOURCE_REMOVE

    def run_loop(self):
        self.loop.run()
        self.assertFalse(self.timed_out, "timed out")

    def test_round_trip(self):
        client = self.client
        states = []
        received = []
        replies = []
        done = {}
        sent = {"text": "héllo from Python", "n": 42, "list": [1, 2.5, None, True]}

        def on_state(client, pspec):
            states.append(client.props.state)
            maybe_disconnect()

        kept = []

        def on_message(client, message):
            kept.append(message)   # used after the handler returned
            received.append((message.get_channel(), to_python(message.get_data())))
            maybe_disconnect()

        def on_subscribed(client, result):
            self.assertTrue(client.subscribe_finish(result))
            client.publish_async(CHANNEL, from_python(sent), None, on_published)

        def on_published(client, result):
            replies.append(client.publish_finish(result))
            maybe_disconnect()

        def maybe_disconnect():
            # Both the message and the server's verdict are in, and the long
            # poll has been answered at least once: say goodbye.
            if ("started" in done or not received or not replies
                    or client.props.state != Bayeux.ClientState.CONNECTED):
                return
            done["client_id"] = client.props.client_id
            done["started"] = time.monotonic()
            client.disconnect_async(None, on_disconnected)

        def on_disconnected(client, result):
            done["seconds"] = time.monotonic() - done["started"]
            done["result"] = client.disconnect_finish(result)
            self.loop.quit()

        client.connect("notify::state", on_state)
        client.connect("message::" + CHANNEL, on_message)
        client.subscribe_async(CHANNEL, None, on_subscribed)
        client.start()
        self.run_loop()

        self.assertEqual(received, [(CHANNEL, sent)])
        # Faye offers a WebSocket: the round trip went over it.
        self.assertEqual(client.props.transport, "websocket")
        gc.collect()
        self.assertEqual((kept[0].get_channel(), to_python(kept[0].get_data())), (CHANNEL, sent))
        self.assertEqual(len(replies), 1)
        self.assertEqual(replies[0].get_channel(), CHANNEL)
        self.assertTrue(replies[0].has_successful())
        self.assertTrue(replies[0].get_successful())
        self.assertTrue(done["result"])
        self.assertTrue(done["client_id"])
        self.assertLess(done["seconds"], 2.0)
        self.assertEqual(client.props.state, Bayeux.ClientState.DISCONNECTED)
        self.assertEqual(states[0], Bayeux.ClientState.HANDSHAKING)
        self.assertIn(Bayeux.ClientState.CONNECTED, states)
        self.assertEqual(states[-1], Bayeux.ClientState.DISCONNECTED)
        self.assertEqual(self.errors, [])

    def test_listener(self):
        """add_listener with a Python callable and its data; removed, the
        callable is let go (the GDestroyNotify ran)."""
        client = self.client
        heard = []
        sent = {"text": "to a listener"}

        class Callback:
            def __call__(self, client, message, tag):
                heard.append((tag, message.get_channel(), to_python(message.get_data())))
                loop.quit()

        loop = self.loop
        callback = Callback()
        gone = []
        import weakref
        weakref.finalize(callback, gone.append, True)
        listener = client.add_listener(CHANNEL, callback, "tag")
        self.assertGreater(listener, 0)
        del callback

        def on_subscribed(client, result):
            self.assertTrue(client.subscribe_finish(result))
            client.publish(CHANNEL, from_python(sent))

        client.subscribe_async(CHANNEL, None, on_subscribed)
        client.start()
        self.run_loop()

        self.assertEqual(heard, [("tag", CHANNEL, sent)])
        self.assertEqual(gone, [])
        client.remove_listener(listener)
        gc.collect()
        self.assertEqual(gone, [True])
        self.assertEqual(self.errors, [])

    def test_refused(self):
        client = self.client
        outcome = {}

        def on_subscribed(client, result):
            try:
                client.subscribe_finish(result)
                outcome["error"] = None
            except GLib.Error as error:
                outcome["error"] = error
            self.loop.quit()

        client.subscribe_async("/forbidden/gi", None, on_subscribed)
        client.start()
        self.run_loop()

        error = outcome["error"]
        self.assertIsNotNone(error, "subscribing to /forbidden/gi succeeded")
        self.assertTrue(error.matches(Bayeux.error_quark(), Bayeux.Error.REFUSED), error)
        self.assertIn("/forbidden/gi", error.message)
        self.assertIn("403", error.message)

    def test_invalid_channel(self):
        client = self.client
        outcome = {}

        def on_published(client, result):
            try:
                client.publish_finish(result)
                outcome["error"] = None
            except GLib.Error as error:
                outcome["error"] = error
            self.loop.quit()

        client.publish_async("/no/wildcards/*", from_python({}), None, on_published)
        self.run_loop()

        self.assertIsNotNone(outcome["error"])
        self.assertTrue(outcome["error"].matches(Bayeux.error_quark(),
                                                 Bayeux.Error.INVALID_CHANNEL))


if __name__ == "__main__":
    missing = interop_missing()
    if missing is not None:
        if os.environ.get("BAYEUX_INTEROP_REQUIRED"):
            print(f"test-py-client: {missing}", file=sys.stderr)
            sys.exit(1)
        print(f"test-py-client: skipped: {missing}", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
