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
Gio._promisify(Bayeux.Client.prototype, 'publish_full_async', 'publish_full_finish');
Gio._promisify(Bayeux.Client.prototype, 'publish_json_async', 'publish_json_finish');
Gio._promisify(Bayeux.Client.prototype, 'add_subscription_async', 'add_subscription_finish');
Gio._promisify(Bayeux.Subscription.prototype, 'unsubscribe_async', 'unsubscribe_finish');
Gio._promisify(Gio.DataInputStream.prototype, 'read_line_async', 'read_line_finish_utf8');

// --- a minimal TAP harness --------------------------------------------------

const tests = [];
// The items of a Gio.ListModel (GJS 1.74 does not make every model iterable).
function modelItems(model) {
    const items = [];
    for (let i = 0; i < model.get_n_items(); i++)
        items.push(model.get_item(i));
    return items;
}

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

// Resolves once predicate() is true, checked every 10 ms.
function until(predicate, what) {
    let id = 0;
    const check = new Promise(resolve => {
        if (predicate()) {
            resolve();
            return;
        }
        id = GLib.timeout_add(GLib.PRIORITY_DEFAULT, 10, () => {
            if (!predicate())
                return GLib.SOURCE_CONTINUE;
            id = 0;
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
    return withTimeout(check, what).finally(() => {
        if (id)
            GLib.source_remove(id);
    });
}

function sleep(ms) {
    return new Promise(resolve => {
        GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
            resolve();
            return GLib.SOURCE_REMOVE;
        });
    });
}

function isSubscribed(...handles) {
    return handles.every(h => h.state === Bayeux.SubscriptionState.SUBSCRIBED);
}

async function publishAndCheck(client, channel, value) {
    const reply = await withTimeout(client.publish_async(channel, fromJS(value), null), 'publish');
    assert(reply.get_successful(), `publish to ${channel}`);
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
    // The data as JSON text, for JSON.parse (no Json.Node round trip).
    assertEqual(JSON.parse(message.get_data_json()), {x: [1, 2]}, 'get_data_json');
    assertEqual(Bayeux.Message.new_from_json(fromJS({channel: '/a/b'})).get_data_json(), null,
        'get_data_json without data');
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

test('publish_json and get_data_json through Faye', async ({url}) => {
    const client = Bayeux.Client.new(url);
    const errors = [];
    client.connect('error', (_c, error) => errors.push(error.message));
    const sent = {text: 'héllo "raw" from GJS ☃', n: 42, list: [1, 2.5, null, true],
        nested: {deep: [[{x: -7}]]}};
    const received = [];
    client.connect(`message::${CHANNEL}`, (_c, message) => {
        const text = message.get_data_json();
        assertEqual(typeof text, 'string', 'get_data_json gives a string');
        received.push(JSON.parse(text));
    });
    try {
        const subscribing = client.subscribe_async(CHANNEL, null);
        client.start();
        assert(await withTimeout(subscribing, 'subscribe'), 'subscribe_finish');
        const reply = await withTimeout(client.publish_json_async(CHANNEL, JSON.stringify(sent), null),
            'publish_json');
        assert(reply.get_successful(), 'publish_json successful');
        client.publish_json(CHANNEL, JSON.stringify([42, 'fire and forget']));
        await until(() => received.length === 2, 'two messages');
        assertEqual(received, [sent, [42, 'fire and forget']], 'messages');
        assertEqual(errors, [], 'error signals');
    } finally {
        client.stop();
    }
});

test('publish_json with text that is not JSON', async ({url}) => {
    const client = Bayeux.Client.new(url);
    const errors = [];
    client.connect('error', (_c, error) => errors.push(error));
    try {
        let error = null;
        try {
            await withTimeout(client.publish_json_async(CHANNEL, '{"a": undefined}', null), 'publish_json');
        } catch (e) {
            error = e;
        }
        assert(error instanceof GLib.Error, `publish_json_async of bad text: ${error}`);
        assert(error.matches(Bayeux.Error, Bayeux.Error.INVALID_JSON), `wrong error: ${error.message}`);
        assert(error.message.includes(CHANNEL), `no channel in "${error.message}"`);
        assert(error.message.includes('at byte 6'), `no byte offset in "${error.message}"`);
        client.publish_json(CHANNEL, '[1, 2');
        await until(() => errors.length === 1, 'error signal');
        assert(errors[0].matches(Bayeux.Error, Bayeux.Error.INVALID_JSON), `wrong error: ${errors[0].message}`);
        assertEqual(client.state, Bayeux.ClientState.DISCONNECTED, 'nothing started, nothing sent');
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

test('subscription handles without a server', () => {
    assertEqual([Bayeux.SubscriptionState.PENDING, Bayeux.SubscriptionState.SUBSCRIBED,
        Bayeux.SubscriptionState.REFUSED, Bayeux.SubscriptionState.UNSUBSCRIBED], [0, 1, 2, 3],
    'SubscriptionState values');
    const client = Bayeux.Client.new('http://127.0.0.1:9/faye');
    assertEqual(client.paused, false, 'paused by default');
    const handle = client.add_subscription('/a/b', fromJS({note: 'gjs'}));
    assert(handle instanceof Bayeux.Subscription, 'a Bayeux.Subscription');
    for (const name of ['connect', 'disconnect', 'emit', 'notify'])
        assert(handle[name] === GObject.Object.prototype[name], `Subscription.${name} is GObject's`);
    assertEqual(handle.channel, '/a/b', 'channel');
    assertEqual(handle.state, Bayeux.SubscriptionState.PENDING, 'pending');
    assert(handle.is_active(), 'is_active');
    assertEqual(handle.message_count, 0, 'message_count');
    assertEqual(handle.error, null, 'no error');
    assertEqual(toJS(handle.ext), {note: 'gjs'}, 'ext');
    handle.ext = fromJS({note: 'changed'});
    assertEqual(toJS(handle.get_ext()), {note: 'changed'}, 'ext set');
    handle.set_ext(null);
    assertEqual(handle.ext, null, 'ext cleared');
    const bad = client.add_subscription('no-slash', null);
    assertEqual(bad.state, Bayeux.SubscriptionState.REFUSED, 'bad name refused at once');
    assert(bad.error.matches(Bayeux.Error, Bayeux.Error.INVALID_CHANNEL), `error ${bad.error}`);
    assertEqual(modelItems(client.subscriptions).map(h => h.channel), ['/a/b'], 'the live handles');
    handle.cancel();
    assertEqual(handle.state, Bayeux.SubscriptionState.UNSUBSCRIBED, 'cancelled');
    assertEqual(client.get_subscriptions().get_n_items(), 0, 'none left');
});

test('two handles on one channel, one cancelled', async ({url}) => {
    const channel = '/gi/handles';
    const client = Bayeux.Client.new(url);
    const peer = Bayeux.Client.new(url);
    const errors = [];
    client.connect('error', (_c, error) => errors.push(error.message));
    try {
        const first = client.add_subscription(channel, null);
        const second = client.add_subscription(channel, null);
        assert(first !== second, 'two handles');
        const heard = new Map([[first, []], [second, []]]);
        for (const handle of [first, second])
            handle.connect('message', (h, message) => heard.get(h).push(toJS(message.get_data())));
        client.start();
        await until(() => isSubscribed(first, second), 'both handles subscribed');

        await publishAndCheck(client, channel, {n: 0});
        await until(() => heard.get(first).length && heard.get(second).length, 'the first message');

        first.cancel();
        assertEqual(first.state, Bayeux.SubscriptionState.UNSUBSCRIBED, 'first cancelled');
        assert(!first.is_active(), 'first no longer active');
        assertEqual(second.state, Bayeux.SubscriptionState.SUBSCRIBED, 'second still subscribed');
        assert(modelItems(client.subscriptions).length === 1 && client.subscriptions.get_item(0) === second,
            'only the second is live');

        // Had /meta/unsubscribe gone out, neither would come back.
        await publishAndCheck(client, channel, {n: 1, from: 'self'});
        await until(() => heard.get(second).length === 2, "the client's own message after the cancel");
        peer.start();
        await publishAndCheck(peer, channel, {n: 2, from: 'peer'});
        await until(() => heard.get(second).length === 3, "the peer's message after the cancel");

        assertEqual(heard.get(first), [{n: 0}], 'the cancelled handle heard');
        assertEqual(heard.get(second), [{n: 0}, {n: 1, from: 'self'}, {n: 2, from: 'peer'}],
            'the live handle heard');
        assertEqual([first.message_count, second.message_count], [1, 3], 'message counts');

        // The last handle: unsubscribe_async waits for the server.
        assert(await withTimeout(second.unsubscribe_async(null), 'unsubscribe'), 'unsubscribe_finish');
        assertEqual(second.state, Bayeux.SubscriptionState.UNSUBSCRIBED, 'second unsubscribed');
        assertEqual(client.subscriptions.get_n_items(), 0, 'none live');
        let error = null;
        try {
            await withTimeout(second.unsubscribe_async(null), 'unsubscribe again');
        } catch (e) {
            error = e;
        }
        assert(error?.matches?.(Bayeux.Error, Bayeux.Error.FAILED), `unsubscribe again: ${error}`);
        assertEqual(errors, [], 'error signals');
    } finally {
        peer.stop();
        client.stop();
    }
});

test('list model of subscriptions', async ({url}) => {
    const client = Bayeux.Client.new(url);
    const model = client.get_subscriptions();
    const changes = [];
    // Disconnected at the end: the client's dispose empties the model, and
    // may run during garbage collection, when GJS cannot call back into JS.
    const changedId = model.connect('items-changed', (_m, position, removed, added) =>
        changes.push([position, removed, added]));
    try {
        assert(model === client.subscriptions, 'get_subscriptions() is the subscriptions property');
        assertEqual(model.get_item_type(), Bayeux.Subscription.$gtype, 'item type');
        assertEqual(model.get_n_items(), 0, 'empty at first');

        const a = client.add_subscription('/gi/model/a', null);
        const b = client.add_subscription('/gi/model/b', null);
        const again = client.add_subscription('/gi/model/a', null);
        const forbidden = client.add_subscription('/forbidden/gi', null);
        assertEqual(changes, [[0, 0, 1], [1, 0, 1], [2, 0, 1], [3, 0, 1]], 'four added');
        assertEqual(model.get_n_items(), 4, 'n_items');
        assert([a, b, again, forbidden].every((h, i) => model.get_item(i) === h), 'in order made');

        client.start();
        await until(() => isSubscribed(a, b, again) &&
            forbidden.state === Bayeux.SubscriptionState.REFUSED, 'three subscribed, one refused');
        assert(forbidden.error.matches(Bayeux.Error, Bayeux.Error.REFUSED), `error ${forbidden.error}`);
        assertEqual(changes.slice(4), [[3, 1, 0]], 'the refused one left');

        b.cancel();
        assertEqual(changes.slice(5), [[1, 1, 0]], 'the cancelled one left');
        assertEqual(model.get_n_items(), 2, 'n_items after cancel');
        assert(model.get_item(0) === a && model.get_item(1) === again, 'the others stay');
        b.cancel();
        assertEqual(changes.length, 6, 'cancel again does nothing');

        const c = client.add_subscription('/gi/model/c', null);
        assertEqual(changes.slice(6), [[2, 0, 1]], 'a late one added');
        await until(() => isSubscribed(c), 'the late one subscribed');
        for (const handle of [a, again, c])
            handle.cancel();
        assertEqual(changes.slice(7), [[0, 1, 0], [0, 1, 0], [0, 1, 0]], 'all cancelled');
        assertEqual(model.get_n_items(), 0, 'empty at last');
    } finally {
        model.disconnect(changedId);
        client.stop();
    }
});

test('add_subscription_async', async ({url}) => {
    const channel = '/gi/async';
    const client = Bayeux.Client.new(url);
    const peer = Bayeux.Client.new(url);
    try {
        client.start();
        const handle = await withTimeout(client.add_subscription_async(channel, fromJS({note: 'gjs'}), null),
            'add_subscription_async');
        assert(handle instanceof Bayeux.Subscription, `returned ${handle}`);
        assertEqual(handle.channel, channel, 'channel');
        assertEqual(handle.state, Bayeux.SubscriptionState.SUBSCRIBED, 'subscribed');
        assert(handle.is_active(), 'active');
        assertEqual(toJS(handle.ext), {note: 'gjs'}, 'ext');

        // A second one on the channel, already subscribed: at once.
        const second = await withTimeout(client.add_subscription_async(channel, null, null),
            'add_subscription_async again');
        assert(second !== handle, 'a new handle');
        assertEqual(second.state, Bayeux.SubscriptionState.SUBSCRIBED, 'second subscribed');
        assertEqual(modelItems(client.subscriptions).length, 2, 'two live');

        const got = [];
        second.connect('message', (_h, message) => got.push(toJS(message.get_data())));
        peer.start();
        await publishAndCheck(peer, channel, {to: 'the async handle'});
        await until(() => got.length > 0, 'a message on the async handle');
        assertEqual(got, [{to: 'the async handle'}], 'message');

        let error = null;
        try {
            await withTimeout(client.add_subscription_async('/forbidden/gi', null, null), 'refused');
        } catch (e) {
            error = e;
        }
        assert(error instanceof GLib.Error && error.matches(Bayeux.Error, Bayeux.Error.REFUSED),
            `add_subscription_async /forbidden/gi: ${error}`);
        assert(error.message.includes('/forbidden/gi'), `no channel in "${error.message}"`);
        assertEqual(modelItems(client.subscriptions).length, 2, 'the refused handle is not live');
    } finally {
        peer.stop();
        client.stop();
    }
});

test('publish_full_async with ext', async ({url}) => {
    const channel = '/gi/ext';
    const client = Bayeux.Client.new(url);
    const peer = Bayeux.Client.new(url);
    try {
        const got = [];
        const handle = client.add_subscription(channel, null);
        handle.connect('message', (_h, message) => got.push(toJS(message.to_json())));
        client.start();
        await until(() => isSubscribed(handle), 'subscribed');

        peer.start();
        const reply = await withTimeout(peer.publish_full_async(channel, fromJS({n: 1}),
            fromJS({trace: 'gjs-1', n: [1, 2]}), null), 'publish_full_async');
        assertEqual(reply.get_channel(), channel, 'reply channel');
        assert(reply.has_successful() && reply.get_successful(), 'successful');
        const plain = await withTimeout(peer.publish_full_async(channel, fromJS({n: 2}), null, null),
            'publish_full_async without ext');
        assert(plain.get_successful(), 'successful without ext');

        // Faye hands the ext on to the subscriber.
        await until(() => got.length === 2, 'both messages');
        assertEqual([got[0].data, got[0].ext], [{n: 1}, {trace: 'gjs-1', n: [1, 2]}], 'with ext');
        assertEqual([got[1].data, got[1].ext], [{n: 2}, undefined], 'without ext');
    } finally {
        peer.stop();
        client.stop();
    }
});

for (const transports of [['websocket', 'long-polling'], ['long-polling']]) {
    test(`paused over ${transports[0]}`, async ({url}) => {
        const channel = '/gi/paused';
        const client = Bayeux.Client.new(url);
        const peer = Bayeux.Client.new(url);
        const errors = [];
        client.connect('error', (_c, error) => errors.push(error.message));
        try {
            client.transports = transports;
            const handle = client.add_subscription(channel, null);
            const byHandle = [];
            const byClient = [];
            handle.connect('message', (_h, message) => byHandle.push(toJS(message.get_data())));
            client.connect(`message::${channel}`, (_c, message) => byClient.push(toJS(message.get_data())));
            const notified = [];
            client.connect('notify::paused', () => notified.push(client.paused));
            client.start();
            peer.start();
            await until(() => isSubscribed(handle) && client.state === Bayeux.ClientState.CONNECTED &&
                peer.state === Bayeux.ClientState.CONNECTED, 'subscribed and connected');
            assertEqual(client.transport, transports[0], 'transport');

            client.paused = true;
            assert(client.get_paused(), 'get_paused');
            assertEqual(notified, [true], 'notify::paused');
            // The peer publishes, and so does the paused client: its
            // publish goes on, with the server's verdict while paused.
            for (let i = 0; i < 5; i++)
                // eslint-disable-next-line no-await-in-loop
                await publishAndCheck(peer, channel, {seq: i});
            await publishAndCheck(client, channel, {seq: 5, from: 'paused client'});
            await sleep(1000);
            assertEqual(byHandle, [], 'delivered to the handle while paused');
            assertEqual(byClient, [], 'delivered to the client while paused');
            assertEqual(handle.message_count, 0, 'message_count while paused');

            client.set_paused(false);
            assertEqual(notified, [true, false], 'notify::paused again');
            const wanted = [0, 1, 2, 3, 4].map(seq => ({seq}))
                .concat([{seq: 5, from: 'paused client'}]);
            await until(() => byHandle.length >= wanted.length, 'the held messages');
            assertEqual(byHandle, wanted, 'delivered in order to the handle');
            assertEqual(byClient, wanted, 'delivered in order to the client');
            assertEqual(handle.message_count, wanted.length, 'message_count');
            await publishAndCheck(peer, channel, {seq: 6});
            await until(() => byHandle.length === wanted.length + 1, 'a message after resuming');
            assertEqual(byHandle[wanted.length], {seq: 6}, 'the message after resuming');
            assertEqual(errors, [], 'error signals');
        } finally {
            peer.stop();
            client.stop();
        }
    });
}

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
