#!/usr/bin/env node
// peer-bench.js: the peers' side of the bench suite (bench/run.sh), the same
// scenarios as bayeux-bench (bench-client.c), measured the same way, with
// the peers' own clients:
//
//   peer-bench.js --client cometd|faye
//                 --scenario pingpong|many|idle|fanout-subscribe --url URL
//                 [--server NAME] [--transport long-polling|websocket]
//                 [--rounds N] [--warmup N] [--clients K] [--idle S]
//                 [--cdf FILE] [--channel C] [--subscribers N]
//
// --client cometd is the CometD JavaScript client (cometd 8) in Node through
// cometd-nodejs-client's adapt(); --client faye is Faye's Node client. On
// --transport long-polling (the default) CometD's websocket transport is
// unregistered (the CometD server here has none), and Faye's client has
// 'websocket' and 'eventsource' disabled. On --transport websocket (Faye
// only) nothing is disabled: Faye's client handshakes over long-polling
// (its mandatory connection type) and then selects 'websocket', which the
// Faye server offers; every scenario waits until the dispatcher's
// connectionType is 'websocket' before it measures, and the record's
// transport_used says what ran.
//
//   pingpong  two clients in this process: A publishes {seq} on /ping/X, B
//             (subscribed) republishes the data on /pong/X, A (subscribed)
//             gets it; ROUNDS sequential round trips after WARMUP; latency
//             p50/p99/max, CPU (process.cpuUsage) per round trip, peak RSS
//             (process.resourceUsage().maxRSS).
//   many      one publisher, then CLIENTS clients each subscribed to its own
//             channel; RSS delta per client, time until all are subscribed,
//             and whether each gets the message then published to it.
//   idle      one subscribed client idle for IDLE seconds: CPU used and
//             wake-ups (voluntary context switches, getrusage; Node's event
//             loop has no iteration counter to read).
//   fanout-subscribe
//             the measured side of the fan-out (3): SUBSCRIBERS clients in
//             this process subscribed to CHANNEL; bayeux-bench --scenario
//             fanout publishes and talks to this process on stdin/stdout
//             (READY, COUNT, QUIT, as bench-client.c's
//             run_fanout_subscribe describes).
//
// Prints one JSON object on stdout, with the keys bayeux-bench uses.
// The packages come from tests/interop/node_modules.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

'use strict';

const fs = require('fs');
const path = require('path');
const url = require('url');
const { createRequire } = require('module');
const { parseArgs } = require('util');

const interop = createRequire(path.resolve(__dirname, '..', 'tests', 'interop', 'package.json'));

const { values: opts } = parseArgs({
  args: process.argv.slice(2),
  options: {
    client: { type: 'string' },
    scenario: { type: 'string' },
    url: { type: 'string' },
    server: { type: 'string', default: 'none' },
    rounds: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '200' },
    clients: { type: 'string', default: '1000' },
    idle: { type: 'string', default: '60' },
    cdf: { type: 'string' },
    transport: { type: 'string', default: 'long-polling' },
    channel: { type: 'string' },
    subscribers: { type: 'string', default: '10' },
  },
});
const rounds = Number(opts.rounds);
const warmup = Number(opts.warmup);
const nclients = Math.max(1, Number(opts.clients));
const idleS = Number(opts.idle);

const CLIENT_NAMES = { cometd: 'cometd-js', faye: 'faye-node' };
const report = {
  scenario: opts.scenario,
  client: CLIENT_NAMES[opts.client] || opts.client,
  server: opts.server,
  transport: opts.transport,
};

function finish(error) {
  if (error)
    report.error = String(error && error.message ? error.message : error);
  process.stdout.write(JSON.stringify(report) + '\n');
  process.exit(error ? 1 : 0);
}

process.on('unhandledRejection', finish);

function round3(x) {
  const mag = Math.abs(x);
  const digits = mag >= 1000 ? 0 : mag >= 100 ? 1 : mag >= 10 ? 2 : 3;
  return Number(x.toFixed(digits));
}

function cpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function nowUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

function statusKib(field) {
  const m = fs.readFileSync('/proc/self/status', 'utf8').match(new RegExp(`^${field}:\\s+(\\d+)`, 'm'));
  return m ? Number(m[1]) : -1;
}

function reportProcess() {
  // maxRSS is in KiB; VmHWM says the same, read the same way as ours.
  report.peak_rss_kib = statusKib('VmHWM');
  report.max_rss_kib = process.resourceUsage().maxRSS;
  report.rss_kib = statusKib('VmRSS');
  report.rss_anon_kib = statusKib('RssAnon');
  report.threads = statusKib('Threads');
  report.process_cpu_s = round3(cpuSeconds());
}

function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const rank = Math.min(Math.max(Math.ceil((p / 100) * sorted.length), 1), sorted.length);
  return sorted[rank - 1];
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// The two clients behind one interface: subscribe(channel, onData)
// resolves once the server confirmed; publish(channel, data) sends and
// forgets, as bayeux-bench's bayeux_client_publish() does.

function fayeFactory() {
  const faye = interop('faye');
  return async () => {
    const client = new faye.Client(opts.url, { timeout: 60 });
    if (opts.transport !== 'websocket') {
      client.disable('websocket');
      client.disable('eventsource');
    }
    return {
      // The connection type its dispatcher selected (Faye has no public
      // getter): 'long-polling' for the handshake, then 'websocket' once
      // the socket is open, unless disabled.
      transport() {
        return client._dispatcher.connectionType;
      },
      subscribe(channel, onData) {
        return new Promise((resolve, reject) => {
          client.subscribe(channel, onData).then(resolve, (error) => reject(new Error(`subscribe ${channel}: ${error && error.message}`)));
        });
      },
      publish(channel, data) {
        client.publish(channel, data);
      },
    };
  };
}

async function cometdFactory() {
  // adapt() installs XMLHttpRequest and friends as globals; it must run
  // before a CometD instance is made. Both are ES modules.
  const { adapt } = await import(url.pathToFileURL(interop.resolve('cometd-nodejs-client')).href);
  adapt();
  const { CometD } = await import(url.pathToFileURL(interop.resolve('cometd')).href);
  return async () => {
    const cometd = new CometD();
    cometd.unregisterTransport('websocket');
    cometd.configure({ url: opts.url, logLevel: 'warn' });
    await new Promise((resolve, reject) => {
      cometd.handshake((reply) => (reply.successful ? resolve() : reject(new Error(`handshake: ${reply.error || 'failed'}`))));
    });
    return {
      transport() {
        const transport = cometd.getTransport();
        return transport ? transport.type : undefined;
      },
      subscribe(channel, onData) {
        return new Promise((resolve, reject) => {
          cometd.subscribe(channel, (message) => onData(message.data), (reply) => {
            if (reply.successful) resolve();
            else reject(new Error(`subscribe ${channel}: ${reply.error || 'failed'}`));
          });
        });
      },
      publish(channel, data) {
        cometd.publish(channel, data);
      },
    };
  };
}

// Waits until every client runs on the transport asked for (Faye selects
// 'websocket' asynchronously, after the handshake over long-polling) and
// records it; throws if one does not within 5 s, so that a row can never be
// labelled with a transport that did not run.
async function checkTransport(clients) {
  const deadline = Date.now() + 5000;
  while (clients.some((c) => c.transport() !== opts.transport) && Date.now() < deadline)
    await sleep(20);
  const used = clients.map((c) => c.transport());
  report.transport_used = used[0] || 'unknown';
  const wrong = used.find((u) => u !== opts.transport);
  if (wrong !== undefined)
    throw new Error(`asked for ${opts.transport}, the client runs on ${wrong}`);
}

function tag() {
  return `${process.pid}-${Math.floor(Math.random() * 0xffffffff).toString(16).padStart(8, '0')}`;
}

async function pingpong(newClient) {
  const x = tag();
  const ping = `/ping/${x}`;
  const pong = `/pong/${x}`;
  const total = warmup + rounds;
  const latencies = [];
  let sent = 0;
  let sentAt = 0;
  let cpuStart = 0;
  let wallStart = 0;
  let done;
  const finished = new Promise((resolve) => { done = resolve; });

  report.rounds = rounds;
  report.warmup = warmup;
  const a = await newClient();
  const b = await newClient();

  const send = () => {
    if (sent === warmup) {
      cpuStart = cpuSeconds();
      wallStart = nowUs();
    }
    const data = { seq: sent };
    sent++;
    sentAt = nowUs();
    a.publish(ping, data);
  };

  await withTimeout(Promise.all([
    b.subscribe(ping, (data) => b.publish(pong, data)),
    a.subscribe(pong, (data) => {
      const now = nowUs();
      if (!data || data.seq !== sent - 1) {
        process.stderr.write(`peer-bench: pong ${data && data.seq} while waiting for ${sent - 1}\n`);
        return;
      }
      if (sent > warmup) latencies.push(now - sentAt);
      if (sent < total) send();
      else done({ cpu: cpuSeconds(), wall: now });
    }),
  ]), 20000, 'subscribe');
  // Let the long polls settle (ours waits for them to be in flight).
  await sleep(200);
  await checkTransport([a, b]);

  send();
  const end = await withTimeout(finished, 60000 + rounds * 50, `ping-pong (stuck after ${sent} round trips)`);

  latencies.sort((p, q) => p - q);
  const n = latencies.length;
  report.p50_us = percentile(latencies, 50);
  report.p90_us = percentile(latencies, 90);
  report.p99_us = percentile(latencies, 99);
  report.max_us = n ? latencies[n - 1] : 0;
  report.mean_us = round3(n ? latencies.reduce((s, v) => s + v, 0) / n : 0);
  report.wall_s = round3((end.wall - wallStart) / 1e6);
  report.cpu_s = round3(end.cpu - cpuStart);
  report.cpu_us_per_rt = round3(((end.cpu - cpuStart) * 1e6) / Math.max(rounds, 1));
  report.errors = 0;
  reportProcess();
  if (opts.cdf)
    fs.writeFileSync(opts.cdf, latencies.join('\n') + '\n');
}

async function many(newClient) {
  const prefix = `/many/${tag()}`;
  const received = new Array(nclients).fill(0);
  let receivedTotal = 0;
  let allReceived;
  const gotAll = new Promise((resolve) => { allReceived = resolve; });

  report.clients = nclients;
  const publisher = await newClient();
  // A subscription makes Faye's client handshake and connect.
  await publisher.subscribe(`${prefix}/publisher`, () => {});
  await sleep(200);
  if (global.gc) global.gc();
  const rss0 = statusKib('VmRSS');
  const cpu0 = cpuSeconds();

  const t0 = nowUs();
  const clients = [];
  const subscribed = [];
  for (let i = 0; i < nclients; i++) {
    subscribed.push((async () => {
      const client = await newClient();
      clients.push(client);
      await client.subscribe(`${prefix}/${i}`, () => {
        if (received[i]++ === 0 && ++receivedTotal === nclients) allReceived();
      });
    })());
  }
  await withTimeout(Promise.all(subscribed), 30000 + nclients * 50, 'subscribe all');
  const tConnected = nowUs();
  const cpu1 = cpuSeconds();
  // Ours measures once every long poll is in flight: give the peers the
  // same moment (their first /meta/connect replies come back at once).
  await sleep(200);
  const rss1 = statusKib('VmRSS');
  await checkTransport(clients);

  report.connect_all_ms = round3((tConnected - t0) / 1e3);
  report.connect_cpu_s = round3(cpu1 - cpu0);
  report.subscribed = nclients;
  report.rss_before_kib = rss0;
  report.rss_after_kib = rss1;
  report.rss_per_client_kib = round3((rss1 - rss0) / nclients);

  const tPublished = nowUs();
  for (let i = 0; i < nclients; i++)
    publisher.publish(`${prefix}/${i}`, { seq: i });
  let error = null;
  try {
    await withTimeout(gotAll, 30000 + nclients * 20, 'delivery');
  } catch (e) {
    error = `${e.message}: ${receivedTotal} of ${nclients} received`;
  }
  report.deliver_all_ms = round3((nowUs() - tPublished) / 1e3);
  await sleep(50);
  report.received = receivedTotal;
  report.received_twice = received.filter((c) => c > 1).length;
  report.errors = 0;
  reportProcess();
  if (error) throw new Error(error);
}

async function idle(newClient) {
  const client = await newClient();
  await withTimeout(client.subscribe(`/idle/${tag()}`, () => {}), 20000, 'subscribe');
  await sleep(500);
  await checkTransport([client]);

  // The CPU clock is read last before the idle period and first after it,
  // so that reading /proc costs nothing here; the timer that ends the idle
  // period is one wake-up of ours, not counted (bayeux-bench does the same).
  // Wake-ups are the voluntary context switches of the whole process
  // (getrusage, threads that ended included), as bayeux-bench counts them.
  const vcs0 = process.resourceUsage().voluntaryContextSwitches;
  const main0 = statusKib('voluntary_ctxt_switches');
  const t0 = nowUs();
  const cpu0 = cpuSeconds();
  await sleep(idleS * 1000);
  const cpu1 = cpuSeconds();
  const t1 = nowUs();
  const main1 = Math.max(statusKib('voluntary_ctxt_switches') - 1, main0);
  const vcs1 = Math.max(process.resourceUsage().voluntaryContextSwitches - 1, vcs0);
  const minutes = (t1 - t0) / 60e6;

  report.idle_s = round3((t1 - t0) / 1e6);
  report.cpu_ms = round3((cpu1 - cpu0) * 1e3);
  report.cpu_ms_per_min = round3(((cpu1 - cpu0) * 1e3) / minutes);
  report.wakeups = vcs1 - vcs0;
  report.wakeups_per_min = round3((vcs1 - vcs0) / minutes);
  report.main_thread_wakeups = main1 - main0;
  report.errors = 0;
  reportProcess();
}

async function fanoutSubscribe(newClient) {
  if (!opts.channel) throw new Error('--channel is required');
  const n = Math.max(1, Number(opts.subscribers));
  let delivered = 0;
  let outOfOrder = 0;
  let latMax = 0;
  let latSum = 0;
  let latN = 0;

  report.scenario = 'fanout-subscriber';
  report.subscribers = n;
  const clients = [];
  for (let i = 0; i < n; i++)
    clients.push(await newClient());
  await withTimeout(Promise.all(clients.map((client) => {
    let last = -1;
    return client.subscribe(opts.channel, (data) => {
      const now = nowUs();
      delivered++;
      const seq = data && typeof data.seq === 'number' ? data.seq : -1;
      if (seq <= last) outOfOrder++;
      last = seq;
      if (data && data.t > 0) {
        const latency = now - data.t;
        if (latency > latMax) latMax = latency;
        latSum += latency;
        latN++;
      }
    });
  })), 30000, 'subscribe');
  await sleep(200);
  await checkTransport(clients);

  process.stdout.write(`READY ${process.pid} ${report.client} ${report.transport_used} ${n}\n`);
  await new Promise((resolve, reject) => {
    let input = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk) => {
      input += chunk;
      let nl;
      while ((nl = input.indexOf('\n')) >= 0) {
        const line = input.slice(0, nl).trim();
        input = input.slice(nl + 1);
        if (line === 'COUNT') {
          // CPU: process.cpuUsage() is getrusage(RUSAGE_SELF), as ours.
          const { user, system } = process.cpuUsage();
          process.stdout.write(`COUNT ${delivered} ${nowUs()} ${user + system} ${latMax} ${latSum} ${latN} -1\n`);
          latMax = latSum = latN = 0;
        } else if (line === 'QUIT') {
          resolve();
        }
      }
    });
    process.stdin.on('end', () => reject(new Error('the driver went away')));
  });
  report.delivered = delivered;
  report.out_of_order = outOfOrder;
  report.errors = 0;
  reportProcess();
}

async function main() {
  if (!CLIENT_NAMES[opts.client]) throw new Error('--client must be cometd or faye');
  if (!opts.url) throw new Error('--url is required');
  if (!['long-polling', 'websocket'].includes(opts.transport))
    throw new Error('--transport must be long-polling or websocket');
  const scenarios = { pingpong, many, idle, 'fanout-subscribe': fanoutSubscribe };
  if (!scenarios[opts.scenario]) throw new Error('--scenario must be pingpong, many, idle or fanout-subscribe');
  if (opts.client === 'cometd' && opts.transport === 'websocket') {
    // The CometD server of the suite (cometd-nodejs-server) has no WebSocket.
    report.not_available = 'cometd-nodejs-server has no WebSocket transport';
    process.stdout.write(JSON.stringify(report) + '\n');
    process.exit(77);
  }
  const newClient = opts.client === 'faye' ? fayeFactory() : await cometdFactory();
  await scenarios[opts.scenario](newClient);
}

main().then(() => finish(null), finish);
