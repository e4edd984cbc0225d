# test-py-extensions.py: extensions through PyGObject and the Bayeux-1.0
# typelib: the built-in ones, and one written in Python (Bayeux.Extension
# implemented by a Python class) that changes the handshake, counts
# deliveries and holds a publish, against a real Faye server
# (tests/interop/faye-server.js --echo-ext, which echoes the handshake's ext
# in its reply).
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
import tempfile
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
CHANNEL = "/gi/ext"
HELD_CHANNEL = "/gi/held"        # publishes held on their way out
HELD_IN_CHANNEL = "/gi/held-in"  # deliveries held on their way in
HOLD_MS = 300

INTEROP_DIR = os.environ.get("BAYEUX_INTEROP_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "interop")

CONTINUE = Bayeux.ExtensionResult.CONTINUE
HOLD = Bayeux.ExtensionResult.HOLD


def interop_missing():
    """Why the Faye server cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not os.path.isdir(os.path.join(INTEROP_DIR, "node_modules")):
        return f"{INTEROP_DIR}/node_modules is missing (npm ci --prefix tests/interop)"
    return None


class FayeServer:
    """tests/interop/faye-server.js --echo-ext on a free loopback port. It
    exits when its standard input closes, so it cannot outlive this
    process."""

    def __init__(self):
        self.proc = subprocess.Popen(
            ["node", os.path.join(INTEROP_DIR, "faye-server.js"), "--echo-ext"],
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


def object_from(value):
    return from_python(value).get_object()


def channel_of(message):
    node = message.get_member("channel")
    if node is None or node.get_value_type() != GObject.TYPE_STRING:
        return None
    return node.get_string()


class Stamp(GObject.Object, Bayeux.Extension):
    """An extension in Python: a token in the handshake's ext, a count of
    the deliveries, each publish on HELD_CHANNEL and each delivery on
    HELD_IN_CHANNEL held for HOLD_MS (as if it waited for something), then
    released."""

    def __init__(self):
        super().__init__()
        self.added = 0
        self.removed = 0
        self.deliveries = 0
        self.echo = None
        self.held = []        # the messages held, as the hook got them
        self.held_at = None   # monotonic time of the hold
        self.released_at = None
        self.held_in = []
        self.held_in_at = None
        self.released_in_at = None

    def do_added(self, client):
        self.added += 1

    def do_removed(self, client):
        self.removed += 1

    def do_outgoing(self, client, message):
        channel = channel_of(message)
        if channel == "/meta/handshake":
            ext = message.get_object_member("ext") if message.has_member("ext") else None
            if ext is None:
                ext = Json.Object()
                message.set_object_member("ext", ext)
            ext.set_string_member("token", "py-token")
        elif channel == HELD_CHANNEL:
            self.held.append(message)
            self.held_at = time.monotonic()
            GLib.timeout_add(HOLD_MS, self.release, client)
            return HOLD
        return CONTINUE

    def do_incoming(self, client, message):
        if not message.has_member("successful"):
            self.deliveries += 1
            if channel_of(message) == HELD_IN_CHANNEL:
                self.held_in.append(message)
                self.held_in_at = time.monotonic()
                GLib.timeout_add(HOLD_MS, self.release_in, client)
                return HOLD
        elif channel_of(message) == "/meta/handshake" and message.has_member("ext"):
            ext = message.get_object_member("ext")
            if ext.has_member("echo"):
                self.echo = to_python(ext.get_member("echo"))
        return CONTINUE

    def release_in(self, client):
        held, self.held_in = self.held_in, []
        self.released_in_at = time.monotonic()
        for message in held:
            client.release_message(message, False)
        return GLib.SOURCE_REMOVE

    def release(self, client):
        held, self.held = self.held, []
        self.released_at = time.monotonic()
        for message in held:
            client.release_message(message, False)
        return GLib.SOURCE_REMOVE


class TestBuiltIn(unittest.TestCase):
    """The built-in extensions, without a server: their hooks called from
    Python on messages made in Python."""

    def setUp(self):
        self.client = Bayeux.Client.new("http://127.0.0.1:9/faye")

    def test_ack(self):
        ack = Bayeux.AckExtension.new()
        self.assertIsInstance(ack, Bayeux.Extension)
        self.client.add_extension(ack)
        self.assertFalse(ack.props.active)
        notified = []
        ack.connect("notify::active", lambda ext, pspec: notified.append(ext.props.active))
        handshake = object_from({"channel": "/meta/handshake", "id": "1"})
        self.assertEqual(ack.outgoing(self.client, handshake), CONTINUE)
        self.assertEqual(to_python(handshake.get_member("ext")), {"ack": True})
        ack.incoming(self.client, object_from({"channel": "/meta/handshake", "id": "1", "successful": True,
                                               "ext": {"ack": True}}))
        self.assertTrue(ack.get_active())
        self.assertEqual(notified, [True])
        ack.incoming(self.client, object_from({"channel": "/meta/connect", "id": "2", "successful": True,
                                               "ext": {"ack": 7}}))
        connect = object_from({"channel": "/meta/connect", "id": "3"})
        ack.outgoing(self.client, connect)
        self.assertEqual(to_python(connect.get_member("ext")), {"ack": 7})

    def test_timesync(self):
        timesync = Bayeux.TimesyncExtension.new()
        self.client.add_extension(timesync)
        self.assertEqual((timesync.props.offset, timesync.props.lag), (0, 0))
        connect = object_from({"channel": "/meta/connect", "id": "1"})
        timesync.outgoing(self.client, connect)
        sync = to_python(connect.get_member("ext"))["timesync"]
        self.assertEqual(sorted(sync), ["l", "o", "tc"])
        tc = sync["tc"]
        timesync.incoming(self.client, object_from({
            "channel": "/meta/connect", "id": "1", "successful": True,
            "ext": {"timesync": {"tc": tc, "ts": tc + 4000, "p": 0, "a": 0}}}))
        self.assertLessEqual(abs(timesync.props.offset - 4000), 20)
        self.assertGreaterEqual(timesync.props.lag, 0)
        self.assertLessEqual(abs(timesync.get_server_time() - (time.time() * 1000 + 4000)), 50)

    def test_replay(self):
        replay = Bayeux.ReplayExtension.new()
        self.client.add_extension(replay)
        self.assertEqual(replay.props.default_replay_id, Bayeux.REPLAY_NEW_EVENTS)
        self.assertEqual(Bayeux.REPLAY_NEW_EVENTS, -1)
        self.assertEqual(Bayeux.REPLAY_ALL_EVENTS, -2)
        self.assertEqual(replay.get_replay_id("/event/a"), (False, -1))
        replay.props.default_replay_id = Bayeux.REPLAY_ALL_EVENTS
        replay.set_replay_id("/event/b", 40)
        replay.incoming(self.client, object_from({"channel": "/event/a",
                                                  "data": {"event": {"replayId": 12}}}))
        self.assertEqual(replay.get_replay_id("/event/a"), (True, 12))
        for channel, expected in (("/event/a", 12), ("/event/b", 40), ("/event/c", -2)):
            subscribe = object_from({"channel": "/meta/subscribe", "id": "5", "subscription": channel})
            replay.outgoing(self.client, subscribe)
            self.assertEqual(to_python(subscribe.get_member("ext")), {"replay": {channel: expected}})

    def test_replay_state_file(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "myapp", "replay.ini")
            replay = Bayeux.ReplayExtension(state_file=path)
            self.assertEqual(replay.props.state_file, path)
            self.assertEqual(replay.get_state_file(), path)
            self.assertTrue(replay.load())  # missing: empty, no error
            replay.incoming(self.client, object_from({"channel": "/topic/T",
                                                      "data": {"event": {"replayId": 31}}}))
            # A filtered subscription resumes from its plain channel's id,
            # under the plain name (where Salesforce looks it up).
            subscribe = object_from({"channel": "/meta/subscribe", "id": "5",
                                     "subscription": "/topic/T?Status__c=Open"})
            replay.outgoing(self.client, subscribe)
            self.assertEqual(to_python(subscribe.get_member("ext")), {"replay": {"/topic/T": 31}})
            self.assertTrue(replay.save())
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
            keyfile = GLib.KeyFile()
            keyfile.load_from_file(path, GLib.KeyFileFlags.NONE)
            self.assertEqual(keyfile.get_int64("/topic/T", "replay-id"), 31)

            # The next run: the id read from the file, as if given.
            again = Bayeux.ReplayExtension.new_with_state_file(path)
            self.assertEqual(again.get_replay_id("/topic/T?Status__c=Open"), (True, 31))

            # A damaged file: load() raises, with what could be read kept.
            with open(path, "w") as f:
                f.write("[/event/a]\nreplay-id=4\n[/event/b]\nreplay-id=x\n")
            with self.assertRaises(GLib.Error) as caught:
                again.load()
            self.assertTrue(caught.exception.matches(GLib.KeyFile.error_quark(),
                                                     GLib.KeyFileError.INVALID_VALUE))
            self.assertEqual(again.get_replay_id("/event/a"), (True, 4))

            # Unwritable (a folder that is a file): save() raises.
            blocker = os.path.join(folder, "blocker")
            with open(blocker, "w") as f:
                f.write("not a folder\n")
            again.props.state_file = None
            again.set_replay_id("/event/c", 1)
            again.props.state_file = os.path.join(blocker, "replay.ini")
            with self.assertRaises(GLib.Error) as caught:
                again.save()
            self.assertTrue(caught.exception.matches(GLib.file_error_quark(), GLib.FileError.NOTDIR))
            again.props.state_file = None

    def test_python_extension_hooks(self):
        stamp = Stamp()
        self.client.add_extension(stamp)
        self.assertEqual(stamp.added, 1)
        handshake = object_from({"channel": "/meta/handshake", "id": "1"})
        # Through the C entry point: the Python hook runs and changes the
        # C object.
        self.assertEqual(Bayeux.Extension.outgoing(stamp, self.client, handshake), CONTINUE)
        self.assertEqual(to_python(handshake.get_member("ext")), {"token": "py-token"})
        self.client.remove_extension(stamp)
        self.assertEqual(stamp.removed, 1)

    def test_get_extensions(self):
        ack = Bayeux.AckExtension.new()
        stamp = Stamp()
        self.client.add_extension(ack)
        self.client.add_extension(stamp)
        before = (ack.__grefcount__, stamp.__grefcount__)
        extensions = self.client.get_extensions()
        self.assertEqual(extensions, [ack, stamp])
        del extensions
        after = (ack.__grefcount__, stamp.__grefcount__)
        # (transfer container): freeing the list leaves the client's references be.
        self.assertEqual(after, before)
        self.client.remove_extension(ack)
        self.client.remove_extension(stamp)
        self.assertEqual(self.client.get_extensions(), [])


class TestRoundTrip(unittest.TestCase):
    """A Python extension on a client talking to a real Faye server."""

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
        self.client.connect("error", lambda client, error, message: self.errors.append(error.message))

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

    def test_python_extension(self):
        client = self.client
        stamp = Stamp()
        client.add_extension(stamp)
        received = []
        outcome = {}

        def on_message(client, message):
            received.append(to_python(message.get_data()))
            if message.get_channel() == HELD_IN_CHANNEL:
                outcome["delivered_at"] = time.monotonic()
            maybe_quit()

        def maybe_quit():
            # The held publish's reply and its delivery come in either
            # order (separate responses, or frames): wait for both.
            if len(received) == 5 and "at" in outcome:
                self.loop.quit()

        def on_subscribed(client, result):
            self.assertTrue(client.subscribe_finish(result))
            for n in range(3):
                client.publish(CHANNEL, from_python({"n": n}))
            # Its delivery is held by the extension for HOLD_MS.
            client.publish(HELD_IN_CHANNEL, from_python({"held_in": True}))
            # Held by the extension for HOLD_MS, then released.
            client.publish_async(HELD_CHANNEL, from_python({"held": True}), None, on_held_published)

        def on_held_published(client, result):
            try:
                outcome["reply"] = client.publish_finish(result)
            except GLib.Error as error:
                outcome["error"] = error.message
            outcome["at"] = time.monotonic()
            maybe_quit()

        client.connect("message::/gi/*", on_message)
        client.subscribe_async("/gi/*", None, on_subscribed)
        client.start()
        self.run_loop()
        gc.collect()

        # The handshake carried the token to the server.
        self.assertEqual(stamp.echo, {"token": "py-token"})
        # The held publish left once released, and no sooner.
        self.assertNotIn("error", outcome)
        self.assertIsNotNone(outcome.get("reply"))
        self.assertTrue(outcome["reply"].get_successful())
        self.assertIsNotNone(stamp.released_at)
        self.assertGreaterEqual(outcome["at"], stamp.released_at)
        self.assertGreaterEqual(stamp.released_at - stamp.held_at, HOLD_MS / 1000 * 0.9)
        # The held delivery was emitted once released, and no sooner.
        self.assertIsNotNone(stamp.released_in_at)
        self.assertGreaterEqual(outcome["delivered_at"], stamp.released_in_at)
        self.assertGreaterEqual(stamp.released_in_at - stamp.held_in_at, HOLD_MS / 1000 * 0.9)
        # Every delivery went through the extension.
        self.assertEqual(sorted(received, key=json.dumps),
                         sorted([{"n": 0}, {"n": 1}, {"n": 2}, {"held": True}, {"held_in": True}],
                                key=json.dumps))
        self.assertEqual(stamp.deliveries, 5)
        self.assertEqual(self.errors, [])


if __name__ == "__main__":
    missing = interop_missing()
    if missing is not None:
        if os.environ.get("BAYEUX_INTEROP_REQUIRED"):
            print(f"test-py-extensions: {missing}", file=sys.stderr)
            sys.exit(1)
        print(f"test-py-extensions: skipped: {missing}", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
