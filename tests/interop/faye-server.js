#!/usr/bin/env node
// faye-server.js [--port N] [--redis PORT]: a real Faye (Bayeux) server for
// the interop tests.
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
// With --redis PORT, Faye keeps its state (sessions, subscriptions, message
// queues) in the Redis server at 127.0.0.1:PORT through the faye-redis
// engine instead of in memory: several such processes, each on its own
// port, are then the nodes of one cluster (a client may handshake on one
// node and connect, subscribe or publish on another; no sticky sessions).
// The server says `READY` only once both of its Redis connections are up,
// and exits with an error if Redis goes away.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const http = require('http');
const faye = require('faye');
const { watchStdin, isForbidden, countConnections, serverCommands, announce, serverArgs } = require('./common');

const FORBIDDEN = '403::Forbidden channel';

const { port, redis: redisPort } = serverArgs(process.argv.slice(2));

// timeout: how long (seconds) Faye holds a /meta/connect. With Redis, a
// session also expires 1.6 × timeout after its last /meta/connect.
const engine = redisPort ? { type: fayeRedis(), host: '127.0.0.1', port: redisPort } : undefined;
const bayeux = new faye.NodeAdapter({ mount: '/faye', timeout: 10, engine });

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
