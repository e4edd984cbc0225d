// gjs-subscriber.js: the measured side of the fan-out (scenario 3) in GJS,
// through the Bayeux-1.0 typelib: what a JavaScript (GJS) application pays
// for the binding on top of the library.
//
//   gjs -m gjs-subscriber.js --url URL --channel C [--server NAME]
//       [--transport long-polling|websocket] [--subscribers N]
//       [--data-path json|node]
//
// SUBSCRIBERS BayeuxClients in this process, each subscribed to CHANNEL with
// a detailed `message` handler that does what the other subscribers' do:
// read `seq` (and the publisher's clock `t`, for the latency) from the
// message's data. --data-path json (the default) reads it as an application
// should: JSON.parse(message.get_data_json()); --data-path node the way the
// docs said before get_data_json existed:
// JSON.parse(Json.to_string(message.get_data(), false)).
//
// bayeux-bench --scenario fanout starts this process and talks to it on
// stdin/stdout as to bayeux-bench --scenario fanout-subscribe (READY, COUNT,
// QUIT: see run_fanout_subscribe in bench-client.c). CPU: user + system
// of every thread, from /proc/self/stat (clock ticks, 10 ms: GJS has no
// getrusage; the driver's windows are a second or more). run.sh sets
// GI_TYPELIB_PATH and LD_LIBRARY_PATH to the build folder.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import Bayeux from 'gi://Bayeux?version=1.0';
import Gio from 'gi://Gio?version=2.0';
import GLib from 'gi://GLib?version=2.0';
import Json from 'gi://Json?version=1.0';
import System from 'system';

const opts = {server: 'none', transport: 'long-polling', subscribers: '10', 'data-path': 'json'};
for (let i = 0; i < ARGV.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(ARGV[i]);
    if (!m)
        throw new Error(`unknown argument ${ARGV[i]}`);
    opts[m[1]] = m[2] ?? ARGV[++i];
}
if (!opts.url || !opts.channel)
    throw new Error('--url and --channel are required');
const dataPath = opts['data-path'];
if (dataPath !== 'json' && dataPath !== 'node')
    throw new Error('--data-path must be json or node');

const name = dataPath === 'json' ? 'bayeux-glib-gjs' : 'bayeux-glib-gjs-node';
const n = Math.max(1, Number(opts.subscribers));
const report = {
    scenario: 'fanout-subscriber', client: name, server: opts.server, transport: opts.transport,
    data_path: dataPath,
};
const decoder = new TextDecoder();
const ticks = 100; // sysconf(_SC_CLK_TCK) on Linux

function cpuUs() {
    const [, bytes] = GLib.file_get_contents('/proc/self/stat');
    const text = decoder.decode(bytes);
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3; utime and stime are 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) * 1e6 / ticks;
}

function statusKib(field) {
    const [, bytes] = GLib.file_get_contents('/proc/self/status');
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(decoder.decode(bytes));
    return m ? Number(m[1]) : -1;
}

let delivered = 0, outOfOrder = 0, latMax = 0, latSum = 0, latN = 0;
let subscribed = 0, failed = 0, errors = 0;

function readData(message) {
    if (dataPath === 'json') {
        const text = message.get_data_json();
        return text !== null ? JSON.parse(text) : null;
    }
    const node = message.get_data();
    return node !== null ? JSON.parse(Json.to_string(node, false)) : null;
}

const clients = [];
for (let i = 0; i < n; i++) {
    const client = new Bayeux.Client({url: opts.url, transports: [opts.transport]});
    let last = -1;
    client.connect('error', () => errors++);
    client.connect(`message::${opts.channel}`, (_c, message) => {
        const data = readData(message);
        const seq = data && typeof data.seq === 'number' ? data.seq : -1;
        delivered++;
        if (seq <= last)
            outOfOrder++;
        last = seq;
        if (data && data.t > 0) {
            const latency = GLib.get_monotonic_time() - data.t;
            if (latency > latMax)
                latMax = latency;
            latSum += latency;
            latN++;
        }
    });
    // As bayeux-bench's subscribers: a backlog in one long-poll reply must
    // not be refused (bench/README.md).
    client.set_max_message_size(64 * 1024 * 1024);
    client.subscribe_async(opts.channel, null, (c, result) => {
        try {
            c.subscribe_finish(result);
            subscribed++;
        } catch (e) {
            failed++;
        }
    });
    client.start();
    clients.push(client);
}

function finish(error) {
    Object.assign(report, {
        delivered, out_of_order: outOfOrder, errors,
        peak_rss_kib: statusKib('VmHWM'), rss_kib: statusKib('VmRSS'), rss_anon_kib: statusKib('RssAnon'),
        threads: statusKib('Threads'), process_cpu_s: cpuUs() / 1e6,
    });
    if (error)
        report.error = error;
    print(JSON.stringify(report));
    System.exit(error ? 1 : 0);
}

// Connected and subscribed within 30 s, then 200 ms for the long polls to
// be held (as peer-bench.js waits).
const context = GLib.MainContext.default();
const deadline = GLib.get_monotonic_time() + 30e6;
while (!(subscribed + failed >= n && clients.every(c => c.state === Bayeux.ClientState.CONNECTED))) {
    if (GLib.get_monotonic_time() > deadline)
        finish('the subscribers did not connect and subscribe within 30 s');
    context.iteration(true);
}
if (failed)
    finish('a subscription failed');
const settle = GLib.get_monotonic_time() + 200e3;
while (GLib.get_monotonic_time() < settle) {
    if (!context.iteration(false))
        GLib.usleep(1000);
}
const used = clients[0].transport;
report.transport_used = used ?? 'unknown';
if (used && used !== opts.transport)
    finish(`asked for ${opts.transport}, the client runs on ${used}`);

const loop = new GLib.MainLoop(null, false);
let quit = false;
const stdin = new Gio.DataInputStream({
    base_stream: new Gio.UnixInputStream({fd: 0, close_fd: false}),
});
function readCommand() {
    stdin.read_line_async(GLib.PRIORITY_DEFAULT, null, (s, result) => {
        let line;
        try {
            [line] = s.read_line_finish_utf8(result);
        } catch (e) {
            line = null;
        }
        if (line === null) {
            loop.quit();
            return;
        }
        line = line.trim();
        if (line === 'COUNT') {
            print(`COUNT ${delivered} ${GLib.get_monotonic_time()} ${Math.round(cpuUs())} ${latMax} ${latSum} ${latN} -1`);
            latMax = latSum = latN = 0;
        } else if (line === 'QUIT') {
            quit = true;
            loop.quit();
            return;
        }
        readCommand();
    });
}
readCommand();
print(`READY ${new Gio.Credentials().get_unix_pid()} ${name} ${used ?? opts.transport} ${n}`);
loop.run();
clients.forEach(c => c.stop());
finish(quit ? null : 'the driver went away');
