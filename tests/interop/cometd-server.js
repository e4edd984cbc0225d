#!/usr/bin/env node
// cometd-server.js [--port N] [--ack] [--timesync [--clock-skew MS]]: a real
// CometD (Bayeux) server for the interop tests, from the
// cometd-nodejs-server package.
//
// Serves Bayeux at /cometd on an HTTP server bound to 127.0.0.1 (port 0,
// i.e. any free port, unless --port is given), prints `READY <port>` on
// stdout once listening, and exits on SIGTERM or when stdin reaches
// end-of-file. A security policy refuses subscribing and publishing to
// /forbidden/**. Counts the TCP connections it accepts: the line `STATS`
// on stdin makes it print `STATS <open now> <most open at once> <accepted
// in all>`; the line `DROP` resets every open connection (see
// serverCommands() in common.js). Closes a kept-alive connection after 5 s
// idle (Node's default keepAliveTimeout). `COUNT <channel>` and
// `EXT <channel>` on stdin tell how many messages it received on a channel
// and the last one's ext (serverCommands() in common.js).
//
// Server-side extensions, for the extension tests
// (test-extensions-interop.c), each off unless asked for:
//   --ack         cometd-nodejs-server's own message acknowledgement
//                 extension (AcknowledgedMessagesExtension, CometD's `ext.ack`).
//   --timesync    CometD's clock synchronization extension (`ext.timesync`),
//                 which cometd-nodejs-server does not have: written here
//                 after CometD's Java TimesyncExtension (see timesync()
//                 below), answering every /meta/ message that carries
//                 `ext.timesync`.
//   --clock-skew MS
//                 with --timesync, the server's clock is MS milliseconds
//                 ahead of the machine's (behind if negative).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const http = require('http');
const { parseArgs } = require('util');
const cometd = require('cometd-nodejs-server');
const { watchStdin, isForbidden, countConnections, traceMessages, serverCommands, announce,
        portArg } = require('./common');

const { values: options } = parseArgs({
  args: process.argv.slice(2),
  options: {
    port: { type: 'string' },
    ack: { type: 'boolean', default: false },
    timesync: { type: 'boolean', default: false },
    'clock-skew': { type: 'string', default: '0' },
  },
});
const port = portArg(options.port === undefined ? [] : ['--port', options.port]);
const clockSkew = Number(options['clock-skew']);
if (!Number.isInteger(clockSkew))
  throw new Error(`invalid --clock-skew ${options['clock-skew']}`);

const cometdServer = cometd.createCometDServer({
  logLevel: 'info',           // 'debug' logs every message on stdout
  timeout: 10000,             // how long (ms) a /meta/connect is held
  maxInterval: 15000,         // session expiry without a /meta/connect
  // The tests run several clients from one "browser" (same host, no
  // shared cookie jar); do not limit the long polls per browser.
  maxSessionsPerBrowser: -1,
});

// canSubscribe/canPublish answer through a node-style callback
// (failure, allowed); `channel` is a ServerChannel.
cometdServer.policy = {
  canSubscribe(session, message, channel, callback) {
    callback(null, !isForbidden(channel.name));
  },
  canPublish(session, message, channel, callback) {
    callback(null, !isForbidden(channel.name));
  },
};

// Everything received, counted by channel, for the `COUNT` and `EXT`
// commands (see serverCommands() in common.js).
const trace = traceMessages();
cometdServer.addExtension({
  incoming(server, session, message, callback) {
    trace.record(message);
    callback(undefined, true);
  },
});

if (options.ack) {
  const { AcknowledgedMessagesExtension } = require('cometd-nodejs-server/ack-extension');
  cometdServer.addExtension(new AcknowledgedMessagesExtension());
}
if (options.timesync)
  cometdServer.addExtension(timesync(clockSkew));

// CometD's timesync, server side. A client's /meta/ message carries
// ext.timesync = {tc, l, o}: its clock when it sent the message, and its
// estimates of the lag and of the offset. The reply carries
// ext.timesync = {tc, ts, p, a}: tc echoed; ts, this server's clock when
// the message arrived; p, how long the server kept it (a held
// /meta/connect); a = tc + o + l - ts, how far off the client's estimates
// were. (CometD's own answers only when |a| reaches an accuracy target;
// this one always does, for the tests to get a sample from every reply.)
function timesync(skew) {
  const now = () => Date.now() + skew;
  const received = new WeakMap();   // the reply object → what its request carried, and ts
  const isNumber = (x) => typeof x === 'number' && Number.isFinite(x);
  return {
    incoming(server, session, message, callback) {
      const sync = message.ext && message.ext.timesync;
      if (typeof message.channel === 'string' && message.channel.startsWith('/meta/') &&
          sync && typeof sync === 'object' && isNumber(sync.tc) && message.reply)
        received.set(message.reply, { tc: sync.tc, l: isNumber(sync.l) ? sync.l : 0,
                                      o: isNumber(sync.o) ? sync.o : 0, ts: now() });
      callback(undefined, true);
    },
    outgoing(server, sender, session, message, callback) {
      const sync = received.get(message);
      if (sync) {
        const ts = sync.ts;
        message.ext = message.ext || {};
        message.ext.timesync = { tc: sync.tc, ts, p: now() - ts, a: sync.tc + sync.o + sync.l - ts };
      }
      callback(undefined, true);
    },
  };
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  if (path === '/cometd' || path.startsWith('/cometd/')) {
    cometdServer.handle(req, res);
  } else {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('Not found\n');
  }
});
// Node's own request timeout must outlast the held /meta/connect.
server.timeout = 60000;

// Node closes a kept-alive connection after it has been idle this long
// (ms); this is Node's default, set explicitly because the keep-alive
// test relies on it.
server.keepAliveTimeout = 5000;

// The connections test asks for these by writing `STATS` on stdin.
const connections = countConnections(server);
watchStdin(serverCommands(connections, trace));
server.listen(port, '127.0.0.1', () => announce(server));
