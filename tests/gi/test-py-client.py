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

    def test_subscription_names(self):
        self.assertEqual(Bayeux.SubscriptionState.PENDING.value_nick, "pending")
        self.assertEqual(Bayeux.SubscriptionState.SUBSCRIBED.value_nick, "subscribed")
        self.assertEqual(Bayeux.SubscriptionState.REFUSED.value_nick, "refused")
        self.assertEqual(Bayeux.SubscriptionState.UNSUBSCRIBED.value_nick, "unsubscribed")
        for name in ("connect", "disconnect", "emit", "notify"):
            self.assertIs(getattr(Bayeux.Subscription, name), getattr(GObject.Object, name), name)
        # Without a server: a handle is pending, its ext is a copy that
        # reads back, a bad channel name refuses it at once.
        client = Bayeux.Client.new("http://127.0.0.1:9/faye")
        self.assertFalse(client.props.paused)
        handle = client.add_subscription("/a/b", from_python({"note": "py"}))
        self.assertTrue(GObject.signal_lookup("message", Bayeux.Subscription))
        self.assertEqual(handle.props.channel, "/a/b")
        self.assertEqual(handle.props.state, Bayeux.SubscriptionState.PENDING)
        self.assertTrue(handle.is_active())
        self.assertEqual(handle.props.message_count, 0)
        self.assertIsNone(handle.props.error)
        self.assertEqual(to_python(handle.props.ext), {"note": "py"})
        handle.props.ext = from_python({"note": "changed"})
        self.assertEqual(to_python(handle.get_ext()), {"note": "changed"})
        handle.set_ext(None)
        self.assertIsNone(handle.props.ext)
        bad = client.add_subscription("no-slash", None)
        self.assertEqual(bad.props.state, Bayeux.SubscriptionState.REFUSED)
        self.assertFalse(bad.is_active())
        self.assertTrue(bad.props.error.matches(Bayeux.error_quark(), Bayeux.Error.INVALID_CHANNEL))
        self.assertEqual([item.props.channel for item in client.props.subscriptions], ["/a/b"])
        handle.cancel()
        self.assertEqual(handle.props.state, Bayeux.SubscriptionState.UNSUBSCRIBED)
        self.assertEqual(client.get_subscriptions().get_n_items(), 0)

    def test_authenticate_signal(self):
        # The credentials hook as Python sees it: (GError, bool) -> bool.
        client = Bayeux.Client.new("http://127.0.0.1:9/faye")
        info = GObject.signal_query(GObject.signal_lookup("authenticate", Bayeux.Client))
        self.assertEqual(info.return_type, GObject.TYPE_BOOLEAN)
        self.assertEqual([GObject.type_name(t) for t in info.param_types], ["GError", "gboolean"])
        handler = client.connect("authenticate", lambda client, error, retrying: True)
        client.disconnect(handler)

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
        # The data as JSON text, for json.loads (no Json.Node round trip).
        self.assertEqual(json.loads(message.get_data_json()), {"x": [1, 2]})
        empty = Bayeux.Message.new_from_json(from_python({"channel": "/a/b"}))
        self.assertIsNone(empty.get_data_json())


class FayeTestCase(unittest.TestCase):
    """A Faye server for the class, a client (not started) for each test."""

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


class TestRoundTrip(FayeTestCase):
    """A real round trip through a Faye server."""

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


class TestRawJson(FayeTestCase):
    """JSON text in and out: publish_json, publish_json_async and
    Message.get_data_json, with Python's own json module."""

    def test_publish_json_round_trip(self):
        client = self.client
        sent = {"text": "héllo \"raw\" from Python ☃", "n": 42, "list": [1, 2.5, None, True],
                "nested": {"deep": [[{"x": -7}]]}}
        received = []
        replies = []

        def on_message(client, message):
            text = message.get_data_json()
            self.assertIsInstance(text, str)
            received.append(json.loads(text))
            maybe_quit()

        def on_subscribed(client, result):
            self.assertTrue(client.subscribe_finish(result))
            client.publish_json_async(CHANNEL, json.dumps(sent), None, on_published)
            client.publish_json(CHANNEL, json.dumps([sent["n"], "fire and forget"]))

        def on_published(client, result):
            replies.append(client.publish_json_finish(result))
            maybe_quit()

        def maybe_quit():
            if len(received) == 2 and replies:
                self.loop.quit()

        client.connect("message::" + CHANNEL, on_message)
        client.subscribe_async(CHANNEL, None, on_subscribed)
        client.start()
        self.run_loop()

        self.assertEqual(received, [sent, [42, "fire and forget"]])
        self.assertTrue(replies[0].get_successful())
        self.assertEqual(self.errors, [])

    def test_publish_json_invalid(self):
        client = self.client
        outcome = {}

        def on_published(client, result):
            try:
                client.publish_json_finish(result)
                outcome["error"] = None
            except GLib.Error as error:
                outcome["error"] = error
            maybe_quit()

        def on_error(client, error, message):
            maybe_quit()

        def maybe_quit():
            if "error" in outcome and self.errors:
                self.loop.quit()

        client.connect("error", on_error)
        client.publish_json_async(CHANNEL, "{'python': 'repr, not JSON'}", None, on_published)
        client.publish_json(CHANNEL, "[1, 2")
        self.run_loop()

        error = outcome["error"]
        self.assertIsNotNone(error)
        self.assertTrue(error.matches(Bayeux.error_quark(), Bayeux.Error.INVALID_JSON), error)
        self.assertIn(CHANNEL, error.message)
        self.assertIn("at byte 1", error.message)
        self.assertEqual(len(self.errors), 1)
        self.assertTrue(self.errors[0].matches(Bayeux.error_quark(), Bayeux.Error.INVALID_JSON))
        # Nothing was sent: the client never even started.
        self.assertEqual(client.props.state, Bayeux.ClientState.DISCONNECTED)


class TestSubscriptions(FayeTestCase):
    """Subscription handles, their list model, publish ext and pausing,
    through Faye, with a second client as the peer that publishes."""

    def run_until(self, predicate, what):
        """Runs the main context until predicate() is true."""
        context = GLib.MainContext.default()
        deadline = time.monotonic() + TIMEOUT
        wake = GLib.timeout_add(100, lambda: GLib.SOURCE_CONTINUE)
        try:
            while not predicate():
                if time.monotonic() >= deadline:
                    self.fail(f"timed out waiting for {what}")
                context.iteration(True)
        finally:
            GLib.source_remove(wake)

    def run_for(self, seconds):
        """Runs the main context for that long."""
        over = []
        GLib.timeout_add(int(seconds * 1000), lambda: over.append(True) or GLib.SOURCE_REMOVE)
        self.run_until(lambda: over, f"{seconds} s to pass")

    def call(self, start, finish, *args):
        """start(*args, None, callback), run until it completes; returns
        finish(result), or raises its GLib.Error."""
        outcome = {}

        def done(_source, result):
            try:
                outcome["value"] = finish(result)
            except GLib.Error as error:
                outcome["error"] = error

        start(*args, None, done)
        self.run_until(lambda: outcome, start.__name__)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def new_peer(self):
        """A second client on the same server, started, stopped after the test."""
        peer = Bayeux.Client.new(self.server.url)
        self.addCleanup(peer.stop)
        peer.start()
        return peer

    def publish(self, client, channel, value):
        reply = self.call(client.publish_async, client.publish_finish, channel, from_python(value))
        self.assertTrue(reply.get_successful())

    def test_two_handles_one_cancelled(self):
        """Two handles share the channel; cancelling one keeps the server
        subscription for the other, which still gets what the client itself
        and a peer publish."""
        channel = "/gi/handles"
        client = self.client
        first = client.add_subscription(channel, None)
        second = client.add_subscription(channel, None)
        self.assertIsNot(first, second)
        heard = {first: [], second: []}
        for handle in (first, second):
            handle.connect("message", lambda h, message: heard[h].append(to_python(message.get_data())))
        client.start()
        self.run_until(lambda: all(h.props.state == Bayeux.SubscriptionState.SUBSCRIBED
                                   for h in (first, second)), "both handles subscribed")

        # Both hear a message while both are live.
        self.publish(client, channel, {"n": 0})
        self.run_until(lambda: heard[first] and heard[second], "the first message on both handles")
        self.assertEqual(heard, {first: [{"n": 0}], second: [{"n": 0}]})

        first.cancel()
        self.assertEqual(first.props.state, Bayeux.SubscriptionState.UNSUBSCRIBED)
        self.assertFalse(first.is_active())
        self.assertEqual(second.props.state, Bayeux.SubscriptionState.SUBSCRIBED)
        self.assertTrue(second.is_active())
        self.assertEqual(list(client.props.subscriptions), [second])

        # Had /meta/unsubscribe gone out, neither would come back.
        self.publish(client, channel, {"n": 1, "from": "self"})
        self.run_until(lambda: len(heard[second]) == 2, "the client's own message after the cancel")
        peer = self.new_peer()
        self.publish(peer, channel, {"n": 2, "from": "peer"})
        self.run_until(lambda: len(heard[second]) == 3, "the peer's message after the cancel")

        self.assertEqual(heard[first], [{"n": 0}])
        self.assertEqual(heard[second], [{"n": 0}, {"n": 1, "from": "self"}, {"n": 2, "from": "peer"}])
        self.assertEqual(first.props.message_count, 1)
        self.assertEqual(second.props.message_count, 3)

        # The last handle: unsubscribe_async waits for the server's answer.
        self.assertTrue(self.call(second.unsubscribe_async, second.unsubscribe_finish))
        self.assertEqual(second.props.state, Bayeux.SubscriptionState.UNSUBSCRIBED)
        self.assertEqual(client.get_subscriptions().get_n_items(), 0)
        # A second time: the handle is no longer live.
        with self.assertRaises(GLib.Error) as caught:
            self.call(second.unsubscribe_async, second.unsubscribe_finish)
        self.assertTrue(caught.exception.matches(Bayeux.error_quark(), Bayeux.Error.FAILED))
        self.assertEqual(self.errors, [])

    def test_list_model(self):
        """get_subscriptions: one item a live handle, items-changed as they
        come and go (a cancel, a server's refusal)."""
        client = self.client
        model = client.get_subscriptions()
        self.assertIs(model, client.props.subscriptions)
        self.assertEqual(model.get_item_type(), Bayeux.Subscription.__gtype__)
        self.assertEqual(model.get_n_items(), 0)
        changes = []
        model.connect("items-changed", lambda m, position, removed, added:
                      changes.append((position, removed, added)))

        a = client.add_subscription("/gi/model/a", None)
        b = client.add_subscription("/gi/model/b", None)
        again = client.add_subscription("/gi/model/a", None)
        forbidden = client.add_subscription("/forbidden/gi", None)
        self.assertEqual(changes, [(0, 0, 1), (1, 0, 1), (2, 0, 1), (3, 0, 1)])
        self.assertEqual(model.get_n_items(), 4)
        self.assertEqual([model.get_item(i) for i in range(4)], [a, b, again, forbidden])

        client.start()
        self.run_until(lambda: forbidden.props.state == Bayeux.SubscriptionState.REFUSED
                       and all(h.props.state == Bayeux.SubscriptionState.SUBSCRIBED for h in (a, b, again)),
                       "three handles subscribed, one refused")
        self.assertTrue(forbidden.props.error.matches(Bayeux.error_quark(), Bayeux.Error.REFUSED))
        self.assertEqual(changes[4:], [(3, 1, 0)])
        self.assertEqual(list(model), [a, b, again])

        b.cancel()
        self.assertEqual(changes[5:], [(1, 1, 0)])
        self.assertEqual(model.get_n_items(), 2)
        self.assertEqual(list(model), [a, again])
        b.cancel()  # no longer live: nothing happens
        self.assertEqual(len(changes), 6)

        c = client.add_subscription("/gi/model/c", None)
        self.assertEqual(changes[6:], [(2, 0, 1)])
        self.run_until(lambda: c.props.state == Bayeux.SubscriptionState.SUBSCRIBED, "the late handle")
        for handle in (a, again, c):
            handle.cancel()
        self.assertEqual(changes[7:], [(0, 1, 0), (0, 1, 0), (0, 1, 0)])
        self.assertEqual(model.get_n_items(), 0)

    def test_add_subscription_async(self):
        """add_subscription_async completes with a subscribed handle, at once
        for a channel already subscribed, and fails without a handle when
        the server refuses."""
        channel = "/gi/async"
        client = self.client
        client.start()
        handle = self.call(client.add_subscription_async, client.add_subscription_finish,
                           channel, from_python({"note": "py"}))
        self.assertIsInstance(handle, Bayeux.Subscription)
        self.assertEqual(handle.props.channel, channel)
        self.assertEqual(handle.props.state, Bayeux.SubscriptionState.SUBSCRIBED)
        self.assertTrue(handle.is_active())
        self.assertEqual(to_python(handle.props.ext), {"note": "py"})
        self.assertEqual(list(client.props.subscriptions), [handle])

        second = self.call(client.add_subscription_async, client.add_subscription_finish, channel, None)
        self.assertIsNot(second, handle)
        self.assertEqual(second.props.state, Bayeux.SubscriptionState.SUBSCRIBED)
        self.assertEqual(list(client.props.subscriptions), [handle, second])

        got = []
        second.connect("message", lambda h, message: got.append(to_python(message.get_data())))
        self.publish(self.new_peer(), channel, {"to": "the async handle"})
        self.run_until(lambda: got, "a message on the async handle")
        self.assertEqual(got, [{"to": "the async handle"}])

        with self.assertRaises(GLib.Error) as caught:
            self.call(client.add_subscription_async, client.add_subscription_finish, "/forbidden/gi", None)
        self.assertTrue(caught.exception.matches(Bayeux.error_quark(), Bayeux.Error.REFUSED),
                        caught.exception)
        self.assertIn("/forbidden/gi", caught.exception.message)
        self.assertEqual(list(client.props.subscriptions), [handle, second])

    def test_publish_full_ext(self):
        """publish_full_async with an ext object: the server accepts it, and
        Faye hands the ext on to the subscriber."""
        channel = "/gi/ext"
        client = self.client
        got = []
        handle = client.add_subscription(channel, None)
        handle.connect("message", lambda h, message: got.append(message))
        client.start()
        self.run_until(lambda: handle.props.state == Bayeux.SubscriptionState.SUBSCRIBED, "subscribed")

        peer = self.new_peer()
        reply = self.call(peer.publish_full_async, peer.publish_full_finish,
                          channel, from_python({"n": 1}), from_python({"trace": "py-1", "n": [1, 2]}))
        self.assertEqual(reply.get_channel(), channel)
        self.assertTrue(reply.has_successful() and reply.get_successful())
        # Without ext, as publish_async.
        reply = self.call(peer.publish_full_async, peer.publish_full_finish,
                          channel, from_python({"n": 2}), None)
        self.assertTrue(reply.get_successful())

        self.run_until(lambda: len(got) == 2, "both messages")
        self.assertEqual(to_python(got[0].get_data()), {"n": 1})
        self.assertEqual(to_python(got[0].to_json())["ext"], {"trace": "py-1", "n": [1, 2]})
        self.assertEqual(to_python(got[1].get_data()), {"n": 2})
        self.assertIsNone(got[1].get_ext())

        with self.assertRaises(GLib.Error) as caught:
            self.call(peer.publish_full_async, peer.publish_full_finish,
                      "/forbidden/gi", from_python({}), from_python({"trace": "py-2"}))
        self.assertTrue(caught.exception.matches(Bayeux.error_quark(), Bayeux.Error.REFUSED))

    def check_paused(self, transports):
        channel = "/gi/paused"
        client = self.client
        client.props.transports = transports
        handle = client.add_subscription(channel, None)
        by_handle = []
        by_client = []
        handle.connect("message", lambda h, message: by_handle.append(to_python(message.get_data())))
        client.connect("message::" + channel,
                       lambda c, message: by_client.append(to_python(message.get_data())))
        notified = []
        client.connect("notify::paused", lambda c, pspec: notified.append(c.props.paused))
        client.start()
        peer = self.new_peer()
        self.run_until(lambda: handle.props.state == Bayeux.SubscriptionState.SUBSCRIBED
                       and client.props.state == Bayeux.ClientState.CONNECTED
                       and peer.props.state == Bayeux.ClientState.CONNECTED, "subscribed and connected")
        self.assertEqual(client.props.transport, transports[0])

        client.props.paused = True
        self.assertTrue(client.get_paused())
        self.assertEqual(notified, [True])
        # The peer publishes, and so does the paused client: its publish
        # goes on, and the server's verdict comes back while paused.
        for i in range(5):
            self.publish(peer, channel, {"seq": i})
        self.publish(client, channel, {"seq": 5, "from": "paused client"})
        self.run_for(1.0)
        self.assertEqual(by_handle, [], "delivered while paused")
        self.assertEqual(by_client, [], "delivered while paused")
        self.assertEqual(handle.props.message_count, 0)

        client.set_paused(False)
        self.assertEqual(notified, [True, False])
        wanted = [{"seq": i} for i in range(5)] + [{"seq": 5, "from": "paused client"}]
        self.run_until(lambda: len(by_handle) >= len(wanted), "the held messages")
        self.assertEqual(by_handle, wanted)
        self.assertEqual(by_client, wanted)
        self.assertEqual(handle.props.message_count, len(wanted))
        # And delivery goes on as before.
        self.publish(peer, channel, {"seq": 6})
        self.run_until(lambda: len(by_handle) == len(wanted) + 1, "a message after resuming")
        self.assertEqual(by_handle[-1], {"seq": 6})
        self.assertEqual(self.errors, [])

    def test_paused_websocket(self):
        """Paused over a WebSocket, on which Faye pushes messages as they
        come: the client holds them, then delivers them in order."""
        self.check_paused(["websocket", "long-polling"])

    def test_paused_long_polling(self):
        """Paused over long polling: no /meta/connect, so Faye keeps them."""
        self.check_paused(["long-polling"])


if __name__ == "__main__":
    missing = interop_missing()
    if missing is not None:
        if os.environ.get("BAYEUX_INTEROP_REQUIRED"):
            print(f"test-py-client: {missing}", file=sys.stderr)
            sys.exit(1)
        print(f"test-py-client: skipped: {missing}", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
