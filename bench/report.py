#!/usr/bin/env python3
# report.py: turns the raw measurements of bench/run.sh (one JSON object a
# line, from bayeux-bench and peer-bench.js) into OUT/latest.json,
# OUT/latest.md (a table with the ratios ours/peer, and the targets)
# and OUT/latency-cdf.gp (gnuplot, for latency-cdf.png) with its data.
# Standard library only.
#
#   report.py --raw RAW.jsonl --machine JSON --out DIR
#   report.py --from-json OUT/latest.json      (the same again, from its output)
#   report.py --callgrind PROFILE --callgrind-floor PROFILE --rounds N
#             --exchanges N [--result JSON]
#
# The second form summarises run.sh --callgrind's two profiles (our
# ping-pong, libsoup's floor) on stdout: instructions per round trip against
# instructions per bare exchange, by library, and the top functions.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import argparse
import collections
import json
import os
import re
import subprocess

OURS = 'bayeux-glib'
# Our library through its bindings (bench/py-subscriber.py,
# bench/gjs-subscriber.js): fan-out only, compared with the peer as ours is.
# The -node ones read the data the old way (Json.to_string, then the
# language's JSON parser), for comparison.
BINDINGS = ('bayeux-glib-python', 'bayeux-glib-gjs', 'bayeux-glib-python-node', 'bayeux-glib-gjs-node')
PEER_OF_SERVER = {'cometd': 'cometd-js', 'faye': 'faye-node'}
LP = 'long-polling'
WS = 'websocket'

# (scenario, metric, unit, lower is better): the rows of the table.
METRICS = [
    ('pingpong', 'p50_us', 'µs', True),
    ('pingpong', 'p99_us', 'µs', True),
    ('pingpong', 'max_us', 'µs', True),
    ('pingpong', 'cpu_us_per_rt', 'µs CPU', True),
    ('pingpong', 'http_requests_per_rt', 'requests', True),
    ('pingpong', 'peak_rss_kib', 'KiB', True),
    ('pingpong', 'rss_anon_kib', 'KiB', True),
    ('fanout', 'delivered_msgs_per_s', 'msg/s', False),
    ('fanout', 'client_cpu_pct', '% of a core', True),
    ('fanout', 'server_cpu_pct', '% of a core', True),
    ('fanout', 'client_cpu_us_per_msg', 'µs CPU', True),
    ('fanout', 'client_saturates_at_msgs_per_s', 'msg/s', False),
    ('fanout', 'limit', '', None),
    ('fanout', 'common_msgs_per_s', 'msg/s', None),
    ('fanout', 'client_cpu_us_per_msg_common', 'µs CPU', True),
    ('fanout', 'client_cpu_pct_common', '% of a core', True),
    ('many', 'rss_per_client_kib', 'KiB', True),
    ('many', 'connect_all_ms', 'ms', True),
    ('many', 'deliver_all_ms', 'ms', True),
    ('many', 'received', 'clients', False),
    ('idle', 'cpu_ms_per_min', 'ms CPU', True),
    ('idle', 'wakeups_per_min', '', True),
    ('idle', 'main_thread_wakeups', '', True),
    ('idle', 'loop_iterations_per_min', '', True),
    ('idle', 'rss_anon_kib', 'KiB', True),
    ('parse', 'msgs_per_s', 'msg/s', False),
    ('parse', 'msgs_per_s_listeners', 'msg/s', False),
    ('parse', 'msgs_per_s_one_handler', 'msg/s', False),
    ('parse', 'msgs_per_s_parse_wrap_lookup', 'msg/s', False),
    ('parse', 'msgs_per_s_parse_only', 'msg/s', False),
    ('allocs', 'allocs_per_msg_one_handler', 'allocations', True),
    ('allocs', 'allocs_per_msg_parse_wrap_lookup', 'allocations', True),
    ('allocs', 'allocs_per_msg_parse_only', 'allocations', True),
    ('allocs-fanout', 'allocs_per_delivered_msg', 'allocations', True),
    ('soup', 'cpu_us_per_exchange', 'µs CPU', True),
    ('soup', 'p50_us', 'µs', True),
]

SCENARIO_TITLES = {
    'pingpong': '1, 2. ping-pong latency and client cost',
    'fanout': '3. fan-out throughput',
    'many': '4. many clients',
    'idle': '5. idle cost',
    'parse': '6. parse path',
    'allocs': '6b. allocations per message, parse path',
    'allocs-fanout': '6c. allocations per delivered message, fan-out subscriber',
    'soup': "7. libsoup's floor",
}


def fmt(value):
    if value is None:
        return '–'
    if isinstance(value, float):
        mag = abs(value)
        if mag >= 1000:
            return f'{value:,.0f}'
        if mag >= 100:
            return f'{value:.1f}'
        if mag >= 10:
            return f'{value:.2f}'
        return f'{value:.3f}'
    if isinstance(value, int):
        return f'{value:,}'
    return str(value)


def transport_of(r):
    return r.get('transport', LP)


def usable(r):
    return 'error' not in r and 'not_available' not in r


def find(results, scenario, client, server=None, transport=LP):
    for r in results:
        if r.get('scenario') == scenario and r.get('client') == client and \
           (server is None or r.get('server') == server) and transport_of(r) == transport and usable(r):
            return r
    return None


def fanout_common(results):
    """Our fan-out and the peer's compared at the same load: the highest
    step both delivered without falling behind, on the same server and
    transport (each one's top step is at a different rate)."""
    for r in results:
        if r.get('scenario') != 'fanout' or r.get('client') != OURS or not usable(r):
            continue
        peer = find(results, 'fanout', PEER_OF_SERVER.get(r.get('server')), r.get('server'), transport_of(r))
        if not peer:
            continue
        theirs = {s['offered_msgs_per_s']: s for s in peer.get('steps', []) if not s.get('saturated')}
        common = [s for s in r.get('steps', []) if not s.get('saturated') and s['offered_msgs_per_s'] in theirs]
        if not common:
            continue
        top = max(common, key=lambda s: s['offered_msgs_per_s'])
        for rec, step in ((r, top), (peer, theirs[top['offered_msgs_per_s']])):
            rec['common_msgs_per_s'] = step['offered_msgs_per_s']
            rec['client_cpu_us_per_msg_common'] = step['client_cpu_us_per_msg']
            rec['client_cpu_pct_common'] = step['client_cpu_pct']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--raw')
    ap.add_argument('--from-json', help='redo latest.md (and the rest) from a latest.json')
    ap.add_argument('--machine')
    ap.add_argument('--out')
    ap.add_argument('--callgrind')
    ap.add_argument('--callgrind-floor')
    ap.add_argument('--rounds', type=int, default=200)
    ap.add_argument('--exchanges', type=int, default=800)
    ap.add_argument('--result', default='')
    ap.add_argument('--perf', help='summarise run.sh --perf\'s profile of the fan-out subscriber process')
    args = ap.parse_args()

    if args.callgrind:
        callgrind_summary(args)
        return
    if args.perf:
        perf_summary(args)
        return

    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        machine, results = saved['machine'], saved['results']
        args.out = args.out or os.path.dirname(os.path.abspath(args.from_json))
    else:
        machine = json.loads(args.machine)
        results = []
        with open(args.raw) as f:
            for line in f:
                line = line.strip()
                if line:
                    results.append(json.loads(line))

    floor = find(results, 'soup', OURS)
    floor_us = floor['cpu_us_per_exchange'] if floor else None

    # Derived figures: our CPU per round trip in bare libsoup exchanges; the
    # fan-out's figures at a load both clients kept up with.
    for r in results:
        if r.get('scenario') == 'pingpong' and 'cpu_us_per_rt' in r and floor_us and transport_of(r) == LP:
            r['cpu_per_rt_in_bare_exchanges'] = round(r['cpu_us_per_rt'] / floor_us, 2)
    fanout_common(results)

    rows = []
    ratios = []
    # Long-polling rows first, then the WebSocket ones, scenario by scenario.
    for transport in (LP, WS):
        for scenario, metric, unit, lower in METRICS:
            for r in results:
                if r.get('scenario') != scenario or metric not in r or transport_of(r) != transport:
                    continue
                ratio = None
                # The bindings' rows get a ratio too, but for the *_common
                # figures (those are ours and the peer's at one rate).
                binding = r['client'] in BINDINGS and not metric.endswith('_common')
                if (r['client'] == OURS or binding) and r.get('server') in PEER_OF_SERVER and lower is not None:
                    peer = find(results, scenario, PEER_OF_SERVER[r['server']], r['server'], transport)
                    if peer and isinstance(peer.get(metric), (int, float)) and peer.get(metric):
                        ratio = round(r[metric] / peer[metric], 3)
                        ratios.append({'scenario': scenario, 'metric': metric, 'server': r['server'],
                                       'transport': transport, 'client': r['client'],
                                       'ours': r[metric], 'peer': peer['client'],
                                       'peer_value': peer[metric], 'ratio': ratio})
                rows.append((scenario, metric, unit, r['client'], r.get('server', ''), transport, r[metric], ratio))
            if scenario == 'pingpong' and metric == 'cpu_us_per_rt':
                for r in results:
                    if r.get('scenario') == 'pingpong' and 'cpu_per_rt_in_bare_exchanges' in r and \
                       transport_of(r) == transport:
                        rows.append((scenario, 'cpu_per_rt_in_bare_exchanges', 'exchanges', r['client'],
                                     r.get('server', ''), transport, r['cpu_per_rt_in_bare_exchanges'], None))
            # A measurement that could not run on this transport (ours on
            # WebSocket before BayeuxClient has the `transports` property).
            if metric == next(m for sc, m, _, _ in METRICS if sc == scenario):
                for r in results:
                    if r.get('scenario') == scenario and 'not_available' in r and transport_of(r) == transport:
                        rows.append((scenario, 'all', '', r.get('client', ''), r.get('server', ''), transport,
                                     'not available', None))

    targets = evaluate_targets(results, floor_us)

    with open(os.path.join(args.out, 'latest.json'), 'w') as f:
        json.dump({'machine': machine, 'results': results, 'ratios': ratios, 'targets': targets}, f, indent=2,
                  ensure_ascii=False)
        f.write('\n')

    with open(os.path.join(args.out, 'latest.md'), 'w') as f:
        write_markdown(f, machine, results, rows, targets, args.out)

    write_gnuplot(args.out, results)


def evaluate_targets(results, floor_us):
    targets = []

    def add(what, value, limit, met, note=''):
        targets.append({'target': what, 'value': value, 'limit': limit,
                        'met': met, 'note': note})

    for server, factor in (('cometd', 0.3), ('faye', 0.4)):
        ours = find(results, 'pingpong', OURS, server)
        peer = find(results, 'pingpong', PEER_OF_SERVER[server], server)
        if ours and peer:
            ratio = ours['p50_us'] / peer['p50_us']
            add(f'ping-pong p50 ≤ {factor}× {peer["client"]} on {server}', round(ratio, 3), factor, ratio <= factor,
                f'{ours["p50_us"]} µs vs {peer["p50_us"]} µs')
    ours = find(results, 'pingpong', OURS, 'cometd')
    peer = find(results, 'pingpong', 'cometd-js', 'cometd')
    if ours and peer:
        ratio = ours['cpu_us_per_rt'] / peer['cpu_us_per_rt']
        note = f'{ours["cpu_us_per_rt"]} µs vs {peer["cpu_us_per_rt"]} µs'
        if floor_us:
            note += f'; {ours["cpu_us_per_rt"] / floor_us:.2f} bare libsoup exchanges (a naive client needs 4)'
        add('client CPU per round trip ≤ 0.5× cometd-js', round(ratio, 3), 0.5, ratio <= 0.5, note)
    # libsoup's own baseline: the bare-libsoup process of scenario 7 (the
    # same binary, one SoupSession, no Bayeux client).
    floor = next((r for r in results if r.get('scenario') == 'soup' and 'peak_rss_kib' in r), None)
    for server in ('cometd', 'faye'):
        ours = find(results, 'pingpong', OURS, server)
        if ours:
            mib = ours['peak_rss_kib'] / 1024
            note = 'MiB'
            if floor:
                note += (f'; the bare-libsoup process of scenario 7: {floor["peak_rss_kib"] / 1024:.2f} MiB '
                         f'(ours {(ours["peak_rss_kib"] - floor["peak_rss_kib"]):+,} KiB over it); RssAnon '
                         f'{ours.get("rss_anon_kib", 0):,} KiB')
            add(f'peak RSS of the two-client process ≤ 10 MiB ({server})', round(mib, 2), 10, mib <= 10, note)
    for server in ('cometd', 'faye'):
        ours = find(results, 'many', OURS, server)
        if ours:
            add(f'{ours["clients"]} clients: ≤ 40 KiB each ({server})', ours['rss_per_client_kib'], 40,
                ours['rss_per_client_kib'] <= 40, 'KiB')
            add(f'{ours["clients"]} clients: all connected and subscribed in ≤ 1 s ({server})',
                ours['connect_all_ms'], 1000, ours['connect_all_ms'] <= 1000, 'ms')
            add(f'{ours["clients"]} clients: each receives its message ({server})', ours['received'],
                ours['clients'], ours['received'] == ours['clients'], '')
    # WebSocket (Faye): p50 ≤ Faye's WebSocket client's, CPU ≤ 0.5× its.
    ours = find(results, 'pingpong', OURS, 'faye', WS)
    peer = find(results, 'pingpong', 'faye-node', 'faye', WS)
    missing = next((r for r in results if r.get('scenario') == 'pingpong' and r.get('client') == OURS and
                    transport_of(r) == WS and 'not_available' in r), None)
    if ours and peer:
        ratio = ours['p50_us'] / peer['p50_us']
        add('WebSocket ping-pong p50 ≤ faye-node\'s on WebSocket (faye)', round(ratio, 3), 1, ratio <= 1,
            f'{ours["p50_us"]} µs vs {peer["p50_us"]} µs')
        ratio = ours['cpu_us_per_rt'] / peer['cpu_us_per_rt']
        add('WebSocket client CPU per round trip ≤ 0.5× faye-node\'s on WebSocket (faye)', round(ratio, 3), 0.5,
            ratio <= 0.5, f'{ours["cpu_us_per_rt"]} µs vs {peer["cpu_us_per_rt"]} µs')
    elif missing:
        for what, limit in (('WebSocket ping-pong p50 ≤ faye-node\'s on WebSocket (faye)', 1),
                            ('WebSocket client CPU per round trip ≤ 0.5× faye-node\'s on WebSocket (faye)', 0.5)):
            add(what, None, limit, None, f'not available: {missing["not_available"]}')
    # Fan-out: the client process is never the bottleneck at the server's
    # maximum rate: it never reaches a full core (90 %) while it keeps up.
    for r in results:
        if r.get('scenario') != 'fanout' or r.get('client') != OURS:
            continue
        where = f'{r.get("server")}, {transport_of(r)}'
        if 'not_available' in r:
            add(f'fan-out: the client process is never the bottleneck ({where})', None, None, None,
                f'not available: {r["not_available"]}')
            continue
        if not usable(r) or 'delivered_msgs_per_s' not in r:
            continue
        saturates = r.get('client_saturates_at_msgs_per_s')
        note = f'up to {r["delivered_msgs_per_s"]:,.0f} msg/s delivered, limit: {r.get("limit")}'
        if saturates:
            note += f'; our process at a full core from {saturates:,.0f} msg/s'
        peer = find(results, 'fanout', PEER_OF_SERVER.get(r.get('server')), r.get('server'), transport_of(r))
        if peer:
            note += f'; {peer["client"]}: {peer["delivered_msgs_per_s"]:,.0f} msg/s, limit: {peer.get("limit")}'
        # Met when the server's core is what stopped the climb, or nothing
        # did; not when our process was at a full core, nor when our
        # subscribers fell behind with neither core full (our client's
        # own pace, then: the peer on the same server went further).
        add(f'fan-out: the client process is never the bottleneck ({where})',
            r.get('limit'), 'server', r.get('limit') in ('server', 'not reached'), note)

    for server in ('cometd', 'faye'):
        ours = find(results, 'idle', OURS, server)
        if ours:
            add(f'idle: ≤ 4 wake-ups a minute ({server})', ours['wakeups_per_min'], 4,
                ours['wakeups_per_min'] <= 4,
                f'voluntary context switches (getrusage); {ours["loop_iterations_per_min"]} main-loop iterations')
            add(f'idle: ≤ 2 ms CPU a minute ({server})', ours['cpu_ms_per_min'], 2, ours['cpu_ms_per_min'] <= 2,
                'ms a minute')
    return targets


LEGEND = [
    ('p50_us, p99_us, max_us', 'ping-pong round trip (A publishes, B republishes, A receives), µs, over the timed '
                               'round trips'),
    ('cpu_us_per_rt', 'CPU (user + system) of the client process per round trip; the process holds both clients'),
    ('cpu_per_rt_in_bare_exchanges', 'cpu_us_per_rt over libsoup\'s cpu_us_per_exchange (a round trip needs 4 HTTP '
                                     'exchanges: 2 publishes, 2 long-poll replies)'),
    ('http_requests_per_rt', 'HTTP requests our two clients sent per round trip (SoupSession::request-queued)'),
    ('peak_rss_kib', 'VmHWM of the client process; most of ours is shared libraries\' pages'),
    ('rss_anon_kib', 'RssAnon: the process\'s own memory (heap, stacks; for Node the JS heap), not the shared '
                     'libraries\''),
    ('delivered_msgs_per_s', 'fan-out: messages a second the subscriber process received (all its subscribers), '
                             'at the best step'),
    ('client_cpu_pct, server_cpu_pct', 'fan-out, at that step: the subscriber process\'s CPU (getrusage) and the '
                                       'server process\'s (/proc/PID/stat), in % of one core'),
    ('client_cpu_us_per_msg', 'fan-out, at that step: the subscriber process\'s CPU per message received'),
    ('client_saturates_at_msgs_per_s', 'fan-out: messages a second at the first step where the subscriber process '
                                       'used 90 % of its core or more (absent: never)'),
    ('limit', 'fan-out: whose core was full at the step the subscribers did not keep up with: client, server (its '
              'core: the server, the publisher, the loopback\'s softirqs), both, or not reached (the top rate was '
              'kept up with)'),
    ('common_msgs_per_s, client_cpu_us_per_msg_common, client_cpu_pct_common',
     'fan-out: the highest offered rate both our client and the peer kept up with on that server and transport, '
     'and each one\'s CPU per message and in % of a core there (comparable, unlike each one\'s best step)'),
    ('rss_per_client_kib', '(VmRSS once all clients hold their long poll − VmRSS before) / clients; each client has '
                           'its own HTTP session and connections'),
    ('connect_all_ms', 'from creating the clients until all are subscribed (ours: and hold their long poll)'),
    ('deliver_all_ms', 'from publishing one message to each client until all arrived'),
    ('cpu_ms_per_min', 'CPU of the idle process per minute, the servers holding /meta/connect 30 s'),
    ('wakeups_per_min', 'voluntary context switches of the idle process per minute (getrusage, all threads)'),
    ('main_thread_wakeups', 'the same, main thread only, over the whole idle period'),
    ('loop_iterations_per_min', 'GLib main-loop iterations (a poll can dispatch several times)'),
    ('msgs_per_s', 'parse path, 100-message response, 10,000 subscriptions, one detailed '
                   'message::CHANNEL handler per subscription (each handler reads data.seq)'),
    ('msgs_per_s_listeners', 'the same with one bayeux_client_add_listener listener per subscription instead '
                             '(found by hash lookup; a GLib signal emission walks all its handlers)'),
    ('msgs_per_s_one_handler', 'the same with one undetailed message handler (it reads data.seq: the tree of data '
                               'is built)'),
    ('msgs_per_s_parse_wrap_lookup', 'split, envelope scan (or parse), validate, the client\'s dispatch (candidates '
                                     'and lookups), no emission'),
    ('msgs_per_s_parse_only', 'split and envelope scan (the parser for a message the scan leaves) alone; before '
                              'the envelope scan (issue 12) this was the split and the parse of each message'),
    ('allocs_per_msg_one_handler', 'allocations per message (bench/alloc-count.c) of the one-handler path, the '
                                   'handler\'s tree of data included'),
    ('allocs_per_msg_parse_wrap_lookup', 'the same, up to the dispatch, no emission'),
    ('allocs_per_msg_parse_only', 'the same, split and envelope scan'),
    ('allocs_per_delivered_msg', 'allocations of the whole fan-out subscriber process (libsoup included) per '
                                 'message its 10 clients got; bayeux-glib-before: the build before issue 12'),
    ('cpu_us_per_exchange', 'libsoup\'s floor: CPU per bare keep-alive POST from one default SoupSession'),
]


def write_markdown(f, machine, results, rows, targets, out_dir):
    cfg = machine.get('config', {})
    f.write('# bayeux-glib bench results\n\n')
    if cfg.get('quick'):
        f.write('**Quick configuration** (CI): the figures only show that the suite runs.\n\n')
    f.write(f'Made by `bench/run.sh{" --quick" if cfg.get("quick") else ""}` on {machine.get("date")}, '
            f'commit `{machine.get("commit")}`.\n\n')
    f.write(f'Machine: {machine.get("cpu")}, {machine.get("cores")} cores, {machine.get("memory_gib")} GiB, '
            f'{machine.get("os")}, Linux {machine.get("kernel")}; Node {machine.get("node")}, '
            f'GLib {machine.get("glib")}, libsoup {machine.get("libsoup")}, json-glib {machine.get("json_glib")}. '
            f'Pinning: {machine.get("pinning")}.' +
            (f' Load average (1 min) {machine["load_average_1min"]["start"]} at the start, '
             f'{machine["load_average_1min"]["end"]} at the end (that one counts the suite\'s own last minute; '
             f'anything above about 1 is other work on the machine).' if machine.get('load_average_1min') else '') + '\n\n')
    fan = cfg.get('fanout') or {}
    f.write(f'Configuration: {cfg.get("rounds")} round trips after {cfg.get("warmup")} of warm-up, '
            f'{cfg.get("clients")} clients, {cfg.get("idle_s")} s idle; servers hold `/meta/connect` '
            f'{cfg.get("server_timeout_s")} s. Fan-out: {fan.get("subscribers", 10)} subscribers in the measured '
            f'process, offered publish rates (a second, each message delivered to every subscriber) '
            f'{fan.get("rates_per_s", "?")}, {fan.get("step_s", "?")} s a step measured after '
            f'{fan.get("settle_s", "?")} s, after {fan.get("warmup_s", "?")} s of warm-up, until a step is not '
            f'kept up with. Transports: {", ".join(cfg.get("transports", [LP]))}. Peers: the CometD JavaScript '
            f'client (`cometd-js`, cometd-nodejs-client) on cometd-nodejs-server, Faye\'s Node client '
            f'(`faye-node`; on long-polling with websocket and eventsource disabled, on WebSocket with nothing '
            f'disabled, checked to run on it) on Faye. In the fan-out, our library is also measured through its '
            f'bindings, with the same handler work (read `seq`): `bayeux-glib-python` (PyGObject, '
            f'`json.loads(message.get_data_json())`) and `bayeux-glib-gjs` (GJS, '
            f'`JSON.parse(message.get_data_json())`); their ratio is to the same peer.\n\n')

    f.write('## Results\n\n')
    f.write('| scenario | metric | client | server | transport | value | ratio ours/peer |\n')
    f.write('| --- | --- | --- | --- | --- | ---: | ---: |\n')
    for scenario, metric, unit, client, server, transport, value, ratio in rows:
        label = f'{metric} ({unit})' if unit else metric
        f.write(f'| {SCENARIO_TITLES.get(scenario, scenario)} | {label} | {client} | {server} | {transport} | '
                f'{fmt(value)} | {fmt(ratio) if ratio is not None else ""} |\n')

    unavailable = [r for r in results if 'not_available' in r]
    if unavailable:
        f.write('\n## Not available\n\n')
        for r in unavailable:
            f.write(f'- {r.get("scenario")} {r.get("client", "")} {r.get("server", "")} {transport_of(r)}: '
                    f'{r["not_available"]}\n')

    failed = [r for r in results if 'error' in r]
    if failed:
        f.write('\n## Failed measurements\n\n')
        for r in failed:
            f.write(f'- {r.get("scenario", r.get("label"))} {r.get("client", "")} {r.get("server", "")} '
                    f'{transport_of(r)}: {r["error"]}\n')

    write_fanout_steps(f, results)

    if targets:
        f.write('\n## Targets (issue 5)\n\n')
        f.write('| target | value | limit | met | |\n| --- | ---: | ---: | --- | --- |\n')
        for t in targets:
            met = 'n/a' if t['met'] is None else 'yes' if t['met'] else '**no**'
            f.write(f'| {t["target"]} | {fmt(t["value"])} | {fmt(t["limit"])} | {met} | {t["note"]} |\n')

    f.write('\n## What the metrics are\n\n')
    for name, text in LEGEND:
        f.write(f'- `{name}`: {text}\n')
    f.write('\nOne run, one machine: the ratios are what to compare (noise cancels), the absolute figures move from '
            'run to run (the idle CPU most: a few milliseconds a minute either way).\n')
    f.write('\n![latency CDF](latency-cdf.png)\n')
    f.write('\n![fan-out throughput](fanout-throughput.png)\n')
    if os.path.exists(os.path.join(out_dir, 'callgrind-pingpong.txt')):
        f.write('\nWhere our client\'s time goes: [callgrind-pingpong.txt](callgrind-pingpong.txt).\n')
    if os.path.exists(os.path.join(out_dir, 'perf-fanout.txt')):
        f.write('\nWhere our fan-out subscriber process\'s time goes: [perf-fanout.txt](perf-fanout.txt).\n')
    for name in sorted(os.listdir(out_dir)):
        if name.startswith('perf-fanout-') and name.endswith('.txt'):
            f.write(f'\nThe same on another server or transport: [{name}]({name}).\n')
    if os.path.exists(os.path.join(out_dir, 'many-clients-profile.md')):
        f.write('\nWhere the time goes when 1,000 clients connect: [many-clients-profile.md](many-clients-profile.md).\n')


def write_fanout_steps(f, results):
    runs = [r for r in results if r.get('scenario') == 'fanout' and r.get('steps')]
    if not runs:
        return
    f.write('\n## Fan-out, step by step\n\n')
    f.write('Each step: the publisher offers the rate for the step\'s length; the figures are over the step less '
            'its first part. `client %` is the subscriber process\'s CPU (user + system, getrusage, all its '
            'threads) in % of one core; `server %` the server process\'s (/proc); `core 0 %` everything on the '
            'server\'s core (server, publisher, interrupts; /proc/stat); `others 0 %` and `others 1 %`: what '
            'else kept core 0 and core 1 busy (the core\'s busy time less the processes of the measurement: '
            'softirqs, and other work on the machine, which disturbs the step); **bold**: the step the '
            'subscribers did not keep up with (fewer messages than offered, or a backlog: mean latency over '
            '50 ms). HTTP requests are counted by the server (less the publisher\'s): the same count for every '
            'client; none on WebSocket.\n')
    for r in runs:
        again = f' (attempt {r.get("attempt", 1)} of {r["attempts"]}: the least disturbed)' \
            if r.get('attempts', 1) > 1 else ''
        f.write(f'\n### {r["client"]} on {r["server"]}, {transport_of(r)}: limit {r.get("limit")}{again}\n\n')
        f.write('| offered msg/s | delivered msg/s | client % | µs CPU/msg | server % | publisher % | core 0 % '
                '| others 0 % | others 1 % | latency mean µs | HTTP requests/msg |\n')
        f.write('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n')
        for st in r['steps']:
            b = '**' if st.get('saturated') else ''
            others0 = others1 = None
            if st.get('server_core_busy_pct') is not None:
                others0 = max(st['server_core_busy_pct'] - st['server_cpu_pct'] - st['publisher_cpu_pct'], 0.0)
            if st.get('client_core_busy_pct') is not None:
                others1 = max(st['client_core_busy_pct'] - st['client_cpu_pct'], 0.0)
            f.write(f'| {b}{fmt(st["offered_msgs_per_s"])}{b} | {b}{fmt(st["delivered_msgs_per_s"])}{b} | '
                    f'{fmt(st["client_cpu_pct"])} | {fmt(st["client_cpu_us_per_msg"])} | '
                    f'{fmt(st["server_cpu_pct"])} | {fmt(st["publisher_cpu_pct"])} | '
                    f'{fmt(st.get("server_core_busy_pct"))} | {fmt(others0)} | {fmt(others1)} | '
                    f'{fmt(st["latency_mean_us"])} | {fmt(st.get("http_requests_per_msg"))} |\n')


def write_gnuplot(out, results):
    series = []
    for r in results:
        if r.get('scenario') != 'pingpong' or 'error' in r:
            continue
        if not usable(r):
            continue
        suffix = '' if transport_of(r) == LP else f'-{transport_of(r)}'
        src = os.path.join(out, f'cdf-{r["client"] if r["client"] == OURS else PEER_RAW[r["client"]]}-{r["server"]}'
                                f'{suffix}.txt')
        if not os.path.exists(src):
            continue
        with open(src) as f:
            values = [int(line) for line in f if line.strip()]
        os.unlink(src)
        if not values:
            continue
        values.sort()
        name = f'cdf-{r["client"]}-{r["server"]}{suffix}.dat'
        with open(os.path.join(out, name), 'w') as f:
            n = len(values)
            for i, v in enumerate(values):
                f.write(f'{v / 1000:.4f} {(i + 1) / n:.5f}\n')
        series.append((name, f'{r["client"]} on {r["server"]}, {transport_of(r)} (p50 {r["p50_us"] / 1000:.2f} ms)'))
    write_fanout_plot(out, results)
    if not series:
        return
    with open(os.path.join(out, 'latency-cdf.gp'), 'w') as f:
        f.write('set terminal pngcairo size 900,560 font ",11"\n')
        f.write("set output 'latency-cdf.png'\n")
        f.write("set title 'Ping-pong round trip (CDF)'\n")
        f.write("set xlabel 'round-trip latency (ms, log scale)'\n")
        f.write("set ylabel 'fraction of round trips'\n")
        f.write('set logscale x\nset grid\nset key bottom right\nset yrange [0:1]\n')
        plots = [f"'{name}' using 1:2 with lines lw 2 title '{title}'" for name, title in series]
        f.write('plot ' + ', \\\n     '.join(plots) + '\n')


def write_fanout_plot(out, results):
    """fanout-throughput.gp (for fanout-throughput.png): the fan-out climb of
    each client, the subscriber process's CPU per message against the rate
    it got, step by step (the saturated step included)."""
    series = []
    for r in results:
        if r.get('scenario') != 'fanout' or not r.get('steps') or not usable(r):
            continue
        name = f'fanout-{r["client"]}-{r["server"]}-{transport_of(r)}.dat'
        with open(os.path.join(out, name), 'w') as f:
            for st in r['steps']:
                f.write(f'{st["delivered_msgs_per_s"]:.0f} {st["client_cpu_us_per_msg"]:.4f}\n')
        series.append((name, f'{r["client"]} on {r["server"]}, {transport_of(r)}'))
    if not series:
        return
    with open(os.path.join(out, 'fanout-throughput.gp'), 'w') as f:
        f.write('set terminal pngcairo size 900,560 font ",11"\n')
        f.write("set output 'fanout-throughput.png'\n")
        f.write("set title 'Fan-out: subscriber CPU per delivered message, step by step'\n")
        f.write("set xlabel 'messages delivered a second (log scale)'\n")
        f.write("set ylabel 'client CPU per message (µs, log scale)'\n")
        f.write('set logscale xy\nset grid\nset key top right\n')
        plots = [f"'{name}' using 1:2 with linespoints lw 2 title '{title}'" for name, title in series]
        f.write('plot ' + ', \\\n     '.join(plots) + '\n')


def annotate(profile, *options):
    return subprocess.run(['callgrind_annotate', '--auto=no', *options, profile],
                          capture_output=True, text=True, check=True).stdout


LINE = re.compile(r'^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*?)\s*$')


def cost_lines(text):
    """(Ir, 'file:function [object]') for each line, and the total."""
    total, lines = None, []
    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        n = int(m.group(1).replace(',', ''))
        what = m.group(2)
        if what == 'PROGRAM TOTALS':
            total = n
        else:
            lines.append((n, what))
    return total, lines


def owner(what):
    if '/bayeux-glib/' in what:
        return 'bayeux-glib (ours)'
    m = re.search(r'\[([^\]]*)\]$', what)
    name = m.group(1).rsplit('/', 1)[-1] if m else '?'
    name = re.sub(r'\.so[.\d]*$', '', name)
    return 'bench program' if name == 'bayeux-bench' else name


def short(what):
    what = re.sub(r'\s*\[[^\]]*\]$', '', what)
    return re.sub(r'^.*/', '', what)


def callgrind_summary(args):
    total, excl = cost_lines(annotate(args.callgrind, '--threshold=100'))
    ftotal, fexcl = cost_lines(annotate(args.callgrind_floor, '--threshold=100'))
    _, incl = cost_lines(annotate(args.callgrind, '--inclusive=yes', '--threshold=100'))
    per_rt = total / args.rounds
    per_ex = ftotal / args.exchanges

    print('# Where our client\'s time goes: callgrind, long-polling ping-pong')
    print()
    print('valgrind --tool=callgrind --collect-atstart=no: bayeux-bench --scenario pingpong --rounds 200 against')
    print('cometd-nodejs-server, and --scenario soup --exchanges 800 (libsoup\'s floor: bare keep-alive POSTs from')
    print('one default SoupSession to a trivial Node server); only the timed part of each is collected.')
    print('Instructions (Ir) count user-space work only; the kernel\'s share of the CPU is not in them.')
    if args.result:
        print(f'\nThe profiled run: {args.result}')
    print()
    print(f'- instructions per round trip: {per_rt:,.0f}')
    print(f'- instructions per bare libsoup exchange: {per_ex:,.0f}')
    print(f'- a round trip = {per_rt / per_ex:.2f} bare exchanges (a naive client needs 4)')
    print()
    print('## By library (exclusive), per round trip, against 4 bare exchanges')
    print()
    ours, floor = collections.Counter(), collections.Counter()
    for n, what in excl:
        ours[owner(what)] += n
    for n, what in fexcl:
        floor[owner(what)] += n
    print('| library | Ir per round trip | % | Ir per 4 bare exchanges | difference |')
    print('| --- | ---: | ---: | ---: | ---: |')
    for name, n in ours.most_common():
        if n / total < 0.001:
            continue
        f4 = floor.get(name, 0) / args.exchanges * 4
        print(f'| {name} | {n / args.rounds:,.0f} | {100 * n / total:.1f} | {f4:,.0f} | {n / args.rounds - f4:+,.0f} |')
    print()
    print('## Our code, inclusive (what each of our functions costs with all it calls)')
    print()
    print('| function | Ir per round trip | % |')
    print('| --- | ---: | ---: |')
    seen = set()
    for n, what in incl:
        name = short(what)
        if owner(what) == 'bayeux-glib (ours)' and n / total >= 0.005 and name not in seen:
            seen.add(name)
            print(f'| {name} | {n / args.rounds:,.0f} | {100 * n / total:.1f} |')
    print()
    print('## Top functions, exclusive')
    print()
    print('| function | library | Ir per round trip | % |')
    print('| --- | --- | ---: | ---: |')
    for n, what in sorted(excl, reverse=True)[:30]:
        print(f'| {short(what)} | {owner(what)} | {n / args.rounds:,.0f} | {100 * n / total:.1f} |')
    print()
    print('## Top functions, inclusive')
    print()
    print('| function | library | Ir per round trip | % |')
    print('| --- | --- | ---: | ---: |')
    for n, what in incl[:60]:
        print(f'| {short(what)} | {owner(what)} | {n / args.rounds:,.0f} | {100 * n / total:.1f} |')


def perf_report(data, *options):
    return subprocess.run(['perf', 'report', '-i', data, '--stdio', '-g', 'none', '--percent-limit', '0.3',
                           *options], capture_output=True, text=True, check=True).stdout


PERF_LINE = re.compile(r'^\s*([\d.]+)%\s+(?:([\d.]+)%\s+)?(.*?)\s*$')


def perf_rows(text):
    rows = []
    for line in text.splitlines():
        if line.startswith('#') or not line.strip():
            continue
        m = PERF_LINE.match(line)
        if m:
            rows.append((float(m.group(1)), m.group(3)))
    return rows


def perf_summary(args):
    data = args.perf
    result = json.loads(args.result) if args.result else {}
    step = (result.get('steps') or [{}])[-1]
    transport = result.get('transport', LP)
    server = {'cometd': 'cometd-nodejs-server', 'faye': 'Faye'}.get(result.get('server'), result.get('server', 'the server'))
    print(f'# Where our client\'s time goes in fan-out: perf, {server}, {transport}')
    print()
    print('`perf record -F 999 --call-graph dwarf` on our fan-out subscriber process (10 BayeuxClients in one '
          f'process, one channel, {transport}) for 5 s of a step at 12,000 publishes a second from {server} '
          '(120,000 messages a second offered in all), by `bench/run.sh --perf` (`--perf-on`). The libraries '
          'have no debug symbols: json-glib\'s and libsoup\'s internal functions show as addresses, under their '
          'library. Percentages are of the process\'s samples (user and kernel).')
    if step:
        print()
        print(f'The profiled step: {step.get("delivered_msgs_per_s", 0):,.0f} messages a second delivered, the '
              f'subscriber process at {step.get("client_cpu_pct", 0):.1f} % of a core, '
              f'{step.get("client_cpu_us_per_msg", 0):.2f} µs CPU a message (perf\'s own sampling included), '
              f'{step.get("http_requests_per_msg", 0):.3f} HTTP requests a message.')
    print()
    print('`bayeux-bench` is the bench program with bayeux-glib linked in (the internal static library): our '
          'library\'s functions are under it.')
    print()
    print('## By library (self)')
    print()
    print('| library | % |')
    print('| --- | ---: |')
    for pct, what in perf_rows(perf_report(data, '--no-children', '--sort', 'dso')):
        print(f'| {what} | {pct:.1f} |')
    print()
    print('## Inclusive (a function with all it calls), named functions')
    print()
    print('| function | library | % |')
    print('| --- | --- | ---: |')
    shown = 0
    for pct, what in perf_rows(perf_report(data, '--children', '--sort', 'dso,sym')):
        m = re.match(r'(\S+)\s+\[([.k])\]\s+(.*)$', what)
        if not m or m.group(3).startswith('0x') or m.group(3) in ('_start', 'main', '__libc_start_call_main',
                                                                   '__libc_start_main_impl (inlined)'):
            continue
        print(f'| {m.group(3)} | {m.group(1)} | {pct:.1f} |')
        shown += 1
        if shown >= 45:
            break
    print()
    print('## Top functions (self)')
    print()
    print('| function | library | % |')
    print('| --- | --- | ---: |')
    for pct, what in perf_rows(perf_report(data, '--no-children', '--sort', 'dso,sym'))[:40]:
        m = re.match(r'(\S+)\s+\[([.k])\]\s+(.*)$', what)
        if m:
            print(f'| {m.group(3)} | {m.group(1)} | {pct:.1f} |')


# peer-bench.js is run with --client cometd|faye; its CDF file is named so.
PEER_RAW = {'cometd-js': 'cometd', 'faye-node': 'faye'}

if __name__ == '__main__':
    main()
