#!/usr/bin/python3
# py-subscriber.py: the measured side of the fan-out (scenario 3) in Python,
# through PyGObject and the Bayeux-1.0 typelib: what a Python application
# pays for the binding on top of the library.
#
#   py-subscriber.py --url URL --channel C [--server NAME]
#                    [--transport long-polling|websocket] [--subscribers N]
#                    [--data-path json|node]
#
# SUBSCRIBERS BayeuxClients in this process, each subscribed to CHANNEL with
# a detailed `message` handler that does what the other subscribers' do:
# read `seq` (and the publisher's clock `t`, for the latency) from the
# message's data. --data-path json (the default) reads it as an application
# should: json.loads(message.get_data_json()); --data-path node the way the
# docs said before get_data_json existed:
# json.loads(Json.to_string(message.get_data(), False)).
#
# bayeux-bench --scenario fanout starts this process and talks to it on
# stdin/stdout as to bayeux-bench --scenario fanout-subscribe (READY, COUNT,
# QUIT: see run_fanout_subscribe in bench-client.c); CPU is
# getrusage(RUSAGE_SELF), as there. Run it with /usr/bin/python3 (the one
# with PyGObject), the build folder first in GI_TYPELIB_PATH and
# LD_LIBRARY_PATH (run.sh sets them).
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import json
import os
import resource
import sys

import gi

gi.require_version("GLib", "2.0")
gi.require_version("Json", "1.0")
gi.require_version("Bayeux", "1.0")
from gi.repository import Bayeux, GLib, Json  # noqa: E402


def cpu_us():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1e6


def status_kib(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--channel", required=True)
    parser.add_argument("--server", default="none")
    parser.add_argument("--transport", default="long-polling")
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--data-path", choices=("json", "node"), default="json")
    args = parser.parse_args()

    name = "bayeux-glib-python" if args.data_path == "json" else "bayeux-glib-python-node"
    report = {"scenario": "fanout-subscriber", "client": name, "server": args.server,
              "transport": args.transport, "data_path": args.data_path}
    n = max(args.subscribers, 1)
    state = {"delivered": 0, "out_of_order": 0, "lat_max": 0, "lat_sum": 0, "lat_n": 0,
             "subscribed": 0, "failed": 0, "errors": 0, "quit": False, "eof": False}
    loop = GLib.MainLoop()
    monotonic = GLib.get_monotonic_time
    loads = json.loads
    to_string = Json.to_string

    def make_handler():
        last = [-1]

        def read(message):
            if args.data_path == "json":
                text = message.get_data_json()
                return loads(text) if text is not None else None
            node = message.get_data()
            return loads(to_string(node, False)) if node is not None else None

        def on_message(client, message):
            data = read(message)
            seq, t = -1, 0
            if isinstance(data, dict):
                seq = data.get("seq", -1)
                t = data.get("t", 0)
            state["delivered"] += 1
            if seq <= last[0]:
                state["out_of_order"] += 1
            last[0] = seq
            if t > 0:
                latency = monotonic() - t
                if latency > state["lat_max"]:
                    state["lat_max"] = latency
                state["lat_sum"] += latency
                state["lat_n"] += 1
        return on_message

    def on_subscribed(client, result):
        try:
            client.subscribe_finish(result)
            state["subscribed"] += 1
        except GLib.Error:
            state["failed"] += 1

    def on_error(client, error, message):
        state["errors"] += 1

    clients = []
    for _ in range(n):
        client = Bayeux.Client(url=args.url, transports=[args.transport])
        client.connect("error", on_error)
        client.connect("message::" + args.channel, make_handler())
        # As bayeux-bench's subscribers: a backlog in one long-poll reply
        # must not be refused (bench/README.md).
        client.set_max_message_size(64 * 1024 * 1024)
        client.subscribe_async(args.channel, None, on_subscribed)
        client.start()
        clients.append(client)

    def connected(client):
        return client.props.state == Bayeux.ClientState.CONNECTED

    def finish(error=None):
        report["delivered"] = state["delivered"]
        report["out_of_order"] = state["out_of_order"]
        report["errors"] = state["errors"]
        report["peak_rss_kib"] = status_kib("VmHWM")
        report["rss_kib"] = status_kib("VmRSS")
        report["rss_anon_kib"] = status_kib("RssAnon")
        report["threads"] = status_kib("Threads")
        report["process_cpu_s"] = cpu_us() / 1e6
        if error:
            report["error"] = error
        print(json.dumps(report, separators=(",", ":")), flush=True)
        return 1 if error else 0

    # Connected and subscribed within 30 s; then 200 ms for the long polls
    # to be held (as peer-bench.js waits; the count of requests in flight
    # that bayeux-bench waits on is not public API).
    deadline = monotonic() + 30 * 1000000
    context = GLib.MainContext.default()
    while monotonic() < deadline:
        if state["subscribed"] + state["failed"] >= n and all(connected(c) for c in clients):
            break
        context.iteration(True)
    else:
        return finish("the subscribers did not connect and subscribe within 30 s")
    settle = monotonic() + 200000
    while monotonic() < settle:
        context.iteration(False) or GLib.usleep(1000)
    if state["failed"]:
        return finish("a subscription failed")
    used = clients[0].props.transport
    report["transport_used"] = used or "unknown"
    if used and used != args.transport:
        return finish(f"asked for {args.transport}, the client runs on {used}")

    buffered = bytearray()

    def on_stdin(fd, condition):
        try:
            chunk = os.read(fd, 256)
        except BlockingIOError:
            return GLib.SOURCE_CONTINUE
        if not chunk:
            state["eof"] = True
            loop.quit()
            return GLib.SOURCE_REMOVE
        buffered.extend(chunk)
        while b"\n" in buffered:
            line, _, rest = bytes(buffered).partition(b"\n")
            buffered[:] = rest
            line = line.decode().strip()
            if line == "COUNT":
                print(f"COUNT {state['delivered']} {monotonic()} {cpu_us():.0f} {state['lat_max']} "
                      f"{state['lat_sum']} {state['lat_n']} -1", flush=True)
                state["lat_max"] = state["lat_sum"] = state["lat_n"] = 0
            elif line == "QUIT":
                state["quit"] = True
                loop.quit()
        return GLib.SOURCE_CONTINUE

    os.set_blocking(0, False)
    GLib.unix_fd_add_full(GLib.PRIORITY_DEFAULT, 0, GLib.IOCondition.IN | GLib.IOCondition.HUP, on_stdin)
    print(f"READY {os.getpid()} {name} {used or args.transport} {n}", flush=True)
    loop.run()
    for client in clients:
        client.stop()
    return finish(None if state["quit"] else "the driver went away")


if __name__ == "__main__":
    sys.exit(main())
