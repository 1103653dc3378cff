// The live tail under load, as clients see it (bench/tail drives it; only `ws` and Node built-ins).
// Three roles, each its own process so a busy one does not delay another's clock:
//
//   node tail_bench.js subscribers <tail base url> <loadtest run id> <devices>
//     The load subscribers, in classes with the filters a fleet's dashboards use, on the
//     loadtest's records (logpipe loadtest: device ids lt-<run>-dNNN, six services, mostly INFO):
//     72 follow one device each, 10 one device's WARN and above, 2 every WARN and above (~30 % of
//     the load each: the hub renders and sends real volume), 3 one service's ERRORs, 5 a text
//     (q=gateway-N, ~1 % each), 3 a service in one region (attrs.region). Messages are counted,
//     not parsed (a record is one JSON object; a notice is {"dropped":N}), so Node keeps up.
//   node tail_bench.js probe <ingest base url> <tail base url> <markers/s> <seconds>
//     5 more subscribers (3 × service=<tag>, 1 × q=<tag>, 1 × device_id=<tag>-dev); on SIGUSR2 it
//     POSTs markers to /api/v1/ingest, each its own request, for <seconds>, and measures for each
//     marker and probe subscriber the time from the 202 to its arrival (0 when it came first).
//     It waits up to 10 s for the last ones; any still missing is reported lost.
//   node tail_bench.js stall <tail base url>
//     One subscriber of everything that stops reading as soon as it is open (the socket paused:
//     it answers no ping, reads nothing). On SIGTERM it reads again for 3 s and reports what the
//     server had left for it: records, {"dropped":N} notices, whether it was closed.
//
// Each prints {"ready":true} once its subscribers are open, and one JSON report line at the end
// (subscribers and stall: on SIGTERM; probe: when done). Event-loop delay p99 is in each report:
// a high one means the client, not the server, added latency.
'use strict';
const http = require('http');
const { monitorEventLoopDelay } = require('perf_hooks');
const WebSocket = require('ws');

const [role, ...args] = process.argv.slice(2);
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const now = () => process.hrtime.bigint();
const ms = (ns) => Number(ns) / 1e6;
const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const loopP99 = () => Math.round(loopDelay.percentile(99) / 1e4) / 100;

function connect(base, query) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/logs?${query}`,
      { perMessageDeflate: false, handshakeTimeout: 10000 });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function droppedCount(data) {
  // A record starts {"device_id":…; only a notice is this short and starts so.
  if (data.length > 40 || data.toString('latin1', 0, 11) !== '{"dropped":') return 0;
  return JSON.parse(data.toString()).dropped;
}

async function subscribers(tailBase, run, devicesText) {
  const devices = Number(devicesText);
  const device = (i) => `lt-${run}-d${String(i % devices).padStart(3, '0')}`;
  const classes = [
    { name: 'device', n: 72, query: (i) => `device_id=${device(i)}` },
    { name: 'device+min_level=WARN', n: 10, query: (i) => `device_id=${device(100 + i)}&min_level=WARN` },
    { name: 'min_level=WARN (all)', n: 2, query: () => 'min_level=WARN' },
    { name: 'service+level=ERROR', n: 3, query: (i) => `service=${['api', 'auth', 'billing'][i]}&level=ERROR` },
    { name: 'q=gateway-N', n: 5, query: (i) => `q=gateway-${i}` },
    { name: 'service+attrs.region', n: 3, query: (i) => `service=${['sensor', 'gateway', 'updater'][i]}&attrs.region=eu-west-1` },
  ];
  let first = 0n;
  let last = 0n;
  const stats = [];
  for (const c of classes) {
    const s = { class: c.name, subscribers: c.n, messages: 0, bytes: 0, dropped: 0, notices: 0, closed: 0 };
    stats.push(s);
    for (let i = 0; i < c.n; i++) {
      const ws = await connect(tailBase, c.query(i));
      ws.on('message', (data) => {
        last = now();
        if (first === 0n) first = last;
        const dropped = droppedCount(data);
        if (dropped) {
          s.dropped += dropped;
          s.notices += 1;
        } else {
          s.messages += 1;
          s.bytes += data.length;
        }
      });
      ws.on('close', () => { s.closed += 1; });
      ws.on('error', () => {});
    }
  }
  print({ ready: true });
  process.on('SIGTERM', () => {
    const seconds = first ? ms(last - first) / 1000 : 0;
    for (const s of stats) s.messages_per_second = seconds ? Math.round(s.messages / seconds) : 0;
    print({ role: 'subscribers', seconds, loop_delay_p99_ms: loopP99(), classes: stats });
    process.exit(0);
  });
}

async function probe(ingestBase, tailBase, rateText, secondsText) {
  const rate = Number(rateText);
  const seconds = Number(secondsText);
  const tag = `probe${process.pid}x${Date.now() % 100000}`;
  const queries = [`service=${tag}`, `service=${tag}`, `service=${tag}`, `q=${tag}`, `device_id=${tag}-dev`];
  const markers = [];  // { accepted, arrivals[] (hrtime per subscriber), status }
  const sockets = [];
  for (const [k, q] of queries.entries()) {
    const ws = await connect(tailBase, q);
    ws.on('message', (data) => {
      const at = now();
      if (droppedCount(data)) return;  // counted by the server's metric too
      const m = /marker (\d+)"/.exec(data.toString());
      const marker = m && markers[Number(m[1])];
      if (marker && marker.arrivals[k] === undefined) marker.arrivals[k] = at;
    });
    ws.on('error', () => {});
    sockets.push(ws);
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const post = (i) => {
    const marker = { sent: now(), accepted: undefined, status: 0, arrivals: [] };
    markers[i] = marker;
    const body = JSON.stringify({ service: tag, device_id: `${tag}-dev`, level: 'INFO', message: `${tag} marker ${i}` });
    const req = http.request(`${ingestBase}/api/v1/ingest`, {
      method: 'POST', agent, timeout: 10000, headers: { 'Content-Type': 'application/json' },
    }, (res) => {
      res.resume();
      res.on('end', () => { marker.status = res.statusCode; marker.accepted = now(); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => { marker.status = -1; });
    req.end(body);
  };
  print({ ready: true, tag });
  await new Promise((resolve) => process.once('SIGUSR2', resolve));
  const count = Math.round(rate * seconds);
  const start = now();
  for (let i = 0; i < count; i++) {
    const due = start + BigInt(Math.round((i * 1e9) / rate));
    const wait = ms(due - now());
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    post(i);
  }
  const complete = () => markers.every((m) => m.status !== 0 && (m.status !== 202 || queries.every((_, k) => m.arrivals[k] !== undefined)));
  const deadline = Date.now() + 10000;
  while (!complete() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));

  const latencies = [];
  const acks = [];
  const lost = [];
  let failed = 0;
  for (const [i, m] of markers.entries()) {
    if (m.status !== 202) { failed += 1; continue; }
    acks.push(ms(m.accepted - m.sent));
    queries.forEach((q, k) => {
      if (m.arrivals[k] === undefined) lost.push({ marker: i, subscriber: q });
      else latencies.push(Math.max(0, ms(m.arrivals[k] - m.accepted)));
    });
  }
  const pick = (v, q) => (v.length ? v[Math.min(v.length - 1, Math.floor(q * v.length))] : null);
  latencies.sort((a, b) => a - b);
  acks.sort((a, b) => a - b);
  const r3 = (x) => (x === null ? null : Math.round(x * 1000) / 1000);
  print({
    role: 'probe', markers: count, accepted: count - failed, failed, subscribers: queries.length,
    arrivals: latencies.length, lost: lost.length, lost_first: lost.slice(0, 10),
    p50_ms: r3(pick(latencies, 0.5)), p99_ms: r3(pick(latencies, 0.99)), max_ms: r3(latencies[latencies.length - 1] ?? null),
    ack_p99_ms: r3(pick(acks, 0.99)), loop_delay_p99_ms: loopP99(),
  });
  for (const ws of sockets) ws.terminate();
  agent.destroy();
  process.exit(0);
}

async function stall(tailBase) {
  const ws = await connect(tailBase, '');
  ws.pause();
  // A paused socket is no active handle: this keeps Node alive until SIGTERM.
  const alive = setInterval(() => {}, 1000);
  const report = { role: 'stall', open_at_end: ws.readyState === WebSocket.OPEN, records_after: 0, notices: 0, dropped: 0, closed: false, close_code: null };
  ws.on('message', (data) => {
    const dropped = droppedCount(data);
    if (dropped) { report.notices += 1; report.dropped += dropped; } else report.records_after += 1;
  });
  ws.on('close', (code) => { report.closed = true; report.close_code = code; });
  ws.on('error', () => {});
  print({ ready: true });
  process.on('SIGTERM', () => {
    report.open_at_end = ws.readyState === WebSocket.OPEN;
    ws.resume();
    setTimeout(() => { clearInterval(alive); print(report); process.exit(0); }, 3000);
  });
}

const roles = { subscribers, probe, stall };
if (!roles[role]) {
  console.error('usage: node tail_bench.js subscribers|probe|stall ARGS (see the top of this file)');
  process.exit(2);
}
roles[role](...args).catch((e) => { console.error(`tail_bench ${role}: ${e.message}`); process.exit(1); });
