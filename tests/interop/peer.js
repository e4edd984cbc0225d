#!/usr/bin/env node
// peer.js: a real Bayeux peer client for the interop tests.
//
//   peer.js --kind cometd|faye --url URL --subscribe CHANNEL --count N
//   peer.js --kind cometd|faye --url URL --publish CHANNEL [--publish CHANNEL…] --count N
//   peer.js --kind cometd|faye --url URL --stream CHANNEL [--interval MS]
//
// --kind cometd uses the CometD JavaScript client (through
// cometd-nodejs-client's adapt()), --kind faye uses Faye's Node client.
//
// Subscribe mode: subscribes to CHANNEL, prints `READY` once the server has
// confirmed the subscription, prints `MSG <data as compact JSON>` for each
// message received, and after N messages prints `DONE` and exits 0.
//
// Publish mode: waits for a line `GO` on stdin (so the test can subscribe
// first), then publishes N messages with data {"seq": i, "from": "peer"},
// i = 0…N-1, to each CHANNEL in turn, one after the other, each awaiting
// the server's reply; then prints `PUBLISHED <total>` and exits 0.
//
// Stream mode, for the recovery tests: handshakes, prints `READY`, then
// publishes {"seq": i, "from": "peer"} to CHANNEL every MS ms (default 50),
// i = 0, 1, 2…, without waiting for the replies, and goes on through server
// restarts (the clients reconnect by themselves, with a short backoff).
// Every message is sent at most once (Faye's client would otherwise resend
// it after a failure, and a subscriber could get it twice). On stdin:
//   `BATCH <k> <n>` publishes n messages {"seq": i, "from": "peer",
//     "batch": k} at once, their i from the same counter, waits for their
//     replies (at most 5 s) and prints `BATCH <k> <acked> <failed>`, each a
//     comma-separated list of seqs, or `-` for none;
//   `STATS` prints `STATS <published> <acked> <failed>` for the stream (a
//     message without a reply after 5 s counts as failed).
//
// On any error: prints `ERROR <text>` and exits 1. Exits 0 when stdin
// reaches end-of-file (the test went away).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const { parseArgs } = require('util');
const { watchStdin } = require('./common');

function say(line) {
  process.stdout.write(line + '\n');
}

function fail(text) {
  say(`ERROR ${String(text).replace(/\s+/g, ' ')}`);
  process.exit(1);
}

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      kind: { type: 'string' },
      url: { type: 'string' },
      subscribe: { type: 'string' },
      publish: { type: 'string', multiple: true },
      stream: { type: 'string' },
      count: { type: 'string', default: '1' },
      interval: { type: 'string', default: '50' },
    },
  });
  const count = Number(values.count);
  const interval = Number(values.interval);
  if (values.kind !== 'cometd' && values.kind !== 'faye')
    throw new Error('--kind must be cometd or faye');
  if (!values.url)
    throw new Error('--url is required');
  if ([values.subscribe, values.publish, values.stream].filter(Boolean).length !== 1)
    throw new Error('give exactly one of --subscribe, --publish or --stream');
  if (!Number.isInteger(count) || count < 0)
    throw new Error(`invalid --count ${values.count}`);
  if (!Number.isInteger(interval) || interval < 1)
    throw new Error(`invalid --interval ${values.interval}`);
  return { ...values, count, interval };
}

// Each client kind is wrapped in the same small promise-based interface:
// subscribe(channel, onData) resolves once the subscription is confirmed,
// publish(channel, data) resolves once the server acknowledged it;
// publishOnce(channel, data) sends the message at most once and resolves
// to whether the server acknowledged it (false also when no reply came).
// With `recover`, the client reconnects quickly after a server restart.

// Resolves to false after ms unless the promise settled before.
function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const PUBLISH_ONCE_TIMEOUT_MS = 5000;

function fayeClient(url, recover) {
  const faye = require('faye');
  const client = new faye.Client(url, { timeout: 10, retry: recover ? 0.5 : 1 });
  // Faye parses the server's "code:args:message" error string.
  const why = (error) => (error && error.code ? `${error.code}:${(error.params || []).join(',')}:${error.message}`
                                              : (error && error.message) || String(error));
  return {
    subscribe(channel, onData) {
      return new Promise((resolve, reject) => {
        client.subscribe(channel, onData)
          .then(resolve, (error) => reject(new Error(`subscribe ${channel}: ${why(error)}`)));
      });
    },
    publish(channel, data) {
      return new Promise((resolve, reject) => {
        client.publish(channel, data)
          .then(resolve, (error) => reject(new Error(`publish ${channel}: ${why(error)}`)));
      });
    },
    publishOnce(channel, data) {
      // With attempts: 1, Faye calls neither callback when its one attempt
      // fails in transport: the timeout answers then.
      return withTimeout(new Promise((resolve) => {
        client.publish(channel, data, { attempts: 1 }).then(() => resolve(true), () => resolve(false));
      }), PUBLISH_ONCE_TIMEOUT_MS);
    },
  };
}

async function cometdClient(url, recover) {
  // adapt() installs XMLHttpRequest and friends into a global `window`;
  // it must run before the CometD client is instantiated. Both packages
  // are ES modules, hence the dynamic imports from this CommonJS script.
  const { adapt } = await import('cometd-nodejs-client');
  adapt();
  const { CometD } = await import('cometd');

  const cometd = new CometD();
  // cometd-nodejs-server has no WebSocket; use long polling everywhere.
  cometd.unregisterTransport('websocket');
  cometd.configure(recover ? { url, logLevel: 'warn', maxNetworkDelay: 5000, backoffIncrement: 200, maxBackoff: 1000 }
                           : { url, logLevel: 'warn', maxNetworkDelay: 15000 });

  const why = (reply) => reply.error || (reply.failure && reply.failure.reason) || 'failed';

  await new Promise((resolve, reject) => {
    cometd.handshake((reply) => {
      if (reply.successful) resolve();
      else reject(new Error(`handshake: ${why(reply)}`));
    });
  });

  return {
    subscribe(channel, onData) {
      return new Promise((resolve, reject) => {
        cometd.subscribe(channel, (message) => onData(message.data), (reply) => {
          if (reply.successful) resolve();
          else reject(new Error(`subscribe ${channel}: ${why(reply)}`));
        });
      });
    },
    publish(channel, data) {
      return new Promise((resolve, reject) => {
        cometd.publish(channel, data, (reply) => {
          if (reply.successful) resolve();
          else reject(new Error(`publish ${channel}: ${why(reply)}`));
        });
      });
    },
    publishOnce(channel, data) {
      // The CometD client never sends a publish twice.
      return withTimeout(new Promise((resolve) => {
        cometd.publish(channel, data, (reply) => resolve(Boolean(reply.successful)));
      }), PUBLISH_ONCE_TIMEOUT_MS);
    },
  };
}

// Stream mode (see the top of this file).
function stream(client, channel, interval, onCommand) {
  const counts = { published: 0, acked: 0, failed: 0 };
  let seq = 0;

  const count = (acked) => { if (acked) counts.acked++; else counts.failed++; };
  setInterval(() => {
    counts.published++;
    client.publishOnce(channel, { seq: seq++, from: 'peer' }).then(count);
  }, interval);

  onCommand(async (line) => {
    const words = line.split(' ');
    if (words[0] === 'STATS') {
      say(`STATS ${counts.published} ${counts.acked} ${counts.failed}`);
    } else if (words[0] === 'BATCH' && words.length === 3) {
      const batch = Number(words[1]);
      const n = Number(words[2]);
      const seqs = Array.from({ length: n }, () => seq++);
      const results = await Promise.all(seqs.map((i) => client.publishOnce(channel, { seq: i, from: 'peer', batch })));
      const list = (acked) => seqs.filter((_, j) => results[j] === acked).join(',') || '-';
      say(`BATCH ${batch} ${list(true)} ${list(false)}`);
    }
  });
}

async function main() {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    fail(error.message);
  }

  // Lines on stdin: `GO` starts publishing, stream mode has its own
  // commands; end-of-file exits.
  let go;
  const gotGo = new Promise((resolve) => { go = resolve; });
  let streamCommand = null;
  watchStdin((line) => {
    if (line === 'GO') go();
    else if (streamCommand) streamCommand(line);
  });

  const recover = Boolean(args.stream);
  const client = args.kind === 'faye' ? fayeClient(args.url, recover) : await cometdClient(args.url, recover);

  if (args.stream) {
    // Faye's client connects lazily: make it handshake before READY.
    await client.publishOnce('/interop/peer-hello', { hello: true });
    say('READY');
    stream(client, args.stream, args.interval, (handler) => { streamCommand = handler; });
  } else if (args.subscribe) {
    let received = 0;
    await client.subscribe(args.subscribe, (data) => {
      if (received >= args.count)
        return;
      say(`MSG ${JSON.stringify(data)}`);
      if (++received === args.count) {
        say('DONE');
        process.exit(0);
      }
    });
    say('READY');
    if (args.count === 0) {
      say('DONE');
      process.exit(0);
    }
  } else {
    await gotGo;
    for (const channel of args.publish) {
      for (let seq = 0; seq < args.count; seq++)
        await client.publish(channel, { seq, from: 'peer' });
    }
    say(`PUBLISHED ${args.count * args.publish.length}`);
    process.exit(0);
  }
}

process.on('unhandledRejection', (error) => fail(error && error.message ? error.message : error));
main().catch((error) => fail(error && error.message ? error.message : error));
