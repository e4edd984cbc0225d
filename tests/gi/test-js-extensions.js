// test-js-extensions.js: extensions through GJS and the Bayeux-1.0 typelib:
// the built-in ones, and one written in JavaScript (a GObject class that
// implements Bayeux.Extension with vfunc_outgoing and vfunc_incoming) that
// changes the handshake, counts deliveries and holds a publish, against a
// real Faye server (tests/interop/faye-server.js --echo-ext, which echoes
// the handshake's ext in its reply). Prints TAP.
//
// Run by meson (suite 'javascript') as `gjs -m test-js-extensions.js`, with
// the build folder first in GI_TYPELIB_PATH and LD_LIBRARY_PATH and
// BAYEUX_INTEROP_DIR pointing at tests/interop. Skips (TAP "1..0 # SKIP")
// when Node or the interop packages are missing, unless
// BAYEUX_INTEROP_REQUIRED is set.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import Bayeux from 'gi://Bayeux?version=1.0';
import Gio from 'gi://Gio?version=2.0';
import GLib from 'gi://GLib?version=2.0';
import GObject from 'gi://GObject?version=2.0';
import Json from 'gi://Json?version=1.0';
import System from 'system';

const CHANNEL = '/gi/js';
const HELD_CHANNEL = '/gi/js-held';
const HOLD_MS = 300;
const TIMEOUT_MS = 20000;

Gio._promisify(Bayeux.Client.prototype, 'subscribe_async', 'subscribe_finish');
Gio._promisify(Bayeux.Client.prototype, 'publish_async', 'publish_finish');
Gio._promisify(Gio.DataInputStream.prototype, 'read_line_async', 'read_line_finish_utf8');

// --- a minimal TAP harness --------------------------------------------------

const tests = [];
function test(name, fn) {
    tests.push({name, fn});
}

class AssertionError extends Error {}

function assert(condition, what) {
    if (!condition)
        throw new AssertionError(what);
}

function assertEqual(actual, expected, what) {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    if (a !== e)
        throw new AssertionError(`${what}: got ${a}, expected ${e}`);
}

function toJS(node) {
    return JSON.parse(Json.to_string(node, false));
}

function fromJS(value) {
    return Json.from_string(JSON.stringify(value));
}

function objectFrom(value) {
    return fromJS(value).get_object();
}

function withTimeout(promise, what) {
    let id = 0;
    const timeout = new Promise((_resolve, reject) => {
        id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, TIMEOUT_MS, () => {
            id = 0;
            reject(new AssertionError(`${what}: timed out`));
            return GLib.SOURCE_REMOVE;
        });
    });
    return Promise.race([promise, timeout]).finally(() => {
        if (id)
            GLib.source_remove(id);
    });
}

// --- the Faye server --------------------------------------------------------

const interopDir = GLib.getenv('BAYEUX_INTEROP_DIR') ??
    GLib.build_filenamev([GLib.path_get_dirname(
        GLib.filename_from_uri(import.meta.url)[0]), '..', 'interop']);

function interopMissing() {
    if (GLib.find_program_in_path('node') === null)
        return 'node is not on PATH';
    if (!GLib.file_test(GLib.build_filenamev([interopDir, 'node_modules']), GLib.FileTest.IS_DIR))
        return `${interopDir}/node_modules is missing (npm ci --prefix tests/interop)`;
    return null;
}

// It exits when its standard input closes, so it cannot outlive us.
async function startFaye() {
    const proc = Gio.Subprocess.new(
        ['node', GLib.build_filenamev([interopDir, 'faye-server.js']), '--echo-ext'],
        Gio.SubprocessFlags.STDIN_PIPE | Gio.SubprocessFlags.STDOUT_PIPE);
    const stdout = Gio.DataInputStream.new(proc.get_stdout_pipe());
    for (;;) {
        // eslint-disable-next-line no-await-in-loop
        const [line] = await withTimeout(stdout.read_line_async(GLib.PRIORITY_DEFAULT, null),
            'faye-server.js READY');
        if (line === null)
            throw new Error('faye-server.js exited before READY');
        const match = /^READY (\d+)/.exec(line);
        if (match)
            return {proc, url: `http://127.0.0.1:${match[1]}/faye`};
    }
}

function stopFaye(server) {
    server.proc.get_stdin_pipe().close(null);
    server.proc.wait(null);
}

// --- an extension in JavaScript ---------------------------------------------

function channelOf(message) {
    const node = message.get_member('channel');
    return node !== null && node.get_value_type() === GObject.TYPE_STRING ? node.get_string() : null;
}

// A token in the handshake's ext, a count of the deliveries, and each
// publish on HELD_CHANNEL held for HOLD_MS, then released.
const Stamp = GObject.registerClass({
    Implements: [Bayeux.Extension],
}, class Stamp extends GObject.Object {
    _init() {
        super._init();
        this.added = 0;
        this.removed = 0;
        this.deliveries = 0;
        this.echo = null;
        this.held = [];
        this.heldAt = 0;
        this.releasedAt = 0;
    }

    vfunc_added(_client) {
        this.added++;
    }

    vfunc_removed(_client) {
        this.removed++;
    }

    vfunc_outgoing(client, message) {
        const channel = channelOf(message);
        if (channel === '/meta/handshake') {
            let ext = message.has_member('ext') ? message.get_object_member('ext') : null;
            if (ext === null) {
                ext = new Json.Object();
                message.set_object_member('ext', ext);
            }
            ext.set_string_member('token', 'js-token');
        } else if (channel === HELD_CHANNEL) {
            this.held.push(message);
            this.heldAt = GLib.get_monotonic_time();
            GLib.timeout_add(GLib.PRIORITY_DEFAULT, HOLD_MS, () => {
                const held = this.held;
                this.held = [];
                this.releasedAt = GLib.get_monotonic_time();
                for (const m of held)
                    client.release_message(m, false);
                return GLib.SOURCE_REMOVE;
            });
            return Bayeux.ExtensionResult.HOLD;
        }
        return Bayeux.ExtensionResult.CONTINUE;
    }

    vfunc_incoming(_client, message) {
        if (!message.has_member('successful')) {
            this.deliveries++;
        } else if (channelOf(message) === '/meta/handshake' && message.has_member('ext')) {
            const ext = message.get_object_member('ext');
            if (ext.has_member('echo'))
                this.echo = toJS(ext.get_member('echo'));
        }
        return Bayeux.ExtensionResult.CONTINUE;
    }
});

// --- the tests --------------------------------------------------------------

test('built-in extensions', () => {
    const client = Bayeux.Client.new('http://127.0.0.1:9/faye');

    const ack = Bayeux.AckExtension.new();
    assert(ack instanceof Bayeux.Extension, 'AckExtension is an Extension');
    client.add_extension(ack);
    const handshake = objectFrom({channel: '/meta/handshake', id: '1'});
    assertEqual(ack.outgoing(client, handshake), Bayeux.ExtensionResult.CONTINUE, 'ack outgoing');
    assertEqual(toJS(handshake.get_member('ext')), {ack: true}, 'handshake ext.ack');
    ack.incoming(client, objectFrom({channel: '/meta/handshake', id: '1', successful: true, ext: {ack: true}}));
    assert(ack.active, 'ack active');

    const timesync = Bayeux.TimesyncExtension.new();
    client.add_extension(timesync);
    assertEqual([timesync.offset, timesync.lag], [0, 0], 'timesync before');
    const connect = objectFrom({channel: '/meta/connect', id: '2'});
    timesync.outgoing(client, connect);
    const tc = toJS(connect.get_member('ext')).timesync.tc;
    timesync.incoming(client, objectFrom({
        channel: '/meta/connect', id: '2', successful: true,
        ext: {timesync: {tc, ts: tc - 1500, p: 0, a: 0}},
    }));
    assert(Math.abs(timesync.offset + 1500) <= 20, `offset ${timesync.offset}`);

    const replay = Bayeux.ReplayExtension.new();
    client.add_extension(replay);
    assertEqual(replay.default_replay_id, Bayeux.REPLAY_NEW_EVENTS, 'default replay id');
    replay.incoming(client, objectFrom({channel: '/event/a', data: {event: {replayId: 9}}}));
    assertEqual(replay.get_replay_id('/event/a'), [true, 9], 'replay id received');
    assertEqual(replay.get_replay_id('/event/b'), [false, -1], 'no replay id');
    const subscribe = objectFrom({channel: '/meta/subscribe', id: '3', subscription: '/event/a'});
    replay.outgoing(client, subscribe);
    assertEqual(toJS(subscribe.get_member('ext')), {replay: {'/event/a': 9}}, 'subscribe ext.replay');
});

test('extension in JavaScript through Faye', async ({url}) => {
    const client = Bayeux.Client.new(url);
    const stamp = new Stamp();
    const errors = [];
    const received = [];
    client.connect('error', (_c, error) => errors.push(error.message));
    client.add_extension(stamp);
    assertEqual(stamp.added, 1, 'added');

    const allReceived = new Promise(resolve => {
        client.connect('message::/gi/*', (_c, message) => {
            received.push(toJS(message.get_data()));
            if (received.length === 4)
                resolve();
        });
    });

    try {
        const subscribing = client.subscribe_async('/gi/*', null);
        client.start();
        assert(await withTimeout(subscribing, 'subscribe'), 'subscribe_finish');
        for (let n = 0; n < 3; n++)
            client.publish(CHANNEL, fromJS({n}));
        const reply = await withTimeout(client.publish_async(HELD_CHANNEL, fromJS({held: true}), null),
            'held publish');
        const repliedAt = GLib.get_monotonic_time();
        assert(reply.get_successful(), 'held publish successful');
        await withTimeout(allReceived, 'messages');

        assertEqual(stamp.echo, {token: 'js-token'}, 'the handshake carried the token');
        assert(stamp.releasedAt > 0, 'released');
        assert(repliedAt >= stamp.releasedAt, 'the held publish left once released');
        assert(stamp.releasedAt - stamp.heldAt >= HOLD_MS * 900, 'held long enough');
        assertEqual(stamp.deliveries, 4, 'deliveries counted');
        assertEqual(received.map(d => JSON.stringify(d)).sort(),
            [{n: 0}, {n: 1}, {n: 2}, {held: true}].map(d => JSON.stringify(d)).sort(), 'messages');
        assertEqual(errors, [], 'error signals');
        client.remove_extension(stamp);
        assertEqual(stamp.removed, 1, 'removed');
    } finally {
        client.stop();
    }
});

// --- main -------------------------------------------------------------------

async function main() {
    const missing = interopMissing();
    if (missing !== null && !GLib.getenv('BAYEUX_INTEROP_REQUIRED')) {
        print(`1..0 # SKIP ${missing}`);
        return 0;
    }
    print(`1..${tests.length}`);
    if (missing !== null) {
        print(`Bail out! ${missing}`);
        return 1;
    }

    const server = await startFaye();
    let failures = 0;
    try {
        for (const [i, {name, fn}] of tests.entries()) {
            try {
                // eslint-disable-next-line no-await-in-loop
                await fn(server);
                print(`ok ${i + 1} - ${name}`);
            } catch (error) {
                failures++;
                print(`not ok ${i + 1} - ${name}`);
                for (const line of `${error}\n${error.stack ?? ''}`.trimEnd().split('\n'))
                    print(`# ${line}`);
            }
        }
    } finally {
        stopFaye(server);
    }
    return failures ? 1 : 0;
}

const loop = new GLib.MainLoop(null, false);
let exitCode = 1;
main().then(code => {
    exitCode = code;
}).catch(error => {
    print(`Bail out! ${error}`);
    printerr(error.stack ?? '');
}).finally(() => loop.quit());
loop.run();
System.exit(exitCode);
