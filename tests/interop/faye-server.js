#!/usr/bin/env node
// faye-server.js [--port N] [--redis PORT] [--replay [--replay-store FILE]]
//                [--echo-ext]:
// a real Faye (Bayeux) server for the interop tests.
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
// `COUNT <channel>` and `EXT <channel>` on stdin tell how many messages it
// received on a channel and the last one's ext (serverCommands()).
//
// With --redis PORT, Faye keeps its state (sessions, subscriptions, message
// queues) in the Redis server at 127.0.0.1:PORT through the faye-redis
// engine instead of in memory: several such processes, each on its own
// port, are then the nodes of one cluster (a client may handshake on one
// node and connect, subscribe or publish on another; no sticky sessions).
// The server says `READY` only once both of its Redis connections are up,
// and exits with an error if Redis goes away.
//
// With --replay (for the extension tests, test-extensions-interop.c), a
// server-side extension in the manner of the Salesforce Streaming API's
// event replay: every event published on /event/** gets a replay id (1, 2,
// 3… across all channels) in data.event.replayId and is kept; the
// handshake reply says ext.replay = true; a /meta/subscribe that carries
// ext.replay = {"<subscription>": <replay id>} first gets the kept events
// of that subscription after that replay id (-1: none, -2: all), in order,
// then the new ones. With --replay-store FILE the events are kept in FILE
// (JSON, written at each event) and read back at start: a server restarted
// with the same FILE replays what its predecessor kept. Not with --redis
// (the replayed events are queued through Faye's in-memory engine).
//
// With --echo-ext (for the binding tests of extensions, tests/gi), the
// reply to a /meta/handshake carries ext.echo, a copy of the handshake's
// own ext: a client sees what its handshake carried when it reached the
// server.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const http = require('http');
const faye = require('faye');
const { watchStdin, isForbidden, countConnections, traceMessages, serverCommands, announce,
        serverArgs } = require('./common');

const FORBIDDEN = '403::Forbidden channel';

const { parseArgs } = require('util');
const { values: options } = parseArgs({
  args: process.argv.slice(2),
  options: {
    port: { type: 'string' },
    redis: { type: 'string' },
    replay: { type: 'boolean', default: false },
    'replay-store': { type: 'string' },
    'echo-ext': { type: 'boolean', default: false },
  },
});
const { port, redis: redisPort } = serverArgs([
  ...(options.port === undefined ? [] : ['--port', options.port]),
  ...(options.redis === undefined ? [] : ['--redis', options.redis]),
]);
const replayStore = options['replay-store'];
if ((options.replay || replayStore) && redisPort)
  throw new Error('--replay works with the in-memory engine only, not with --redis');

// timeout: how long (seconds) Faye holds a /meta/connect. With Redis, a
// session also expires 1.6 × timeout after its last /meta/connect.
const engine = redisPort ? { type: fayeRedis(), host: '127.0.0.1', port: redisPort } : undefined;
const bayeux = new faye.NodeAdapter({ mount: '/faye', timeout: 10, engine });

// Everything received, counted by channel, for the `COUNT` and `EXT`
// commands (see serverCommands() in common.js).
const trace = traceMessages();
bayeux.addExtension({
  incoming(message, callback) {
    trace.record(message);
    callback(message);
  },
});

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

if (options.replay || replayStore)
  bayeux.addExtension(replayExtension(bayeux, replayStore));
if (options['echo-ext'])
  bayeux.addExtension(echoExtension());

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
watchStdin(serverCommands(connections, trace));
if (redisPort)
  whenRedisReady(bayeux, () => server.listen(port, '127.0.0.1', () => announce(server)));
else
  server.listen(port, '127.0.0.1', () => announce(server));

// The faye-redis engine, which needs the callback API of the `redis`
// package before version 4 (package.json pins 3.1.2; faye-redis itself
// asks for any version, and npm would otherwise pick the newest).
function fayeRedis() {
  const path = require('path');
  const from = path.dirname(require.resolve('faye-redis'));
  const { version } = require(require.resolve('redis/package.json', { paths: [from] }));
  if (Number(version.split('.')[0]) >= 4) {
    process.stdout.write(`ERROR faye-redis needs the redis package 3.x or older, not ${version}: ` +
                         'run `npm ci --prefix tests/interop`\n');
    process.exit(1);
  }
  const Engine = require('faye-redis');
  fixEmptyQueue(Engine);
  return Engine;
}

// faye-redis 0.2.0 (the latest; its master is the same) loses messages
// sent to a long-polling client: emptyQueue() checks that this node holds
// the client's /meta/connect, then reads and deletes the client's queue in
// Redis (LRANGE + DEL), and hands the messages to Faye when Redis answers;
// if the long poll ended meanwhile (Faye answers it as soon as a first
// message is there), Faye has no connection to give them to and drops
// them, while Redis no longer has them. A subscriber then misses messages
// now and then, whichever client it is (Faye's own Node client over
// long-polling too). Here the messages that Faye refuses go back to the
// head of the queue, for the client's next /meta/connect (on whichever
// node) to take; and a node empties a client's queue once at a time (a
// call while one is in flight runs again after it), so that messages put
// back cannot end up behind later ones.
function fixEmptyQueue(Engine) {
  Engine.prototype.emptyQueue = function (clientId) {
    if (!this._server.hasConnection(clientId)) return;

    // clientId → whether to empty the queue again once this read is done.
    this._emptying = this._emptying || new Map();
    if (this._emptying.has(clientId)) {
      this._emptying.set(clientId, true);
      return;
    }
    this._emptying.set(clientId, false);

    const done = () => {
      const again = this._emptying.get(clientId);
      this._emptying.delete(clientId);
      if (again) this.emptyQueue(clientId);
    };
    const key = `${this._ns}/clients/${clientId}/messages`;
    const multi = this._redis.multi();
    multi.lrange(key, 0, -1, (error, jsonMessages) => {
      if (!jsonMessages || jsonMessages.length === 0) return done();
      const messages = jsonMessages.map((json) => JSON.parse(json));
      if (this._server.deliver(clientId, messages)) return done();
      // LPUSH a b c makes c, b, a: push them last to first.
      this._redis.lpush(key, ...jsonMessages.slice().reverse(), () => {
        this._redis.publish(this._messageChannel, clientId);
        done();
      });
    });
    multi.del(key);
    multi.exec();
  };
}

// Calls onReady once both Redis connections of the faye-redis engine are
// up; exits (status 1, with `ERROR …` on stdout) if Redis fails or closes.
function whenRedisReady(adapter, onReady) {
  const engine = adapter._server._engine._engine;
  const clients = [engine._redis, engine._subscriber];
  const fail = (what) => {
    process.stdout.write(`ERROR redis 127.0.0.1:${redisPort}: ${what}\n`);
    process.exit(1);
  };
  let waiting = clients.length;
  for (const client of clients) {
    client.on('error', (error) => fail(error.message));
    client.on('end', () => fail('connection closed'));
    if (client.connected) {
      if (--waiting === 0) onReady();
    } else {
      client.once('connect', () => { if (--waiting === 0) onReady(); });
    }
  }
}

// The replay extension (see --replay at the top of this file).
function replayExtension(adapter, storePath) {
  const fs = require('fs');
  let store = { lastId: 0, events: [] };   // events: { channel, replayId, data }
  if (storePath && fs.existsSync(storePath))
    store = JSON.parse(fs.readFileSync(storePath, 'utf8'));
  const save = () => { if (storePath) fs.writeFileSync(storePath, JSON.stringify(store)); };

  const isEvent = (channel) => typeof channel === 'string' && channel.startsWith('/event/');
  // Whether a subscription pattern matches a channel (* one segment, ** any).
  const matches = (pattern, channel) => {
    if (pattern === channel) return true;
    if (pattern.endsWith('/**')) return channel.startsWith(pattern.slice(0, -2));
    if (pattern.endsWith('/*')) {
      const prefix = pattern.slice(0, -1);
      return channel.startsWith(prefix) && !channel.slice(prefix.length).includes('/');
    }
    return false;
  };
  // Queues messages for one client only, before anything published after
  // this point, and delivers them if it has a long poll waiting.
  const deliverTo = (clientId, messages) => {
    const engine = adapter._server._engine._engine;
    if (!engine._messages.has(clientId)) engine._messages.set(clientId, []);
    engine._messages.get(clientId).push(...messages);
    engine.emptyQueue(clientId);
  };

  return {
    incoming(message, callback) {
      if (message.channel === '/meta/subscribe' && message.ext && typeof message.ext.replay === 'object' &&
          message.ext.replay !== null && !message.error) {
        // Replayed before the subscription takes effect: older events come
        // before any new one.
        const replayed = [];
        for (const subscription of [].concat(message.subscription)) {
          const from = message.ext.replay[subscription];
          if (!Number.isInteger(from) || from === -1) continue;
          for (const event of store.events)
            if (matches(subscription, event.channel) && (from === -2 || event.replayId > from))
              replayed.push({ channel: event.channel, data: event.data, id: `replay-${event.replayId}` });
        }
        if (replayed.length > 0) {
          replayed.sort((a, b) => a.data.event.replayId - b.data.event.replayId);
          deliverTo(message.clientId, replayed);
        }
      } else if (isEvent(message.channel) && !message.error && message.data && typeof message.data === 'object' &&
                 !Array.isArray(message.data)) {
        const replayId = ++store.lastId;
        message.data.event = { ...(message.data.event || {}), replayId };
        store.events.push({ channel: message.channel, replayId, data: message.data });
        save();
      }
      callback(message);
    },
    outgoing(message, callback) {
      if (message.channel === '/meta/handshake' && message.successful)
        message.ext = { ...(message.ext || {}), replay: true };
      callback(message);
    },
  };
}

// The echo of the handshake's ext (see --echo-ext at the top of this file):
// the reply has the id of its handshake.
function echoExtension() {
  const exts = new Map();   // handshake id → its ext
  return {
    incoming(message, callback) {
      if (message.channel === '/meta/handshake' && message.id !== undefined)
        exts.set(message.id, JSON.parse(JSON.stringify(message.ext === undefined ? null : message.ext)));
      callback(message);
    },
    outgoing(message, callback) {
      if (message.channel === '/meta/handshake' && exts.has(message.id)) {
        message.ext = { ...(message.ext || {}), echo: exts.get(message.id) };
        exts.delete(message.id);
      }
      callback(message);
    },
  };
}
