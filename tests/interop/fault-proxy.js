#!/usr/bin/env node
// fault-proxy.js --target PORT [--port N]: an HTTP reverse proxy that
// breaks things on purpose, between our client and a real server, for the
// extension interop tests (test-extensions-interop.c).
//
// Listens on 127.0.0.1 (port 0, i.e. any free port, unless --port is
// given), prints `READY <port>`, and forwards each HTTP request as it is
// (method, path, headers, body) to 127.0.0.1:TARGET and the response back.
// It does not forward WebSocket upgrades (it closes those connections): a
// client goes through it by long polling. Exits on SIGTERM or when stdin
// reaches end-of-file.
//
// Commands, one a line on stdin:
//   `CUT <every> <max>`: from now on, the 1st, (1 + every)th, (1 + 2 ×
//     every)th… response to a request with a /meta/connect that carries
//     deliveries (messages with `data` and without `successful`) is cut
//     in the middle: the status line, the headers and half of the body go
//     to the client, then its connection is destroyed. The server has
//     sent those messages, the client receives none of them: a long poll
//     failing mid-delivery. At most <max> responses are cut (0: none).
//     Each cut prints `CUT <n> <deliveries> <their data, as a JSON array
//     (its first 200 characters)>`.
//   `BLOCK`: destroys every connection from clients, and destroys new ones
//     as they come, until `OPEN`; prints `BLOCKED <connections destroyed>`.
//   `OPEN`: accepts connections again; prints `OPENED`.
//   `STATS`: prints `STATS <requests forwarded> <responses cut>
//     <deliveries in the responses cut>`.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const http = require('http');
const { parseArgs } = require('util');
const { watchStdin } = require('./common');

function say(line) {
  process.stdout.write(line + '\n');
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { target: { type: 'string' }, port: { type: 'string', default: '0' } },
});
const target = Number(values.target);
const port = Number(values.port);
if (!Number.isInteger(target) || target < 1 || target > 65535)
  throw new Error(`invalid --target ${values.target}`);
if (!Number.isInteger(port) || port < 0 || port > 65535)
  throw new Error(`invalid --port ${values.port}`);

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const stats = { requests: 0, cuts: 0, cutDeliveries: 0 };
const cut = { every: 0, max: 0, seen: 0 };
let blocked = false;
const sockets = new Set();

// The messages of a Bayeux request or response body, or [] if it is not a
// JSON array.
function messagesOf(body) {
  try {
    const parsed = JSON.parse(body.toString('utf8'));
    return Array.isArray(parsed) ? parsed : [];
  } catch (error) {
    return [];
  }
}

const isDelivery = (m) => m && typeof m === 'object' && 'data' in m && !('successful' in m);

// Whether to cut this response: a reply to a /meta/connect that carries
// deliveries, and the rule of CUT says so.
function shouldCut(requestMessages, responseMessages) {
  if (cut.every <= 0 || stats.cuts >= cut.max)
    return false;
  if (!requestMessages.some((m) => m && m.channel === '/meta/connect'))
    return false;
  if (!responseMessages.some(isDelivery))
    return false;
  return cut.seen++ % cut.every === 0;
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const headers = { ...req.headers, host: `127.0.0.1:${target}` };
    stats.requests++;
    const upstream = http.request({
      host: '127.0.0.1', port: target, method: req.method, path: req.url, headers, agent,
    }, (upstreamRes) => {
      const parts = [];
      upstreamRes.on('data', (chunk) => parts.push(chunk));
      upstreamRes.on('end', () => {
        const responseBody = Buffer.concat(parts);
        const responseHeaders = { ...upstreamRes.headers };
        delete responseHeaders['transfer-encoding'];
        responseHeaders['content-length'] = String(responseBody.length);
        const responseMessages = messagesOf(responseBody);
        if (shouldCut(messagesOf(body), responseMessages)) {
          const deliveries = responseMessages.filter(isDelivery);
          stats.cuts++;
          stats.cutDeliveries += deliveries.length;
          const data = JSON.stringify(deliveries.map((m) => m.data));
          say(`CUT ${stats.cuts} ${deliveries.length} ${data.length > 200 ? data.slice(0, 200) + '…' : data}`);
          res.writeHead(upstreamRes.statusCode, responseHeaders);
          res.write(responseBody.subarray(0, Math.floor(responseBody.length / 2)), () => {
            req.socket.destroy();
          });
          return;
        }
        res.writeHead(upstreamRes.statusCode, responseHeaders);
        res.end(responseBody);
      });
    });
    upstream.on('error', (error) => {
      // The server is gone (restarted, say): as a gateway would.
      if (!res.headersSent) {
        res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(`${error.message}\n`);
      } else {
        req.socket.destroy();
      }
    });
    upstream.end(body);
  });
});
// The server holds /meta/connect for 10 s or more: no timeout here.
server.timeout = 0;
server.requestTimeout = 0;
server.keepAliveTimeout = 5000;

server.on('connection', (socket) => {
  if (blocked) {
    socket.destroy();
    return;
  }
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
});
// No WebSocket through here.
server.on('upgrade', (req, socket) => socket.destroy());

watchStdin((line) => {
  const words = line.split(' ');
  if (words[0] === 'CUT' && words.length === 3) {
    cut.every = Number(words[1]);
    cut.max = Number(words[2]);
    cut.seen = 0;
    say(`CUTTING ${cut.every} ${cut.max}`);
  } else if (line === 'BLOCK') {
    blocked = true;
    const count = sockets.size;
    for (const socket of sockets)
      socket.resetAndDestroy();
    say(`BLOCKED ${count}`);
  } else if (line === 'OPEN') {
    blocked = false;
    say('OPENED');
  } else if (line === 'STATS') {
    say(`STATS ${stats.requests} ${stats.cuts} ${stats.cutDeliveries}`);
  }
});

server.listen(port, '127.0.0.1', () => say(`READY ${server.address().port}`));
