# salesforce.py: events from the Salesforce Streaming API (PushTopic,
# platform events, Change Data Capture) through PyGObject; the twin of
# salesforce.c.
#
# It subscribes to one channel (a filtered PushTopic channel too:
# "/topic/Invoices?Status__c=Open"), prints each event as
# "event <replayId> <payload>", keeps the replay id of the last one in a
# state file so that a restart picks up where it stopped, and when the OAuth
# access token expires gets a new one with the refresh token and goes on. It
# never prints a token.
#
#   /usr/bin/python3 examples/salesforce.py [OPTION...]
#
#   --instance-url URL   SALESFORCE_INSTANCE_URL   https://MyDomain.my.salesforce.com
#   --access-token T     SALESFORCE_ACCESS_TOKEN
#   --refresh-token R    SALESFORCE_REFRESH_TOKEN  (no refresh without it)
#   --client-id C        SALESFORCE_CLIENT_ID      the connected app's consumer key
#   --client-secret S    SALESFORCE_CLIENT_SECRET  if the app requires it
#   --channel NAME       SALESFORCE_CHANNEL        /event/Order_Placed__e, /data/ChangeEvents...
#   --state-file PATH    default: $XDG_STATE_HOME/bayeux-salesforce/replay.ini
#   --api-version V      default 59.0
#   --max-events N       quit after N events (the tests use it)
#
# From a build folder that was not installed:
#
#   GI_TYPELIB_PATH=_build/bayeux-glib LD_LIBRARY_PATH=_build/bayeux-glib \
#     /usr/bin/python3 examples/salesforce.py --channel /event/Order_Placed__e
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import json
import os
import signal
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Soup", "3.0")
gi.require_version("Bayeux", "1.0")
from gi.repository import Bayeux, GLib, Soup  # noqa: E402

MAX_MESSAGE_SIZE = 10 * 1024 * 1024


class Events:
    def __init__(self, args):
        self.args = args
        self.received = 0
        self.exit_code = 0
        self.quitting = False
        self.loop = GLib.MainLoop()
        self.http = Soup.Session()

        # The CometD endpoint of the instance; long polling is all Salesforce has.
        url = f"{args.instance_url}/cometd/{args.api_version}"
        self.client = Bayeux.Client.new(url)
        self.client.set_header("Authorization", "Bearer " + args.access_token)
        # Salesforce offers long polling only: no WebSocket upgrade to try first.
        self.client.set_transports(["long-polling"])
        # One event (a record with long text fields) may pass the default
        # 1 MiB a message; an answer of many events is bounded by
        # max-response-size (64 MiB), not by this (EMP-Connector issue 60,
        # "Buffering capacity 1048576 exceeded", was about whole answers).
        self.client.props.max_message_size = MAX_MESSAGE_SIZE

        # Replay: from the id kept in the state file (the first run: new
        # events only), written as events arrive, and on exit.
        self.replay = Bayeux.ReplayExtension(state_file=args.state_file)
        self.client.add_extension(self.replay)
        base = args.channel.split("?", 1)[0]
        found, last = self.replay.get_replay_id(base)
        if found:
            print(f"resuming {base} after {last}", flush=True)

        self.client.connect("message", self.on_event)
        self.client.connect("error", self.on_error)
        self.client.connect("authenticate", self.on_authenticate)

    def run(self):
        for signum in (signal.SIGINT, signal.SIGTERM):
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, self.on_quit_signal)
        self.client.subscribe_async(self.args.channel, None, self.on_subscribed)
        self.client.start()
        self.loop.run()
        # The last replay ids, now (the extension writes them a second
        # after they change, and when it goes).
        try:
            self.replay.save()
        except GLib.Error as error:
            print(f"salesforce.py: {error.message}", file=sys.stderr)
        self.client.stop()
        self.client = None
        self.replay = None
        return self.exit_code

    def quit(self, exit_code=0):
        if self.quitting:
            return
        self.quitting = True
        if exit_code:
            self.exit_code = exit_code
        self.client.disconnect_async(None, self.on_disconnected)

    def on_disconnected(self, client, result):
        try:
            client.disconnect_finish(result)
        except GLib.Error:
            pass  # we are leaving anyway
        self.loop.quit()

    def on_subscribed(self, client, result):
        try:
            client.subscribe_finish(result)
        except GLib.Error as error:
            # A client that stopped said why through "error" already.
            if client.props.state != Bayeux.ClientState.DISCONNECTED:
                print(f"salesforce.py: {error.message}", file=sys.stderr)
            self.quit(1)
            return
        print(f"subscribed {self.args.channel}", flush=True)

    # Each event: data.event.replayId, and the record (data.sobject,
    # PushTopic) or the payload (data.payload, platform and change events).
    def on_event(self, client, message):
        text = message.get_data_json()   # the data as Salesforce sent it
        if text is None:
            return
        data = json.loads(text)
        if not isinstance(data, dict):
            return
        event = data.get("event")
        payload = data.get("sobject", data.get("payload"))
        if not isinstance(event, dict) or payload is None:
            return
        text = json.dumps(payload, separators=(",", ":"))
        print(f"event {event.get('replayId', -1)} {text}", flush=True)
        self.received += 1
        if self.args.max_events and self.received >= self.args.max_events:
            self.quit()

    def on_error(self, client, error, message):
        print(f"salesforce.py: {error.message}", file=sys.stderr)
        if client.props.state == Bayeux.ClientState.DISCONNECTED and not self.quitting:
            self.exit_code = 1
            self.loop.quit()

    # The access token expired (or was revoked): get a new one, without
    # blocking the main loop. Refused twice in a row: give up.
    def on_authenticate(self, client, error, retrying):
        args = self.args
        if retrying or not args.refresh_token or not args.client_id:
            print(f"salesforce.py: authentication failed: {error.message}", file=sys.stderr)
            return False  # reported through ::error, and the client stops
        form = {"grant_type": "refresh_token", "refresh_token": args.refresh_token,
                "client_id": args.client_id}
        if args.client_secret:
            form["client_secret"] = args.client_secret
        msg = Soup.Message.new_from_encoded_form("POST", f"{args.instance_url}/services/oauth2/token",
                                                 Soup.form_encode_hash(form))
        if msg is None:
            print("salesforce.py: bad instance URL", file=sys.stderr)
            return False
        print("access token refused: refreshing it", flush=True)
        self.http.send_and_read_async(msg, GLib.PRIORITY_DEFAULT, None, self.on_token, msg)
        return True

    # The token endpoint's answer: the new access token goes in the header,
    # and the client handshakes again with it (and subscribes again, from
    # the last replay id).
    def on_token(self, session, result, msg):
        token = None
        reason = None
        try:
            body = session.send_and_read_finish(result)
            if msg.get_status() == Soup.Status.OK:
                token = json.loads(body.get_data().decode("utf-8")).get("access_token")
            else:
                reason = f"HTTP {msg.get_status()}"
        except (GLib.Error, ValueError) as error:
            reason = getattr(error, "message", str(error))
        if not token:
            print(f"salesforce.py: the token refresh failed: {reason}", file=sys.stderr)
            self.quit(1)
            return
        print("token refreshed", flush=True)
        self.client.set_header("Authorization", "Bearer " + token)
        self.client.reconnect()

    def on_quit_signal(self):
        self.quit()
        return GLib.SOURCE_CONTINUE


def main():
    env = os.environ.get
    default_state = os.path.join(GLib.get_user_state_dir(), "bayeux-salesforce", "replay.ini")
    parser = argparse.ArgumentParser(description="Print Salesforce Streaming API events.")
    parser.add_argument("--instance-url", default=env("SALESFORCE_INSTANCE_URL"))
    parser.add_argument("--access-token", default=env("SALESFORCE_ACCESS_TOKEN"))
    parser.add_argument("--refresh-token", default=env("SALESFORCE_REFRESH_TOKEN"))
    parser.add_argument("--client-id", default=env("SALESFORCE_CLIENT_ID"))
    parser.add_argument("--client-secret", default=env("SALESFORCE_CLIENT_SECRET"))
    parser.add_argument("--channel", default=env("SALESFORCE_CHANNEL"))
    parser.add_argument("--state-file", default=default_state)
    parser.add_argument("--api-version", default="59.0")
    parser.add_argument("--max-events", type=int, default=0, help="quit after N events")
    args = parser.parse_args()
    if not (args.instance_url and args.access_token and args.channel):
        parser.error("the instance URL, an access token and a channel are needed")
    return Events(args).run()


if __name__ == "__main__":
    sys.exit(main())
