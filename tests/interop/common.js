// common.js: helpers shared by the interop scripts.
//
// Every script here is started by the interop tests (test-interop.c,
// test-recovery.c) with its stdin piped from the test. When the test exits
// (or crashes), the pipe closes and the script must exit too, so no server
// is left behind.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const readline = require('readline');

// Calls onLine (if given) for each line read on stdin, and exits with
// status 0 when stdin reaches end-of-file, or on SIGTERM/SIGINT.
function watchStdin(onLine) {
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (line) => { if (onLine) onLine(line.trim()); });
  rl.on('close', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  process.on('SIGINT', () => process.exit(0));
}

// Whether a channel name or subscription pattern falls under /forbidden/**.
function isForbidden(channel) {
  return typeof channel === 'string' &&
    (channel === '/forbidden' || channel.startsWith('/forbidden/'));
}

// Counts the TCP connections an http.Server accepts: how many are open now
// (current), the most that were open at once (max) and how many were
// accepted in all (total). Returns that live { current, max, total } object,
// which also holds the open sockets (a Set, in its non-enumerable `sockets`).
// With INTEROP_CONN_LOG=1 in the environment, also logs on stderr each
// connection's opening and closing, and who closed it first.
function countConnections(httpServer) {
  const stats = { current: 0, max: 0, total: 0 };
  const sockets = new Set();
  Object.defineProperty(stats, 'sockets', { value: sockets });
  const log = process.env.INTEROP_CONN_LOG === '1'
    ? (text) => process.stderr.write(`[conn] ${text}\n`) : null;

  httpServer.on('connection', (socket) => {
    const id = ++stats.total;
    const opened = Date.now();
    let peerEnded = false;

    sockets.add(socket);
    stats.current++;
    stats.max = Math.max(stats.max, stats.current);
    if (log) log(`#${id} open (${stats.current} open)`);
    socket.on('end', () => { peerEnded = true; });
    socket.once('close', () => {
      sockets.delete(socket);
      stats.current--;
      if (log)
        log(`#${id} closed by ${peerEnded ? 'the client' : 'the server'} after ${Date.now() - opened} ms ` +
            `(${stats.current} open)`);
    });
  });

  return stats;
}

// What a server received, by channel (`/meta/connect`, `/chat/demo`…), and
// by channel and client id: how many messages, and the `ext` of the last
// one. trace.record(message) is called by each server script's incoming
// extension.
function traceMessages() {
  const counts = new Map();
  const lastExt = new Map();
  return {
    record(message) {
      if (!message || typeof message.channel !== 'string')
        return;
      for (const key of [message.channel, `${message.channel} ${message.clientId}`]) {
        counts.set(key, (counts.get(key) || 0) + 1);
        lastExt.set(key, message.ext === undefined ? null : message.ext);
      }
    },
    counts,
    lastExt,
  };
}

// The stdin commands of the server scripts, for watchStdin(): `STATS`
// prints `STATS <current> <max> <total>` (see countConnections()); `DROP`
// resets every open connection, as a proxy or load balancer cutting them
// would (the server keeps its sessions), and prints `DROPPED <how many>`.
// With a trace (traceMessages()): `COUNT <channel> [<client id>]` prints
// `COUNT <channel> [<client id>] <messages received on it [from that client]>`,
// and `EXT <channel> [<client id>]` prints
// `EXT <channel> [<client id>] <the last one's ext as JSON, or null>`.
function serverCommands(stats, trace) {
  return (line) => {
    const [command, ...rest] = line.split(' ');
    const key = rest.join(' ');
    if (trace && command === 'COUNT' && key) {
      process.stdout.write(`COUNT ${key} ${trace.counts.get(key) || 0}\n`);
    } else if (trace && command === 'EXT' && key) {
      const ext = trace.lastExt.has(key) ? trace.lastExt.get(key) : null;
      process.stdout.write(`EXT ${key} ${JSON.stringify(ext)}\n`);
    } else if (line === 'STATS') {
      process.stdout.write(`STATS ${stats.current} ${stats.max} ${stats.total}\n`);
    } else if (line === 'DROP') {
      const count = stats.sockets.size;
      for (const socket of stats.sockets)
        socket.resetAndDestroy();
      process.stdout.write(`DROPPED ${count}\n`);
    }
  };
}

// Prints the line `READY <port>` once an http.Server is listening.
function announce(httpServer) {
  process.stdout.write(`READY ${httpServer.address().port}\n`);
}

function toPort(text, option, min) {
  const port = Number(text);
  if (!Number.isInteger(port) || port < min || port > 65535)
    throw new Error(`invalid ${option} ${text}`);
  return port;
}

// Parses `--port N` (default 0: any free port).
function portArg(argv) {
  const { parseArgs } = require('util');
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string', default: '0' } },
  });
  return toPort(values.port, '--port', 0);
}

// Parses `--port N` (default 0: any free port) and `--redis PORT` (a Redis
// server on 127.0.0.1; default none): returns { port, redis }, redis being
// null without --redis.
function serverArgs(argv) {
  const { parseArgs } = require('util');
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: 'string', default: '0' }, redis: { type: 'string' } },
  });
  return {
    port: toPort(values.port, '--port', 0),
    redis: values.redis === undefined ? null : toPort(values.redis, '--redis', 1),
  };
}

module.exports = { watchStdin, isForbidden, countConnections, traceMessages, serverCommands, announce, portArg,
                   serverArgs };
