// subscriptions.js: subscription handles, pausing and per-publish ext,
// through GJS.
//
// Two parts of an application ("ticker" and "audit") each take a handle of
// their own on /demo/stocks; the server sees one subscription. Then:
//
//   1. it publishes "one": both handles get it;
//   2. audit cancels its handle: ticker still gets "two" (the server is told
//      to unsubscribe only when the last handle goes);
//   3. it pauses the client and publishes "three" and "four": they are held
//      until it resumes, then delivered in order;
//   4. it disconnects and quits.
//
// Every publish carries an ext of its own ({"trace": N}), which Faye hands
// on to the subscribers (other servers may not).
//
//   gjs -m examples/subscriptions.js URL
//
// From a build folder that was not installed, point GObject-Introspection and
// the dynamic linker at it, e.g.:
//
//   GI_TYPELIB_PATH=_build/bayeux-glib LD_LIBRARY_PATH=_build/bayeux-glib \
//     gjs -m examples/subscriptions.js http://127.0.0.1:8000/faye
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import Bayeux from 'gi://Bayeux?version=1.0';
import Gio from 'gi://Gio?version=2.0';
import GLib from 'gi://GLib?version=2.0';
import Json from 'gi://Json?version=1.0';
import System from 'system';

const CHANNEL = '/demo/stocks';

// The _async/_finish pairs, as promises.
Gio._promisify(Bayeux.Client.prototype, 'add_subscription_async', 'add_subscription_finish');
Gio._promisify(Bayeux.Client.prototype, 'publish_full_async', 'publish_full_finish');
Gio._promisify(Bayeux.Client.prototype, 'disconnect_async', 'disconnect_finish');

// print() is buffered when standard output is a pipe: write lines through
// a stream of our own instead, one at a time.
const stdout = new Gio.UnixOutputStream({fd: 1, close_fd: false});
const encoder = new TextEncoder();

function writeLine(line) {
    stdout.write_all(encoder.encode(`${line}\n`), null);
    stdout.flush(null);
}

function sleep(ms) {
    return new Promise(resolve => GLib.timeout_add(GLib.PRIORITY_DEFAULT, ms, () => {
        resolve();
        return GLib.SOURCE_REMOVE;
    }));
}

// Resolves once the handle has received this many messages (its
// message-count property is notified after each message).
function received(handle, count) {
    return new Promise(resolve => {
        if (handle.message_count >= count) {
            resolve();
            return;
        }
        const id = handle.connect('notify::message-count', () => {
            if (handle.message_count >= count) {
                handle.disconnect(id);
                resolve();
            }
        });
    });
}

function printMessages(handle, name) {
    handle.connect('message', (_handle, message) => {
        let text = message.get_data_json(); // the data as the server sent it
        const ext = message.get_ext(); // a Json.Object: the ext the publisher sent
        if (ext?.has_member('trace'))
            text += ` (trace ${ext.get_int_member('trace')})`;
        writeLine(`${name}: ${text}`);
    });
}

async function demo(client) {
    let traces = 0;
    // publish_full_async: the same as publish_async, with an ext for this
    // one message.
    const publish = text => client.publish_full_async(CHANNEL,
        Json.from_string(JSON.stringify({text})), Json.from_string(JSON.stringify({trace: ++traces})), null);

    // ticker's handle is made at once; it is pending until the server
    // confirms the subscription (see its "state" property).
    const ticker = client.add_subscription(CHANNEL, null);
    printMessages(ticker, 'ticker');
    client.start();
    // audit waits for the server's confirmation to get its handle.
    const audit = await client.add_subscription_async(CHANNEL, null, null);
    printMessages(audit, 'audit');
    writeLine(`${client.subscriptions.get_n_items()} handles on ${CHANNEL}`);

    await publish('one');
    await received(ticker, 1);

    audit.cancel();
    writeLine(`audit cancelled, ${client.subscriptions.get_n_items()} handle left`);
    await publish('two');
    await received(ticker, 2);

    // No messages are delivered while paused: they wait (on the server, or
    // held by the client) until delivery resumes.
    client.paused = true;
    writeLine('paused');
    await publish('three');
    await publish('four');
    await sleep(500);
    writeLine('resuming');
    client.paused = false;
    await received(ticker, 4);

    writeLine(`ticker got ${ticker.message_count} messages, audit ${audit.message_count}`);
    await client.disconnect_async(null);
}

if (System.programArgs.length !== 1) {
    printerr('Usage: gjs -m subscriptions.js URL');
    System.exit(2);
}
const client = Bayeux.Client.new(System.programArgs[0]);
client.connect('error', (_client, error) => printerr(`error: ${error.message}`));
const loop = new GLib.MainLoop(null, false);
let exitCode = 0;
demo(client).catch(error => {
    printerr(`demo: ${error.message}`);
    exitCode = 1;
}).finally(() => loop.quit());
loop.run();
client.stop();
System.exit(exitCode);
