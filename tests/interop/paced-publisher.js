#!/usr/bin/env node
// paced-publisher.js --kind cometd|faye --url URL --channel CHANNEL --count N
//                    [--interval MS]
// A real peer client for the extension interop tests
// (test-extensions-interop.c) that publishes at a steady pace, so that the
// messages reach a subscriber in many long-poll responses rather than a
// few large ones.
//
// Handshakes, prints `READY`, waits for a line `GO` on stdin, then
// publishes N messages {"seq": i, "from": "peer"}, i = 0…N-1, to CHANNEL,
// one every MS ms (default 10), each awaiting the server's reply before
// the next; then prints `PUBLISHED <N>` and exits 0. --kind cometd uses
// the CometD JavaScript client (long polling: cometd-nodejs-server has no
// WebSocket), --kind faye Faye's Node client. On any error: prints
// `ERROR <text>` and exits 1. Exits 0 when stdin reaches end-of-file.
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// publish(channel, data) resolves once the server acknowledged the message.
async function connect(kind, url) {
  if (kind === 'faye') {
    const faye = require('faye');
    const client = new faye.Client(url, { timeout: 10 });
    const publish = (channel, data) => new Promise((resolve, reject) => {
      client.publish(channel, data).then(resolve, (error) => reject(new Error(`publish: ${error.message}`)));
    });
    await publish('/interop/peer-hello', { hello: true });   // Faye handshakes lazily
    return publish;
  }

  const { adapt } = await import('cometd-nodejs-client');
  adapt();
  const { CometD } = await import('cometd');
  const cometd = new CometD();
  cometd.unregisterTransport('websocket');
  cometd.configure({ url, logLevel: 'warn', maxNetworkDelay: 15000 });
  await new Promise((resolve, reject) => {
    cometd.handshake((reply) => (reply.successful ? resolve() : reject(new Error(`handshake: ${reply.error}`))));
  });
  return (channel, data) => new Promise((resolve, reject) => {
    cometd.publish(channel, data, (reply) => (reply.successful ? resolve()
                                                                : reject(new Error(`publish: ${reply.error}`))));
  });
}

async function main() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      kind: { type: 'string' },
      url: { type: 'string' },
      channel: { type: 'string' },
      count: { type: 'string' },
      interval: { type: 'string', default: '10' },
    },
  });
  const count = Number(values.count);
  const interval = Number(values.interval);
  if (values.kind !== 'cometd' && values.kind !== 'faye')
    throw new Error('--kind must be cometd or faye');
  if (!values.url || !values.channel)
    throw new Error('--url and --channel are required');
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(interval) || interval < 0)
    throw new Error('invalid --count or --interval');

  let go;
  const gotGo = new Promise((resolve) => { go = resolve; });
  watchStdin((line) => { if (line === 'GO') go(); });

  const publish = await connect(values.kind, values.url);
  say('READY');
  await gotGo;
  for (let seq = 0; seq < count; seq++) {
    await publish(values.channel, { seq, from: 'peer' });
    if (interval > 0) await sleep(interval);
  }
  say(`PUBLISHED ${count}`);
  process.exit(0);
}

process.on('unhandledRejection', (error) => fail(error && error.message ? error.message : error));
main().catch((error) => fail(error && error.message ? error.message : error));
