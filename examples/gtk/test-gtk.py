# test-gtk.py: the GTK chat application (chat-gtk.c, then chat-gtk.py)
# under a real X server (Xvfb), against a real Faye server and real peer
# clients.
#
# For each application: start tests/interop/faye-server.js on a free port,
# and a peer (tests/interop/peer.js) subscribed to /chat/demo; start the
# application with --auto-connect and wait until it says it is connected;
# the peer must receive its {"user": …, "chat": "has joined"}; a Faye
# client says something and peer.js publishes two messages: each must be
# shown as a row. The subscriptions panel must show /chat/demo (the old
# subscribe call) and /chat/status (a handle) subscribed, the count of
# /chat/demo going up one by one as the messages come (1 to 4); a message
# on /chat/status must be counted there. Then a screenshot (`import`, imagemagick) must hold a real picture of the
# window. Then the server is killed and restarted on the same port: the
# application must say that it lost the connection, that the server forgot
# its session (in plain words: no protocol error string, no client id),
# come back connected with a toast saying so, and show a new message; the
# panel must show the subscriptions pending again (their counts kept), then
# subscribed, then counting on. Last, SIGTERM: it must disconnect from the
# server and exit with 0, and have written no GLib warning or critical.
# Each application is also started with no server listening: it must say
# it cannot reach the server (its panel showing /chat/demo waiting for the
# server), and connect once one is started there.
#
# Then chat-gtk.py's controls, used in its own process as its user would
# (DRIVE_PY): a line sent from the message entry, Retry Now, Disconnect,
# Connect with a bad URL (a toast), Connect again, closing the window; a
# peer must receive what it sends. The panel's header bar button must hide
# and show it, and after Connect the panel must list the new client's
# subscriptions (their counts from 0 again).
#
# The applications tell what they show through their test hook (the file
# named by BAYEUX_GTK_TEST_FILE: `ROW <text>`, `STATE <state>`,
# `TOAST <title>`, `BANNER <text>` and `SUB <channel> <state> <count>`
# lines, see chat-gtk.c).
#
# The test runs itself under `xvfb-run -a` (a display of its own), so the
# applications and `import` share that display. With
# BAYEUX_GTK_SCREENSHOT_DIR set, the C application's screenshot is saved
# there as screenshot.png (the docs use examples/gtk/screenshot.png).
#
# Run by meson (examples/gtk/meson.build) with /usr/bin/python3, the build
# folder first in GI_TYPELIB_PATH and LD_LIBRARY_PATH, BAYEUX_GTK_CHAT (the
# C application), BAYEUX_INTEROP_DIR set. Exits 77 (skipped) when Node, the
# interop packages, xvfb-run or import are missing, unless
# BAYEUX_INTEROP_REQUIRED is set.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import queue
import re
import shutil
import socket
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP_DIR = (os.environ.get("BAYEUX_INTEROP_DIR")
               or os.path.join(HERE, "..", "..", "tests", "interop"))
CHAT_C = os.environ.get("BAYEUX_GTK_CHAT")
CHAT_PY = os.path.join(os.environ.get("BAYEUX_GTK_EXAMPLES_DIR") or HERE, "chat-gtk.py")
SCREENSHOT_DIR = os.environ.get("BAYEUX_GTK_SCREENSHOT_DIR")
XVFB_RUN = ["xvfb-run", "-a", "-s", "-screen 0 1024x768x24"]
CHANNEL = "/chat/demo"
STATUS_CHANNEL = "/chat/status"   # the applications' second subscription, a handle
WINDOW_TITLE = "Bayeux Chat"

# What the applications must never show their user: a Bayeux error string
# (`401:<client id>:Unknown client`, `403::Forbidden channel`), or the
# library's words for developers.
PROTOCOL_ERROR = re.compile(r"\b\d{3}:[^ ]*:|Unknown client|clientId|/meta/")

# Seconds.
STEP_TIMEOUT = 10     # for any one thing to happen
EXIT_TIMEOUT = 10     # for the application to disconnect and exit

# A Faye client that publishes one message (JSON data) on a channel, then
# exits.
PUBLISH_JS = """
const faye = require('faye');
const [url, channel, data] = process.argv.slice(1);
const client = new faye.Client(url);
client.publish(channel, JSON.parse(data)).then(
  () => { client.disconnect(); process.exit(0); },
  (error) => { console.error(error && error.message ? error.message : error); process.exit(1); });
setTimeout(() => { console.error('no reply'); process.exit(1); }, 5000);
"""

# Drives chat-gtk.py's window as its user would, typing and clicking, in
# the application's own process:  -c DRIVE_PY CHAT_PY [application options]
DRIVE_PY = r"""
import importlib.util
import os
import sys

spec = importlib.util.spec_from_file_location("chat_gtk", sys.argv[1])
chat_gtk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(chat_gtk)
GLib = chat_gtk.GLib


def shown(line):
    with open(os.environ["BAYEUX_GTK_TEST_FILE"], encoding="utf-8") as file:
        return file.read().splitlines().count(line)


def steps(window):
    nick = window.nick_entry.get_text()
    url = window.url_entry.get_text()
    yield lambda: shown(f"ROW {nick}: has joined") == 1
    window.message_entry.set_text("typed in the entry")
    window.message_entry.emit("activate")
    yield lambda: shown(f"ROW {nick}: typed in the entry") == 1
    window.panel_button.emit("clicked")     # hides the subscriptions panel
    yield lambda: not window.panel_revealer.get_reveal_child()
    window.panel_button.emit("clicked")     # and shows it again
    yield lambda: window.panel_revealer.get_reveal_child()
    window.retry_button.emit("clicked")     # Retry Now (in the banner)
    yield lambda: shown("STATE connected") == 2
    window.message_entry.set_text("after Retry Now")
    window.message_entry.emit("activate")
    yield lambda: shown(f"ROW {nick}: after Retry Now") == 1
    window.connect_button.emit("clicked")   # Disconnect
    yield lambda: shown("STATE disconnected") == 2
    window.url_entry.set_text("not a url")
    window.connect_button.emit("clicked")   # Connect, refused
    yield lambda: shown("TOAST \u201cnot a url\u201d is not an http:// or https:// URL") == 1
    window.url_entry.set_text(url)
    window.connect_button.emit("clicked")   # Connect
    yield lambda: shown(f"ROW {nick}: has joined") == 2
    window.close()


def on_activate(app):
    script = steps(app.get_active_window())
    waiting = [next(script)]

    def tick():
        if not waiting[0]():
            return GLib.SOURCE_CONTINUE
        try:
            waiting[0] = next(script)
        except StopIteration:
            return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    GLib.timeout_add(50, tick)


app = chat_gtk.ChatApplication()
app.connect_after("activate", on_activate)
sys.exit(app.run(sys.argv[1:]))
"""

# chat-gtk.py's error wording and its details, in the application's own
# process, with no server:  -c DETAILS_PY CHAT_PY
DETAILS_PY = r"""
import importlib.util
import json
import sys

spec = importlib.util.spec_from_file_location("chat_gtk", sys.argv[1])
chat_gtk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(chat_gtk)
Adw, Bayeux, Gio, GLib, Gtk = chat_gtk.Adw, chat_gtk.Bayeux, chat_gtk.Gio, chat_gtk.GLib, chat_gtk.Gtk
report = {}


def error(domain, code, message):
    return GLib.Error.new_literal(domain, message, code)


def on_activate(app):
    window = app.get_active_window()
    host = "127.0.0.1:8000"
    cases = {
        "unknown-client": error(Bayeux.error_quark(), Bayeux.Error.UNKNOWN_CLIENT,
                                "Connect failed: 401:az8zq1:Unknown client"),
        "refused": error(Gio.io_error_quark(), Gio.IOErrorEnum.CONNECTION_REFUSED,
                         "Could not connect to 127.0.0.1: Connection refused"),
        "tls": error(Gio.tls_error_quark(), Gio.TlsError.BAD_CERTIFICATE,
                     "Unacceptable TLS certificate"),
        "timeout": error(Bayeux.error_quark(), Bayeux.Error.TIMEOUT, "No answer within 40 s"),
        "http": error(Bayeux.error_quark(), Bayeux.Error.HTTP, "HTTP error 503 Service Unavailable"),
        "other": error(Bayeux.error_quark(), Bayeux.Error.FAILED, "Something odd"),
    }
    report["texts"] = {name: list(chat_gtk.error_to_text(e, host)) for name, e in cases.items()}
    window.show_banner("Cannot reach 127.0.0.1:8000. Retrying…", "Could not connect")
    report["tooltip"] = window.banner_label.get_tooltip_text()
    window.show_banner(None)
    report["tooltip after"] = window.banner_label.get_tooltip_text()
    window.activate_action("win.error-details", GLib.Variant("s", "HTTP error 503"))

    def done():
        report["dialogs"] = [[w.get_heading(), w.get_body()] for w in Gtk.Window.list_toplevels()
                             if isinstance(w, Adw.MessageDialog)]
        print("REPORT " + json.dumps(report), flush=True)
        app.quit()

    GLib.timeout_add(200, done)


app = chat_gtk.ChatApplication()
app.connect_after("activate", on_activate)
sys.exit(app.run([sys.argv[0]]))
"""


class Child:
    """A child process whose standard output lines are read as they come.
    Its standard input is a pipe: the Node scripts exit when it closes."""

    def __init__(self, name, argv, **kwargs):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, **kwargs)
        self.lines = queue.Queue()
        self.pump = threading.Thread(target=self._pump, daemon=True)
        self.pump.start()

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix, timeout=STEP_TIMEOUT):
        """Waits for a line starting with prefix; returns it."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{self.name}: no {prefix!r} within {timeout} s (saw {seen})")
            if line is None:
                raise AssertionError(f"{self.name}: exited before {prefix!r} (saw {seen})")
            if line.startswith(prefix):
                return line
            if line.startswith("ERROR"):
                raise AssertionError(f"{self.name}: {line}")
            seen.append(line)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self):
        """Closes its standard input (it exits then), kills it if it
        lingers, and closes its pipes."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.pump.join(timeout=3)
        self.proc.stdout.close()

    def crash(self):
        """SIGKILL, as a crash or a power cut would."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.stop()


class Faye(Child):
    def __init__(self, port=0):
        super().__init__(f"faye-server.js (port {port})",
                         ["node", os.path.join(INTEROP_DIR, "faye-server.js"), "--port", str(port)])
        self.port = int(self.expect("READY ").split()[1])
        self.url = f"http://127.0.0.1:{self.port}/faye"


class App:
    """A chat application, with its test hook file and its output."""

    def __init__(self, name, argv, workdir):
        self.name = name
        self.hook = os.path.join(workdir, name + ".hook")
        self.output = os.path.join(workdir, name + ".log")
        self.read = 0   # lines of the hook file already looked at
        env = dict(os.environ)
        env.update({
            "BAYEUX_GTK_TEST_FILE": self.hook,
            "GDK_BACKEND": "x11",
            "GTK_A11Y": "none",          # no accessibility bus on this display
            "GSK_RENDERER": "cairo",     # no GPU either
            "GSETTINGS_BACKEND": "memory",
        })
        env.pop("WAYLAND_DISPLAY", None)
        with open(self.output, "w") as output:
            self.proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                         stdout=output, stderr=subprocess.STDOUT)

    def hook_lines(self):
        try:
            with open(self.hook, encoding="utf-8") as file:
                return file.read().splitlines()
        except FileNotFoundError:
            return []

    def mark(self):
        """From now on, wait_for() only looks at what comes next."""
        self.read = len(self.hook_lines())

    def wait_for(self, line, timeout=STEP_TIMEOUT):
        """Waits for the application to show line (after the mark)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.hook_lines()
            for index in range(self.read, len(lines)):
                if lines[index] == line:
                    self.read = index + 1
                    return
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.proc.returncode}) before "
                                     f"showing {line!r}\n{self.report()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not show {line!r} within {timeout} s\n"
                                     f"{self.report()}")
            time.sleep(0.05)

    def wait_for_all(self, wanted, timeout=STEP_TIMEOUT):
        """Waits for the application to show each of wanted (after the mark),
        in any order: a message may come before the connect's reply (over a
        WebSocket, Faye sends what waited as soon as the socket is there)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.hook_lines()[self.read:]
            if all(line in lines for line in wanted):
                self.read += max(lines.index(line) for line in wanted) + 1
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.proc.returncode}) before "
                                     f"showing {wanted!r}\n{self.report()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not show {wanted!r} within {timeout} s\n"
                                     f"{self.report()}")
            time.sleep(0.05)

    def shows(self, line):
        return line in self.hook_lines()[self.read:]

    def subs(self, channel, since=0):
        """What the subscriptions panel showed for channel (its SUB lines
        from line since on), as (state, count) pairs."""
        shown = []
        for line in self.hook_lines()[since:]:
            if line.startswith("SUB "):
                name, state, count = line[len("SUB "):].rsplit(" ", 2)
                if name == channel:
                    shown.append((state, int(count)))
        return shown

    def wait_for_sub(self, channel, state, count, since=0, timeout=STEP_TIMEOUT):
        """Waits for the subscriptions panel to show channel in state with
        count messages (a SUB line from line since on: the panel's lines
        are written when a count changes, a message row when it is drawn,
        so they are not in a set order)."""
        deadline = time.monotonic() + timeout
        while (state, count) not in self.subs(channel, since):
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.proc.returncode}) before "
                                     f"showing {channel} {state} {count} in its panel\n"
                                     f"{self.report()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}'s panel did not show {channel} {state} "
                                     f"{count} within {timeout} s\n{self.report()}")
            time.sleep(0.05)

    def report(self):
        with open(self.output, errors="replace") as file:
            output = file.read()
        return (f"--- {self.name}: test hook:\n" + "\n".join(self.hook_lines()) +
                f"\n--- {self.name}: output:\n{output}")

    def terminate(self):
        """SIGTERM, as a session ending would; returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.name} did not exit after SIGTERM\n{self.report()}")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def free_port():
    """A loopback port that nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def publish(url, channel, data):
    """A Faye client publishes data on channel."""
    subprocess.run(["node", "-e", PUBLISH_JS, url, channel, json.dumps(data)], cwd=INTEROP_DIR,
                   check=True, timeout=STEP_TIMEOUT)


def say(url, user, text):
    """A Faye client says text as user on /chat/demo."""
    publish(url, CHANNEL, {"user": user, "chat": text})


def screenshot(path):
    """The chat window (or, failing that, the whole screen) as a PNG."""
    for window in (WINDOW_TITLE, "root"):
        result = subprocess.run(["import", "-window", window, path],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                timeout=STEP_TIMEOUT)
        if result.returncode == 0 and os.path.exists(path):
            return
    raise AssertionError(f"import failed: {result.stderr}")


def image_colors(path):
    """How many colours the picture has (a blank one has one)."""
    result = subprocess.run(["identify", "-format", "%k", path], capture_output=True, text=True,
                            check=True, timeout=STEP_TIMEOUT)
    return int(result.stdout.strip())


class ChatAppTest:
    """The test, run for each application (the subclasses)."""

    name = None
    nick = None

    def argv(self, url):
        raise NotImplementedError

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="bayeux-gtk-")
        self.children = []
        self.app = None

    def tearDown(self):
        if self.app is not None:
            self.app.kill()
        for child in self.children:
            child.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def start(self, child):
        self.children.append(child)
        return child

    def test_chat(self):
        server = self.start(Faye())
        subscriber = self.start(Child("peer.js subscriber", [
            "node", os.path.join(INTEROP_DIR, "peer.js"), "--kind", "faye", "--url", server.url,
            "--subscribe", CHANNEL, "--count", "1"]))
        subscriber.expect("READY")

        app = self.app = App(self.name, self.argv(server.url), self.workdir)
        app.wait_for("STATE handshaking")

        # The application's own message, seen by the peer and by itself.
        line = subscriber.expect("MSG ")
        self.assertEqual(json.loads(line[4:]), {"user": self.nick, "chat": "has joined"})
        subscriber.expect("DONE")
        app.wait_for_all(["STATE connected", f"ROW {self.nick}: has joined"])
        # The panel: both subscriptions confirmed, /chat/demo counting it.
        app.wait_for_sub(CHANNEL, "subscribed", 1)
        app.wait_for_sub(STATUS_CHANNEL, "subscribed", 0)

        # Others' messages: a chat line from a Faye client, and two from
        # peer.js (not chat messages: shown whole).
        say(server.url, "carol", f"Hi {self.nick}! Greetings from a Faye client.")
        app.wait_for(f"ROW carol: Hi {self.nick}! Greetings from a Faye client.")
        app.wait_for_sub(CHANNEL, "subscribed", 2)
        publisher = self.start(Child("peer.js publisher", [
            "node", os.path.join(INTEROP_DIR, "peer.js"), "--kind", "faye", "--url", server.url,
            "--publish", CHANNEL, "--count", "2"]))
        publisher.send("GO")
        publisher.expect("PUBLISHED 2")
        app.wait_for('ROW {"seq":0,"from":"peer"}')
        app.wait_for('ROW {"seq":1,"from":"peer"}')
        # Four messages so far, the panel following one by one; nothing
        # refused or ended.
        app.wait_for_sub(CHANNEL, "subscribed", 4)
        counts = [count for _state, count in app.subs(CHANNEL)]
        self.assertEqual(counts, sorted(counts), app.report())
        self.assertLessEqual({1, 2, 3, 4}, set(counts), app.report())
        # And one on /chat/status: counted there, not on /chat/demo (and
        # not shown as a message).
        publish(server.url, STATUS_CHANNEL, {"user": "carol", "status": "away"})
        app.wait_for_sub(STATUS_CHANNEL, "subscribed", 1)
        for channel in (CHANNEL, STATUS_CHANNEL):
            self.assertLessEqual({state for state, _count in app.subs(channel)},
                                 {"pending", "subscribed"}, app.report())
        self.assertEqual(max(count for _state, count in app.subs(CHANNEL)), 4, app.report())

        # What the window looks like.
        time.sleep(0.3)   # let the last row be drawn
        shot = os.path.join(self.workdir, "screenshot.png")
        screenshot(shot)
        self.assertGreater(image_colors(shot), 16, "the screenshot is blank")
        self.assertEqual([line for line in app.hook_lines() if '"status"' in line], [],
                         app.report())
        if SCREENSHOT_DIR and self.save_screenshot_as:
            os.makedirs(SCREENSHOT_DIR, exist_ok=True)
            shutil.copyfile(shot, os.path.join(SCREENSHOT_DIR, self.save_screenshot_as))

        # The server goes away and comes back on the same port: the
        # application says so, and reconnects (and resubscribes) by itself.
        # The new server does not know the session (Faye answers
        # `401:<client id>:Unknown client`): said in plain words.
        app.mark()
        crashed = len(app.hook_lines())
        server.crash()
        app.wait_for("STATE unconnected")
        app.wait_for("BANNER Connection lost. Reconnecting…")
        server = self.start(Faye(server.port))
        app.wait_for("STATE connected")
        app.wait_for("TOAST Reconnected: the connection is back")
        self.assertIn("BANNER The server restarted or forgot this session: joining again…",
                      app.hook_lines()[crashed:], app.report())
        # The new server did not know the subscriptions: pending again
        # (counts kept), until the client subscribed again by itself.
        for channel, count in ((CHANNEL, 4), (STATUS_CHANNEL, 1)):
            app.wait_for_sub(channel, "pending", count, since=crashed)
            app.wait_for_sub(channel, "subscribed", count, since=crashed)

        # The resubscription can be answered just after the first connect:
        # say it again until it comes through.
        welcome = f"ROW carol: Welcome back, {self.nick}."
        for _attempt in range(3):
            say(server.url, "carol", f"Welcome back, {self.nick}.")
            try:
                app.wait_for(welcome, timeout=2)
                break
            except AssertionError:
                continue
        else:
            app.wait_for(welcome, timeout=0)
        app.wait_for_sub(CHANNEL, "subscribed", 5, since=crashed)

        # SIGTERM: the window closes, the client disconnects first.
        app.mark()
        self.assertEqual(app.terminate(), 0, app.report())
        self.assertTrue(app.shows("STATE disconnected"), app.report())
        with open(app.output, errors="replace") as file:
            output = file.read()
        for bad in ("-CRITICAL", "-WARNING", "Traceback"):
            self.assertNotIn(bad, output, app.report())
        self.check_plain_words(app)
        print(f"\n--- {self.name} showed:", *app.hook_lines(), sep="\n  ", file=sys.stderr)

    def check_plain_words(self, app):
        for line in app.hook_lines():
            if line.startswith(("BANNER ", "TOAST ")):
                self.assertNotRegex(line, PROTOCOL_ERROR, app.report())

    def test_unreachable(self):
        """No server yet: the window says it cannot reach it (and no more),
        and connects by itself once a server listens there."""
        port = free_port()
        url = f"http://127.0.0.1:{port}/faye"
        app = self.app = App(self.name, self.argv(url), self.workdir)
        app.wait_for("STATE handshaking")
        app.wait_for(f"BANNER Cannot reach 127.0.0.1:{port}. Retrying…")
        # In the panel, /chat/demo waits for the server.
        app.wait_for_sub(CHANNEL, "pending", 0)
        self.assertNotIn(("subscribed", 0), app.subs(CHANNEL), app.report())
        self.start(Faye(port))
        app.wait_for_all(["STATE connected", f"ROW {self.nick}: has joined"])
        app.wait_for_sub(CHANNEL, "subscribed", 1)
        self.assertEqual(app.terminate(), 0, app.report())
        self.check_plain_words(app)
        print(f"\n--- {self.name} showed:", *app.hook_lines(), sep="\n  ", file=sys.stderr)


class TestChatC(ChatAppTest, unittest.TestCase):
    name = "chat-gtk (C)"
    nick = "alice"
    save_screenshot_as = "screenshot.png"

    def argv(self, url):
        return [CHAT_C, "--url", url, "--nick", self.nick, "--auto-connect"]


def skip_without_python_gtk(test):
    if os.environ.get("BAYEUX_GTK_NO_TYPELIB"):
        test.skipTest("this build has no Bayeux typelib")
    check = subprocess.run([sys.executable, "-c",
                            "import gi; gi.require_version('Gtk', '4.0'); "
                            "gi.require_version('Adw', '1'); gi.require_version('Bayeux', '1.0'); "
                            "from gi.repository import Adw, Bayeux, Gtk"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        test.skipTest(f"PyGObject, GTK 4, libadwaita or the Bayeux typelib missing: {check.stderr}")


class TestChatPython(ChatAppTest, unittest.TestCase):
    name = "chat-gtk.py"
    nick = "bob"
    save_screenshot_as = None

    def setUp(self):
        skip_without_python_gtk(self)
        super().setUp()

    def argv(self, url):
        return [sys.executable, CHAT_PY, "--url", url, "--nick", self.nick, "--auto-connect"]


class TestChatPythonControls(unittest.TestCase):
    """chat-gtk.py's entries and buttons, used as its user would (see
    DRIVE_PY): send a line from the message entry, Retry Now, send another,
    Disconnect, Connect with a bad URL, Connect again, close the window."""

    def setUp(self):
        skip_without_python_gtk(self)
        self.workdir = tempfile.mkdtemp(prefix="bayeux-gtk-")
        self.children = []
        self.app = None

    def tearDown(self):
        if self.app is not None:
            self.app.kill()
        for child in self.children:
            child.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def test_controls(self):
        nick = "dave"
        server = Faye()
        self.children.append(server)
        subscriber = Child("peer.js subscriber", [
            "node", os.path.join(INTEROP_DIR, "peer.js"), "--kind", "faye", "--url", server.url,
            "--subscribe", CHANNEL, "--count", "4"])
        self.children.append(subscriber)
        subscriber.expect("READY")

        app = self.app = App("chat-gtk.py (driven)", [
            sys.executable, "-c", DRIVE_PY, CHAT_PY, "--url", server.url, "--nick", nick,
            "--auto-connect"], self.workdir)
        chats = ["has joined", "typed in the entry", "after Retry Now", "has joined"]
        for chat in chats:
            try:
                line = subscriber.expect("MSG ")
            except AssertionError as error:
                raise AssertionError(f"{error}\n{app.report()}") from None
            self.assertEqual(json.loads(line[4:]), {"user": nick, "chat": chat})
        try:
            status = app.proc.wait(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the window was not closed\n{app.report()}")
        self.assertEqual(status, 0, app.report())

        lines = app.hook_lines()
        self.assertEqual([line for line in lines if line.startswith("ROW ")],
                         [f"ROW {nick}: {chat}" for chat in chats], app.report())
        self.assertEqual(lines.count("STATE connected"), 3, app.report())
        self.assertEqual(lines.count("STATE disconnected"), 3, app.report())
        # The panel: the first client's /chat/demo counted three messages
        # (across Retry Now); after Disconnect and Connect it lists the new
        # client's subscriptions, counting from 0 again.
        disconnected = [i for i, line in enumerate(lines) if line == "STATE disconnected"][1]
        self.assertIn(f"SUB {CHANNEL} subscribed 3", lines[:disconnected], app.report())
        self.assertIn(f"SUB {CHANNEL} subscribed 1", lines[disconnected:], app.report())
        self.assertNotIn(f"SUB {CHANNEL} subscribed 3", lines[disconnected:], app.report())
        self.assertIn(f"SUB {STATUS_CHANNEL} subscribed 0", lines[disconnected:], app.report())
        # Each asked for: no "Disconnected by the server".
        self.assertEqual([line for line in lines if line.startswith("TOAST ")],
                         ["TOAST Reconnected: the connection is back",
                          "TOAST \u201cnot a url\u201d is not an http:// or https:// URL"],
                         app.report())


class TestChatPythonErrorWords(unittest.TestCase):
    """chat-gtk.py's error_to_text(): plain words, the library's message in
    the details (never a client id); the banner's tooltip; a toast's
    Details dialog."""

    def setUp(self):
        skip_without_python_gtk(self)

    def test_error_words(self):
        workdir = tempfile.mkdtemp(prefix="bayeux-gtk-")
        self.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
        app = App("chat-gtk.py (error words)", [sys.executable, "-c", DETAILS_PY, CHAT_PY], workdir)
        try:
            app.proc.wait(timeout=STEP_TIMEOUT)
        except subprocess.TimeoutExpired:
            app.kill()
        with open(app.output, errors="replace") as file:
            output = file.read()
        lines = [line for line in output.splitlines() if line.startswith("REPORT ")]
        self.assertEqual(len(lines), 1, app.report())
        report = json.loads(lines[0][len("REPORT "):])
        texts = report["texts"]
        self.assertEqual(texts["unknown-client"],
                         ["The server restarted or forgot this session: joining again…", None])
        self.assertEqual(texts["refused"], ["Cannot reach 127.0.0.1:8000",
                                            "Could not connect to 127.0.0.1: Connection refused"])
        self.assertEqual(texts["tls"][0], "The server's certificate is not trusted")
        self.assertEqual(texts["timeout"][0], "127.0.0.1:8000 is not answering")
        self.assertEqual(texts["http"], ["The server at 127.0.0.1:8000 answered with an error",
                                         "HTTP error 503 Service Unavailable"])
        self.assertEqual(texts["other"], ["Something went wrong with 127.0.0.1:8000", "Something odd"])
        for text, _details in texts.values():
            self.assertNotRegex(text, PROTOCOL_ERROR)
        self.assertEqual(report["tooltip"], "Could not connect")
        self.assertIsNone(report["tooltip after"])
        self.assertEqual(report["dialogs"], [["Details", "HTTP error 503"]])
        for bad in ("-CRITICAL", "-WARNING", "Traceback"):
            self.assertNotIn(bad, output, app.report())


def missing():
    """What the test needs and does not have, or None."""
    if not CHAT_C or not os.access(CHAT_C, os.X_OK):
        return "BAYEUX_GTK_CHAT does not name the built bayeux-chat-gtk"
    for program in ("node", "xvfb-run", "import", "identify"):
        if shutil.which(program) is None:
            return f"{program} is not on PATH"
    if not os.path.isdir(os.path.join(INTEROP_DIR, "node_modules")):
        return f"{INTEROP_DIR}/node_modules is missing (npm ci --prefix tests/interop)"
    return None


def main():
    if not os.environ.get("BAYEUX_GTK_UNDER_XVFB"):
        why = missing()
        if why is not None:
            if os.environ.get("BAYEUX_INTEROP_REQUIRED"):
                print(f"test-gtk: FAIL: {why}", file=sys.stderr)
                return 1
            print(f"test-gtk: skipped: {why}", file=sys.stderr)
            return SKIP
        # Again, on a display of its own.
        env = dict(os.environ, BAYEUX_GTK_UNDER_XVFB="1")
        return subprocess.call(XVFB_RUN + [sys.executable, os.path.abspath(__file__)]
                               + sys.argv[1:], env=env)
    unittest.main(verbosity=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
