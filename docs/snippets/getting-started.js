// getting-started.js: subscribe to a channel, publish a message on it,
// print the message when the server delivers it back, and disconnect.
//
//   gjs -m getting-started.js http://127.0.0.1:8000/faye

import Bayeux from 'gi://Bayeux?version=1.0';
import GLib from 'gi://GLib';
import System from 'system';

const CHANNEL = '/hello';
const url = ARGV[0] ?? 'http://127.0.0.1:8000/faye';
const loop = new GLib.MainLoop(null, false);
let status = 0;

function fail(what, error) {
    printerr(`${what}: ${error.message}`);
    status = 1;
    loop.quit();
}

const client = Bayeux.Client.new(url);

// Done once the message came back and the publish was confirmed (the
// delivery may come first: over a WebSocket the server sends them in any
// order, and a disconnect fails what still waits for an answer).
const waitingFor = new Set(['message', 'publish']);
function done(what) {
    waitingFor.delete(what);
    if (waitingFor.size > 0)
        return;
    // Tell the server goodbye, then quit.
    client.disconnect_async(null, (_c, result) => {
        try {
            client.disconnect_finish(result);
        } catch (error) {
            printerr(`disconnect: ${error.message}`);
        }
        loop.quit();
    });
}

// Each message that arrives on our subscription to CHANNEL: its data as the
// server sent it, JSON text for JSON.parse().
client.connect(`message::${CHANNEL}`, (_client, message) => {
    const data = JSON.parse(message.get_data_json());
    print(`received "${data.text}" on ${message.get_channel()}`);
    done('message');
});

// Failures that no _finish function reports: lost connections (the client
// recovers by itself), refusals of fire-and-forget calls, bad input.
client.connect('error', (_client, error, _message) => printerr(`error: ${error.message}`));

// Held until the handshake is done, then sent.
client.subscribe_async(CHANNEL, null, (_c, result) => {
    try {
        client.subscribe_finish(result);
    } catch (error) { // Bayeux.Error.REFUSED, for example
        fail('subscribe', error);
        return;
    }
    // Subscribed: what we publish now comes back to us.
    const text = JSON.stringify({text: 'Hello from GJS'});
    client.publish_json_async(CHANNEL, text, null, (_c2, res) => {
        try {
            client.publish_json_finish(res); // the server's reply, a Bayeux.Message
        } catch (error) {
            fail('publish', error);
            return;
        }
        done('publish');
    });
});
client.start();
loop.run();
System.exit(status);
