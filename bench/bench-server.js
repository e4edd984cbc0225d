#!/usr/bin/env node
// bench-server.js --kind faye|cometd|http [--timeout S] [--port N]: the
// servers of the bench suite (bench/run.sh), bound to 127.0.0.1.
//
//   faye    a Faye NodeAdapter at /faye (long-polling; WebSocket too, for
//           the rows to come).
//   cometd  cometd-nodejs-server at /cometd, created with
//           maxSessionsPerBrowser: -1 (the bench runs two and more clients
//           in one process, which the server would otherwise take for tabs
//           of one browser and throttle).
//   http    a trivial keep-alive HTTP server for libsoup's floor: reads each
//           POST's body and answers 200 with a small JSON array, no work.
//
// The Bayeux servers answer GET /_bench/requests with the number of HTTP
// requests they have had (bayeux-bench's fan-out driver reads it).
//
// --timeout S is how long the Bayeux servers hold a /meta/connect (their
// advised `timeout`), 30 s by default, as the idle-cost target assumes.
// The servers are the same packages and set-up as tests/interop's
// faye-server.js and cometd-server.js, less the test hooks (forbidden
// channels, connection counting). Prints `READY <port>` once listening and
// exits when stdin reaches end-of-file, or on SIGTERM.
//
// The Node packages come from tests/interop/node_modules
// (npm ci --prefix tests/interop).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const http = require('http');
const path = require('path');
const { createRequire } = require('module');
const { parseArgs } = require('util');

const interop = createRequire(path.resolve(__dirname, '..', 'tests', 'interop', 'package.json'));
const { watchStdin } = interop('./common.js');

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    kind: { type: 'string' },
    timeout: { type: 'string', default: '30' },
    port: { type: 'string', default: '0' },
  },
});
const timeoutS = Number(values.timeout);
const port = Number(values.port);
if (!['faye', 'cometd', 'http'].includes(values.kind))
  throw new Error('--kind must be faye, cometd or http');
if (!(timeoutS > 0))
  throw new Error(`invalid --timeout ${values.timeout}`);

// GET /_bench/requests: the HTTP requests this server has had so far
// (WebSocket frames are not requests), for the fan-out driver's
// requests-per-message figure, the same for every client.
let requests = 0;

function notFound(req, res) {
  if (req && req.method === 'GET' && req.url === '/_bench/requests') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`${requests}\n`);
    return;
  }
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('Not found\n');
}

let server;
if (values.kind === 'faye') {
  const faye = interop('faye');
  const bayeux = new faye.NodeAdapter({ mount: '/faye', timeout: timeoutS });
  server = http.createServer(notFound);
  bayeux.attach(server);
} else if (values.kind === 'cometd') {
  const cometd = interop('cometd-nodejs-server');
  const cometdServer = cometd.createCometDServer({
    logLevel: 'info',
    timeout: timeoutS * 1000,
    maxInterval: 15000,
    maxSessionsPerBrowser: -1,
  });
  server = http.createServer((req, res) => {
    const where = new URL(req.url, 'http://127.0.0.1').pathname;
    if (where === '/cometd' || where.startsWith('/cometd/'))
      cometdServer.handle(req, res);
    else
      notFound(req, res);
  });
} else {
  const reply = Buffer.from('[{"channel":"/bench/echo","successful":true,"id":"1"}]');
  server = http.createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': reply.length });
      res.end(reply);
    });
  });
}

server.on('request', () => requests++);

// The held /meta/connect must outlast Node's own request timeouts.
server.timeout = (timeoutS + 30) * 1000;
server.requestTimeout = 0;
server.keepAliveTimeout = 5000;
server.maxConnections = Infinity;

watchStdin();
server.listen(port, '127.0.0.1', () => process.stdout.write(`READY ${server.address().port}\n`));
