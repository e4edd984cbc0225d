# getting-started.py: subscribe to a channel, publish a message on it,
# print the message when the server delivers it back, and disconnect.
#
#   /usr/bin/python3 getting-started.py http://127.0.0.1:8000/faye

import json
import sys

import gi
gi.require_version("Bayeux", "1.0")
from gi.repository import Bayeux, GLib

CHANNEL = "/hello"
url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/faye"
loop = GLib.MainLoop()
status = 0
# Done once the message came back and the publish was confirmed (the
# delivery may come first: over a WebSocket the server sends them in any
# order, and a disconnect fails what still waits for an answer).
waiting_for = {"message", "publish"}


def fail(what, error):
    global status
    print(f"{what}: {error.message}", file=sys.stderr)
    status = 1
    loop.quit()


def on_message(client, message):
    # Each message that arrives on our subscription to CHANNEL: its data
    # as the server sent it, JSON text for Python's json module.
    data = json.loads(message.get_data_json())
    print(f'received "{data["text"]}" on {message.get_channel()}')
    done(client, "message")


def done(client, what):
    waiting_for.discard(what)
    if not waiting_for:
        # Tell the server goodbye, then quit.
        client.disconnect_async(None, on_disconnected)


def on_disconnected(client, result):
    try:
        client.disconnect_finish(result)
    except GLib.Error as error:
        print("disconnect:", error.message, file=sys.stderr)
    loop.quit()


def on_error(client, error, message):
    # Failures that no _finish function reports: lost connections (the
    # client recovers by itself), refusals of fire-and-forget calls.
    print("error:", error.message, file=sys.stderr)


def on_subscribed(client, result):
    try:
        client.subscribe_finish(result)
    except GLib.Error as error:   # Bayeux.Error.REFUSED, for example
        fail("subscribe", error)
        return
    # Subscribed: what we publish now comes back to us.
    text = json.dumps({"text": "Hello from Python"})
    client.publish_json_async(CHANNEL, text, None, on_published)


def on_published(client, result):
    try:
        client.publish_json_finish(result)   # the server's reply, a Bayeux.Message
    except GLib.Error as error:
        fail("publish", error)
        return
    done(client, "publish")


client = Bayeux.Client.new(url)
client.connect("message::" + CHANNEL, on_message)
client.connect("error", on_error)
# Held until the handshake is done, then sent.
client.subscribe_async(CHANNEL, None, on_subscribed)
client.start()
loop.run()
sys.exit(status)
