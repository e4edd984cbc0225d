// test-js-client.js: bayeux-glib through GJS and the Bayeux-1.0 typelib,
// against a real Faye server (tests/interop/faye-server.js). Prints TAP.
//
// Run by meson (suite 'javascript') as `gjs -m test-js-client.js`, with the
// build folder first in GI_TYPELIB_PATH and LD_LIBRARY_PATH and
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

const CHANNEL = '/gi/test';
const TIMEOUT_MS = 20000;

Gio._promisify(Bayeux.Client.prototype, 'subscribe_async', 'subscribe_finish');
Gio._promisify(Bayeux.Client.prototype, 'publish_async', 'publish_finish');
Gio._promisify(Bayeux.Client.prototype, 'disconnect_async', 'disconnect_finish');
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

function assertThrowsGError(fn, domain, code, what) {
    try {
        fn();
    } catch (error) {
        assert(error instanceof GLib.Error, `${what}: threw ${error}, not a GLib.Error`);
        assert(error.matches(domain, code), `${what}: wrong error ${error.message}`);
        return error;
    }
    throw new AssertionError(`${what}: did not throw`);
}

function toJS(node) {
    return JSON.parse(Json.to_string(node, false));
}

function fromJS(value) {
    return Json.from_string(JSON.stringify(value));
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
    const proc = Gio.Subprocess.new(['node', GLib.build_filenamev([interopDir, 'faye-server.js'])],
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

// --- the tests --------------------------------------------------------------

test('state enum', () => {
    const names = [
        [Bayeux.ClientState.DISCONNECTED, 0, 'DISCONNECTED'],
        [Bayeux.ClientState.HANDSHAKING, 1, 'HANDSHAKING'],
        [Bayeux.ClientState.CONNECTED, 2, 'CONNECTED'],
        [Bayeux.ClientState.UNCONNECTED, 3, 'UNCONNECTED'],
        [Bayeux.ClientState.DISCONNECTING, 4, 'DISCONNECTING'],
    ];
    for (const [value, expected, name] of names) {
        assertEqual(value, expected, name);
        assertEqual(GObject.enum_to_string(Bayeux.ClientState, value),
            `BAYEUX_CLIENT_STATE_${name}`, `enum_to_string(${name})`);
    }
    // The nicks, through the enum's GType.
    const pspec = Bayeux.Client.find_property('state');
    assert(pspec !== null, 'state property');
    assertEqual(GObject.type_name(pspec.value_type), 'BayeuxClientState', 'state type');
    assertEqual(pspec.get_default_value(), Bayeux.ClientState.DISCONNECTED, 'default state');
});

test('error domain', () => {
    const quark = Bayeux.error_quark();
    assert(quark !== 0, 'quark');
    assertEqual(GLib.quark_to_string(quark), 'bayeux-error-quark', 'quark string');
    for (const code of ['FAILED', 'HANDSHAKE_DENIED', 'UNKNOWN_CLIENT', 'REFUSED', 'BAD_RESPONSE',
        'MESSAGE_TOO_LARGE', 'TIMEOUT', 'DISCONNECTED', 'HTTP', 'INVALID_CHANNEL'])
        assert(typeof Bayeux.Error[code] === 'number', `Bayeux.Error.${code}`);
    assertThrowsGError(() => Bayeux.channel_validate('/a/*', Bayeux.ChannelFlags.NONE),
        Bayeux.Error, Bayeux.Error.INVALID_CHANNEL, 'channel_validate');
});

test('properties', () => {
    const client = Bayeux.Client.new('http://127.0.0.1:9/faye');
    assertEqual(client.url, 'http://127.0.0.1:9/faye', 'url');
    assertEqual(client.state, Bayeux.ClientState.DISCONNECTED, 'state');
    assertEqual(client.client_id, null, 'client_id');
    assertEqual(client.transport, 'long-polling', 'transport');
    assertEqual(JSON.stringify(client.transports), '["websocket","long-polling"]', 'transports');
    client.transports = ['long-polling'];
    assertEqual(JSON.stringify(client.get_transports()), '["long-polling"]', 'set transports');
    assertEqual(client.max_network_delay, 10000, 'max_network_delay');
    assertEqual(client.max_message_size, 1024 * 1024, 'max_message_size');
    assert(client.session instanceof GObject.Object, 'session');
    client.max_network_delay = 2500;
    assertEqual(client.get_max_network_delay(), 2500, 'set max_network_delay');
    // The binding trap: none of our methods may shadow GObject's.
    for (const name of ['connect', 'disconnect', 'emit', 'notify'])
        assert(client[name] === GObject.Object.prototype[name], `${name} is GObject's`);
});

test('channels and messages', () => {
    assert(Bayeux.channel_matches('/chat/*', '/chat/a'), '/chat/* matches /chat/a');
    assert(!Bayeux.channel_matches('/chat/*', '/chat/a/b'), '/chat/* does not match /chat/a/b');
    assert(Bayeux.channel_matches('/chat/**', '/chat/a/b'), '/chat/** matches /chat/a/b');
    const message = Bayeux.Message.new_from_json(
        fromJS({channel: '/a/b', id: '7', data: {x: [1, 2]}}));
    assertEqual(message.get_channel(), '/a/b', 'channel');
    assertEqual(message.get_id(), '7', 'id');
    assertEqual(toJS(message.get_data()), {x: [1, 2]}, 'data');
    assertEqual(message.get_ext(), null, 'ext');
    assertEqual(toJS(message.to_json()).channel, '/a/b', 'to_json');
});

test('round trip through Faye', async ({url}) => {
    const client = Bayeux.Client.new(url);
    const states = [];
    const errors = [];
    client.connect('notify::state', () => states.push(client.state));
    client.connect('error', (_c, error) => errors.push(error.message));

    const sent = {text: 'héllo from GJS', n: 42, list: [1, 2.5, null, true]};
    // The message is kept past its handler: the binding must hold a
    // reference of its own (a signal argument in static scope would not).
    const kept = [];
    const received = new Promise(resolve => {
        client.connect(`message::${CHANNEL}`, (_c, message) => {
            kept.push(message);
            resolve([message.get_channel(), toJS(message.get_data())]);
        });
    });
    const connected = new Promise(resolve => {
        const check = () => {
            if (client.state === Bayeux.ClientState.CONNECTED)
                resolve();
        };
        client.connect('notify::state', check);
    });

    try {
        const subscribing = client.subscribe_async(CHANNEL, null);
        client.start();
        assert(await withTimeout(subscribing, 'subscribe'), 'subscribe_finish');
        const reply = await withTimeout(client.publish_async(CHANNEL, fromJS(sent), null),
            'publish');
        assertEqual(reply.get_channel(), CHANNEL, 'reply channel');
        assert(reply.has_successful() && reply.get_successful(), 'publish successful');
        assertEqual(await withTimeout(received, 'message'), [CHANNEL, sent], 'message');
        await withTimeout(connected, 'connected');
        assert(client.client_id, 'client_id while connected');
        assertEqual(client.transport, 'websocket', 'transport on Faye');

        imports.system.gc();
        assertEqual([kept[0].get_channel(), toJS(kept[0].get_data())], [CHANNEL, sent],
            'message kept after its handler');

        const started = GLib.get_monotonic_time();
        assert(await withTimeout(client.disconnect_async(null), 'disconnect'),
            'disconnect_finish');
        const seconds = (GLib.get_monotonic_time() - started) / 1e6;
        assert(seconds < 2, `disconnect took ${seconds} s`);
        assertEqual(client.state, Bayeux.ClientState.DISCONNECTED, 'state after disconnect');
        assertEqual(states[0], Bayeux.ClientState.HANDSHAKING, 'first state');
        assertEqual(states[states.length - 1], Bayeux.ClientState.DISCONNECTED, 'last state');
        assertEqual(errors, [], 'error signals');
    } finally {
        client.stop();
    }
});

test('listener', async ({url}) => {
    const client = Bayeux.Client.new(url);
    const sent = {text: 'to a GJS listener'};
    try {
        const heard = new Promise(resolve => {
            const id = client.add_listener(CHANNEL, (_c, message) => {
                resolve([id, message.get_channel(), toJS(message.get_data())]);
            });
            assert(id > 0, `listener id ${id}`);
        });
        const subscribing = client.subscribe_async(CHANNEL, null);
        client.start();
        assert(await withTimeout(subscribing, 'subscribe'), 'subscribe_finish');
        client.publish(CHANNEL, fromJS(sent));
        const [id, channel, data] = await withTimeout(heard, 'listener');
        assertEqual([channel, data], [CHANNEL, sent], 'message to the listener');
        client.remove_listener(id);
    } finally {
        client.stop();
    }
});

test('refused subscribe', async ({url}) => {
    const client = Bayeux.Client.new(url);
    try {
        const subscribing = client.subscribe_async('/forbidden/gi', null);
        client.start();
        let error = null;
        try {
            await withTimeout(subscribing, 'subscribe');
        } catch (e) {
            error = e;
        }
        assert(error instanceof GLib.Error, `subscribe to /forbidden/gi: ${error}`);
        assert(error.matches(Bayeux.Error, Bayeux.Error.REFUSED), `wrong error: ${error.message}`);
        assert(error.message.includes('/forbidden/gi'), `no channel in "${error.message}"`);
        assert(error.message.includes('403'), `no server error in "${error.message}"`);
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
