# chat.py: the chat example through PyGObject.
#
# It joins /chat/demo, says that it has joined, prints every chat message
# that arrives as "user: chat", and sends each line typed on its standard
# input. Ctrl-C disconnects and quits.
#
#   /usr/bin/python3 examples/chat.py [--count N] URL [NAME]
#
# From a build folder that was not installed, point GObject-Introspection and
# the dynamic linker at it, e.g.:
#
#   GI_TYPELIB_PATH=_build/bayeux-glib LD_LIBRARY_PATH=_build/bayeux-glib \
#     /usr/bin/python3 examples/chat.py http://127.0.0.1:8000/faye
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import getpass
import json
import os
import signal
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Gio", "2.0")
gi.require_version("Bayeux", "1.0")
from gi.repository import Bayeux, Gio, GLib  # noqa: E402

CHANNEL = "/chat/demo"


class Chat:
    def __init__(self, url, name, count):
        self.name = name
        self.count = count
        self.received = 0
        self.exit_code = 0
        self.quitting = False
        self.loop = GLib.MainLoop()
        self.cancellable = Gio.Cancellable()
        self.client = Bayeux.Client.new(url)
        self.client.connect("message::" + CHANNEL, self.on_message)
        self.client.connect("error", self.on_error)
        stdin = Gio.UnixInputStream.new(sys.stdin.fileno(), False)
        self.input = Gio.DataInputStream.new(stdin)

    def run(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, self.on_quit_signal)
        # Held until the handshake completes, then sent.
        self.client.subscribe_async(CHANNEL, None, self.on_subscribed)
        self.client.start()
        print(f"{self.name} joining {CHANNEL} on {self.client.props.url} (Ctrl-C to quit)",
              file=sys.stderr)
        self.loop.run()
        self.client.stop()
        return self.exit_code

    def say(self, text):
        text = json.dumps({"user": self.name, "chat": text})
        self.client.publish_json_async(CHANNEL, text, None, self.on_published)

    def quit(self):
        if self.quitting:
            return
        self.quitting = True
        self.cancellable.cancel()
        self.client.disconnect_async(None, self.on_disconnected)

    def on_subscribed(self, client, result):
        try:
            client.subscribe_finish(result)
        except GLib.Error as error:
            print(f"subscribe {CHANNEL}: {error.message}", file=sys.stderr)
            self.exit_code = 1
            self.quit()
            return
        # Subscribed: what is published from now on comes back to us, our
        # own join message included.
        self.say("has joined")
        self.read_next_line()

    def on_published(self, client, result):
        try:
            client.publish_json_finish(result)
        except GLib.Error as error:
            print(f"publish: {error.message}", file=sys.stderr)

    def on_message(self, client, message):
        # The data as the server sent it, for json.loads (None: no data).
        text = message.get_data_json()
        chat = json.loads(text) if text is not None else None
        if isinstance(chat, dict) and "user" in chat and "chat" in chat:
            print(f"{chat['user']}: {chat['chat']}", flush=True)
        else:
            print(message.to_string(), flush=True)
        self.received += 1
        if self.count and self.received >= self.count:
            self.quit()

    def on_error(self, client, error, message):
        if message is not None and message.get_channel():
            print(f"error ({message.get_channel()}): {error.message}", file=sys.stderr)
        else:
            print(f"error: {error.message}", file=sys.stderr)

    def on_disconnected(self, client, result):
        try:
            client.disconnect_finish(result)
        except GLib.Error as error:
            print(f"disconnect: {error.message}", file=sys.stderr)
        self.loop.quit()

    def read_next_line(self):
        self.input.read_line_async(GLib.PRIORITY_DEFAULT, self.cancellable, self.on_line)

    def on_line(self, stream, result):
        try:
            line, _length = stream.read_line_finish_utf8(result)
        except GLib.Error as error:
            if not error.matches(Gio.io_error_quark(), Gio.IOErrorEnum.CANCELLED):
                print(f"stdin: {error.message}", file=sys.stderr)
            return
        if line is None:
            return  # end of input: keep listening
        line = line.strip()
        if line:
            self.say(line)
        self.read_next_line()

    def on_quit_signal(self):
        if self.quitting:
            self.loop.quit()  # a second Ctrl-C: stop waiting for the server
        else:
            print("disconnecting…", file=sys.stderr)
            self.quit()
        return GLib.SOURCE_CONTINUE


def main():
    parser = argparse.ArgumentParser(description=f"Chat on {CHANNEL}. Type a line to send it; "
                                                 "Ctrl-C to quit.")
    parser.add_argument("url", help="the Bayeux server, e.g. http://127.0.0.1:8000/faye")
    parser.add_argument("name", nargs="?", default=getpass.getuser(), help="your name")
    parser.add_argument("-n", "--count", type=int,
                        default=int(os.environ.get("BAYEUX_CHAT_COUNT", "0")),
                        help="disconnect and quit after N messages")
    args = parser.parse_args()
    return Chat(args.url, args.name, args.count).run()


if __name__ == "__main__":
    sys.exit(main())
