#!/usr/bin/env node
// faye-server.js [--port N]: a real Faye (Bayeux) server for the interop tests.
//
// Mounts a Faye NodeAdapter at /faye on an HTTP server bound to 127.0.0.1
// (port 0, i.e. any free port, unless --port is given), prints
// `READY <port>` on stdout once listening, and exits on SIGTERM or when
// stdin reaches end-of-file. Subscribing or publishing to /forbidden/**
// fails with the error `403::Forbidden channel`. Counts the TCP
// connections it accepts: the line `STATS` on stdin makes it print
// `STATS <open now> <most open at once> <accepted in all>`; the line `DROP`
// resets every open connection (see serverCommands() in common.js). Closes a
// kept-alive connection after 5 s idle (Node's default keepAliveTimeout).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const http = require('http');
const faye = require('faye');
const { watchStdin, isForbidden, countConnections, serverCommands, announce, portArg } = require('./common');

const FORBIDDEN = '403::Forbidden channel';

const port = portArg(process.argv.slice(2));

// timeout: how long (seconds) Faye holds a /meta/connect.
const bayeux = new faye.NodeAdapter({ mount: '/faye', timeout: 10 });

// Server-side security extension: setting message.error on an incoming
// message makes Faye refuse it and send that error back to the client.
bayeux.addExtension({
  incoming(message, callback) {
    if (message.channel === '/meta/subscribe') {
      if ([].concat(message.subscription).some(isForbidden))
        message.error = FORBIDDEN;
    } else if (!message.channel.startsWith('/meta/') && isForbidden(message.channel)) {
      message.error = FORBIDDEN;
    }
    callback(message);
  },
});

// Anything outside /faye is a 404; NodeAdapter.attach() takes /faye over.
const server = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('Not found\n');
});
bayeux.attach(server);

// Node closes a kept-alive connection after it has been idle this long
// (ms); this is Node's default, set explicitly because the keep-alive
// test relies on it.
server.keepAliveTimeout = 5000;

// The connections test asks for these by writing `STATS` on stdin.
const connections = countConnections(server);
watchStdin(serverCommands(connections));
server.listen(port, '127.0.0.1', () => announce(server));
