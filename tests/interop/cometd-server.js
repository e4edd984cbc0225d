#!/usr/bin/env node
// cometd-server.js [--port N]: a real CometD (Bayeux) server for the interop
// tests, from the cometd-nodejs-server package.
//
// Serves Bayeux at /cometd on an HTTP server bound to 127.0.0.1 (port 0,
// i.e. any free port, unless --port is given), prints `READY <port>` on
// stdout once listening, and exits on SIGTERM or when stdin reaches
// end-of-file. A security policy refuses subscribing and publishing to
// /forbidden/**. Counts the TCP connections it accepts: the line `STATS`
// on stdin makes it print `STATS <open now> <most open at once> <accepted
// in all>`; the line `DROP` resets every open connection (see
// serverCommands() in common.js). Closes a kept-alive connection after 5 s
// idle (Node's default keepAliveTimeout).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const http = require('http');
const cometd = require('cometd-nodejs-server');
const { watchStdin, isForbidden, countConnections, serverCommands, announce, portArg } = require('./common');

const port = portArg(process.argv.slice(2));

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
watchStdin(serverCommands(connections));
server.listen(port, '127.0.0.1', () => announce(server));
