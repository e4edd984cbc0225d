#!/usr/bin/env node
// peer.js: a real Bayeux peer client for the interop tests.
//
//   peer.js --kind cometd|faye --url URL --subscribe CHANNEL --count N
//   peer.js --kind cometd|faye --url URL --publish CHANNEL [--publish CHANNEL…] --count N
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
      count: { type: 'string', default: '1' },
    },
  });
  const count = Number(values.count);
  if (values.kind !== 'cometd' && values.kind !== 'faye')
    throw new Error('--kind must be cometd or faye');
  if (!values.url)
    throw new Error('--url is required');
  if (!values.subscribe === !values.publish)
    throw new Error('give exactly one of --subscribe or --publish');
  if (!Number.isInteger(count) || count < 0)
    throw new Error(`invalid --count ${values.count}`);
  return { ...values, count };
}

// Each client kind is wrapped in the same small promise-based interface:
// subscribe(channel, onData) resolves once the subscription is confirmed,
// publish(channel, data) resolves once the server acknowledged it.

function fayeClient(url) {
  const faye = require('faye');
  const client = new faye.Client(url, { timeout: 10, retry: 1 });
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
  };
}

async function cometdClient(url) {
  // adapt() installs XMLHttpRequest and friends into a global `window`;
  // it must run before the CometD client is instantiated. Both packages
  // are ES modules, hence the dynamic imports from this CommonJS script.
  const { adapt } = await import('cometd-nodejs-client');
  adapt();
  const { CometD } = await import('cometd');

  const cometd = new CometD();
  // cometd-nodejs-server has no WebSocket; use long polling everywhere.
  cometd.unregisterTransport('websocket');
  cometd.configure({ url, logLevel: 'warn', maxNetworkDelay: 15000 });

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
  };
}

async function main() {
  let args;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    fail(error.message);
  }

  // Lines on stdin: `GO` starts publishing; end-of-file exits.
  let go;
  const gotGo = new Promise((resolve) => { go = resolve; });
  watchStdin((line) => { if (line === 'GO') go(); });

  const client = args.kind === 'faye' ? fayeClient(args.url) : await cometdClient(args.url);

  if (args.subscribe) {
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
