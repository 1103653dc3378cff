// Live tail latency, as a client sees it: one WebSocket subscriber (`ws`) on <tail url>, records
// POSTed one at a time to <ingest url> (another instance, or the same); for each, the time from
// the 202 to the record's arrival over the socket. Prints {"count","p50_ms","p99_ms","max_ms"}.
//   node tail_latency.js <ingest base url> <tail base url> <count> [api key]
'use strict';
const http = require('http');
const WebSocket = require('ws');

const [ingestBase, tailBase, countText, key] = process.argv.slice(2);
const count = Number(countText);
const headers = key ? { 'X-API-Key': key } : {};
const tag = `lat${process.pid}`;

function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${ingestBase}/api/v1/ingest`, {
      method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' },
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const ws = new WebSocket(`${tailBase.replace(/^http/, 'ws')}/ws/logs?service=${tag}`, { headers });
const waiting = new Map();  // message → resolve
ws.on('message', (data) => {
  const m = JSON.parse(data.toString());
  const done = waiting.get(m.message);
  if (done) done(process.hrtime.bigint());
});
ws.on('error', (e) => { console.error(e.message); process.exit(1); });
ws.on('open', async () => {
  await new Promise((r) => setTimeout(r, 300));  // the hub starts reading
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const message = `m${i}`;
    const arrived = new Promise((resolve) => waiting.set(message, resolve));
    await post(JSON.stringify({ service: tag, message }));
    const accepted = process.hrtime.bigint();
    const at = await arrived;
    waiting.delete(message);
    latencies.push(Math.max(0, Number(at - accepted)) / 1e6);
  }
  latencies.sort((a, b) => a - b);
  const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  console.log(JSON.stringify({ count, p50_ms: pick(0.5), p99_ms: pick(0.99), max_ms: latencies[latencies.length - 1] }));
  ws.close();
  process.exit(0);
});
