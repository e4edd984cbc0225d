// chat.js: the chat example through GJS.
//
// It joins /chat/demo, says that it has joined, prints every chat message
// that arrives as "user: chat", and sends each line typed on its standard
// input. Ctrl-C disconnects and quits.
//
//   gjs -m examples/chat.js [--count N] URL [NAME]
//
// From a build folder that was not installed, point GObject-Introspection and
// the dynamic linker at it, e.g.:
//
//   GI_TYPELIB_PATH=_build/bayeux-glib LD_LIBRARY_PATH=_build/bayeux-glib \
//     gjs -m examples/chat.js http://127.0.0.1:8000/faye
//
// SPDX-License-Identifier: LGPL-2.1-or-later

import Bayeux from 'gi://Bayeux?version=1.0';
import Gio from 'gi://Gio?version=2.0';
import GLib from 'gi://GLib?version=2.0';
import System from 'system';

const CHANNEL = '/chat/demo';
// print() is buffered when standard output is a pipe: write lines through
// a stream of our own instead, one at a time.
const stdout = new Gio.UnixOutputStream({fd: 1, close_fd: false});
const encoder = new TextEncoder();

function writeLine(line) {
    stdout.write_all(encoder.encode(`${line}\n`), null);
    stdout.flush(null);
}
const SIGINT = 2;
const SIGTERM = 15;

function usage() {
    printerr('Usage: gjs -m chat.js [--count N] URL [NAME]');
    printerr(`Chat on ${CHANNEL}. Type a line to send it; Ctrl-C to quit.`);
    System.exit(1);
}

function parseArgs(argv) {
    const positional = [];
    let count = parseInt(GLib.getenv('BAYEUX_CHAT_COUNT') ?? '0', 10) || 0;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (arg === '-n' || arg === '--count') {
            count = parseInt(argv[++i], 10);
            if (Number.isNaN(count))
                usage();
        } else if (arg.startsWith('--count=')) {
            count = parseInt(arg.slice('--count='.length), 10);
            if (Number.isNaN(count))
                usage();
        } else if (arg === '-h' || arg === '--help') {
            usage();
        } else {
            positional.push(arg);
        }
    }
    if (positional.length < 1 || positional.length > 2)
        usage();
    return {url: positional[0], name: positional[1] ?? GLib.get_user_name(), count};
}

class Chat {
    constructor({url, name, count}) {
        this.name = name;
        this.count = count;
        this.received = 0;
        this.exitCode = 0;
        this.quitting = false;
        this.loop = new GLib.MainLoop(null, false);
        this.cancellable = new Gio.Cancellable();
        this.client = Bayeux.Client.new(url);
        this.client.connect(`message::${CHANNEL}`, (client, message) => this.onMessage(message));
        this.client.connect('error', (client, error, message) => this.onError(error, message));
        const stdin = Gio.UnixInputStream.new(0, false);
        this.input = Gio.DataInputStream.new(stdin);
    }

    run() {
        for (const signum of [SIGINT, SIGTERM])
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, () => this.onQuitSignal());
        // Held until the handshake completes, then sent.
        this.client.subscribe_async(CHANNEL, null, (client, result) => this.onSubscribed(result));
        this.client.start();
        printerr(`${this.name} joining ${CHANNEL} on ${this.client.url} (Ctrl-C to quit)`);
        this.loop.run();
        this.client.stop();
        return this.exitCode;
    }

    say(text) {
        const data = JSON.stringify({user: this.name, chat: text});
        this.client.publish_json_async(CHANNEL, data, null, (client, result) => {
            try {
                client.publish_json_finish(result);
            } catch (error) {
                printerr(`publish: ${error.message}`);
            }
        });
    }

    quit() {
        if (this.quitting)
            return;
        this.quitting = true;
        this.cancellable.cancel();
        this.client.disconnect_async(null, (client, result) => {
            try {
                client.disconnect_finish(result);
            } catch (error) {
                printerr(`disconnect: ${error.message}`);
            }
            this.loop.quit();
        });
    }

    onSubscribed(result) {
        try {
            this.client.subscribe_finish(result);
        } catch (error) {
            printerr(`subscribe ${CHANNEL}: ${error.message}`);
            this.exitCode = 1;
            this.quit();
            return;
        }
        // Subscribed: what is published from now on comes back to us, our
        // own join message included.
        this.say('has joined');
        this.readNextLine();
    }

    onMessage(message) {
        // The data as the server sent it, for JSON.parse (null: no data).
        const text = message.get_data_json();
        const chat = text !== null ? JSON.parse(text) : null;
        if (chat && typeof chat === 'object' && 'user' in chat && 'chat' in chat)
            writeLine(`${chat.user}: ${chat.chat}`);
        else
            writeLine(message.to_string());
        this.received++;
        if (this.count > 0 && this.received >= this.count)
            this.quit();
    }

    onError(error, message) {
        const channel = message?.get_channel();
        if (channel)
            printerr(`error (${channel}): ${error.message}`);
        else
            printerr(`error: ${error.message}`);
    }

    readNextLine() {
        this.input.read_line_async(GLib.PRIORITY_DEFAULT, this.cancellable, (stream, result) => {
            let line;
            try {
                [line] = stream.read_line_finish_utf8(result);
            } catch (error) {
                if (!error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
                    printerr(`stdin: ${error.message}`);
                return;
            }
            if (line === null)
                return; // end of input: keep listening
            line = line.trim();
            if (line)
                this.say(line);
            this.readNextLine();
        });
    }

    onQuitSignal() {
        if (this.quitting) {
            this.loop.quit(); // a second Ctrl-C: stop waiting for the server
        } else {
            printerr('disconnecting…');
            this.quit();
        }
        return GLib.SOURCE_CONTINUE;
    }
}

const chat = new Chat(parseArgs(System.programArgs));
System.exit(chat.run());
