# subscriptions.py: subscription handles, pausing and per-publish ext,
# through PyGObject.
#
# Two parts of an application ("ticker" and "audit") each take a handle of
# their own on /demo/stocks; the server sees one subscription. Then:
#
#   1. it publishes "one": both handles get it;
#   2. audit cancels its handle: ticker still gets "two" (the server is told
#      to unsubscribe only when the last handle goes);
#   3. it pauses the client and publishes "three" and "four": they are held
#      until it resumes, then delivered in order;
#   4. it disconnects and quits.
#
# Every publish carries an ext of its own ({"trace": N}), which Faye hands
# on to the subscribers (other servers may not).
#
#   /usr/bin/python3 examples/subscriptions.py URL
#
# From a build folder that was not installed, point GObject-Introspection and
# the dynamic linker at it, e.g.:
#
#   GI_TYPELIB_PATH=_build/bayeux-glib LD_LIBRARY_PATH=_build/bayeux-glib \
#     /usr/bin/python3 examples/subscriptions.py http://127.0.0.1:8000/faye
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Json", "1.0")
gi.require_version("Bayeux", "1.0")
from gi.repository import Bayeux, GLib, Json  # noqa: E402

CHANNEL = "/demo/stocks"


def to_json(value):
    return Json.from_string(json.dumps(value))


class Demo:
    def __init__(self, url):
        self.loop = GLib.MainLoop()
        self.exit_code = 0
        self.traces = 0
        self.waiting = None  # (how many messages ticker must have, then what)
        self.client = Bayeux.Client.new(url)
        self.client.connect("error", self.on_error)

    def run(self):
        # ticker's handle is made at once; it is pending until the server
        # confirms the subscription (see its "state" property).
        self.ticker = self.client.add_subscription(CHANNEL, None)
        self.ticker.connect("message", self.on_message, "ticker")
        # audit waits for the server's confirmation to get its handle.
        self.client.add_subscription_async(CHANNEL, None, None, self.on_audit_subscribed)
        self.client.start()
        self.loop.run()
        self.client.stop()
        return self.exit_code

    def publish(self, text):
        # publish_full_async: the same as publish_async, with an ext for
        # this one message.
        self.traces += 1
        self.client.publish_full_async(CHANNEL, to_json({"text": text}), to_json({"trace": self.traces}),
                                       None, self.on_published)

    def when_ticker_has(self, count, then):
        """Calls then() once ticker has received count messages."""
        self.waiting = (count, then)

    def on_audit_subscribed(self, client, result):
        try:
            self.audit = client.add_subscription_finish(result)
        except GLib.Error as error:
            print(f"subscribe {CHANNEL}: {error.message}", file=sys.stderr)
            self.quit(1)
            return
        self.audit.connect("message", self.on_message, "audit")
        handles = client.get_subscriptions().get_n_items()
        print(f"{handles} handles on {CHANNEL}", flush=True)
        self.publish("one")
        self.when_ticker_has(1, self.cancel_audit)

    def cancel_audit(self):
        self.audit.cancel()
        left = self.client.get_subscriptions().get_n_items()
        print(f"audit cancelled, {left} handle left", flush=True)
        self.publish("two")
        self.when_ticker_has(2, self.pause)

    def pause(self):
        # No messages are delivered while paused: they wait (on the server,
        # or held by the client) until delivery resumes.
        self.client.props.paused = True
        print("paused", flush=True)
        self.publish("three")
        self.publish("four")
        GLib.timeout_add(500, self.resume)

    def resume(self):
        print("resuming", flush=True)
        self.client.props.paused = False
        self.when_ticker_has(4, self.finish)
        return GLib.SOURCE_REMOVE

    def finish(self):
        print(f"ticker got {self.ticker.props.message_count} messages, "
              f"audit {self.audit.props.message_count}", flush=True)
        self.client.disconnect_async(None, self.on_disconnected)

    def quit(self, exit_code=0):
        self.exit_code = exit_code
        self.loop.quit()

    def on_message(self, handle, message, name):
        text = message.get_data_json()   # the data as the server sent it
        ext = message.get_ext()  # a Json.Object: the ext the publisher sent
        if ext is not None and ext.has_member("trace"):
            text += f" (trace {ext.get_int_member('trace')})"
        print(f"{name}: {text}", flush=True)
        if handle is self.ticker and self.waiting and handle.props.message_count >= self.waiting[0]:
            # The next step runs once this message has reached every handle.
            GLib.idle_add(self.run_step, self.waiting[1])
            self.waiting = None

    @staticmethod
    def run_step(step):
        step()
        return GLib.SOURCE_REMOVE

    def on_published(self, client, result):
        try:
            client.publish_full_finish(result)
        except GLib.Error as error:
            print(f"publish: {error.message}", file=sys.stderr)
            self.quit(1)

    def on_error(self, client, error, message):
        print(f"error: {error.message}", file=sys.stderr)

    def on_disconnected(self, client, result):
        try:
            client.disconnect_finish(result)
        except GLib.Error as error:
            print(f"disconnect: {error.message}", file=sys.stderr)
        self.quit(self.exit_code)


def main():
    if len(sys.argv) != 2:
        print("Usage: subscriptions.py URL", file=sys.stderr)
        return 2
    return Demo(sys.argv[1]).run()


if __name__ == "__main__":
    sys.exit(main())
