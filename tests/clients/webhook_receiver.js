// A webhook receiver as an operator would write one with Node's own http and crypto modules:
// it checks logpipe's signature independently of logpipe's code, answers with planned statuses,
// and prints what it received.
//   node webhook_receiver.js <port> <secret> <statuses> <requests> [slack]
// <statuses>: the answer to each request in turn, e.g. 500,500,200 (the last one repeats).
// After <requests> requests it prints a JSON array of them ({at (ms since the epoch), method,
// url, headers, body, verified, answered}) and exits 0; after 30 s without them, exit 2.
// With `slack` a body that is not a Slack message (text, attachments with colour) gets 400,
// as Slack answers invalid_payload.
'use strict';
const crypto = require('crypto');
const http = require('http');

const [port, secret, statusesArg, requestsArg, mode] = process.argv.slice(2);
const statuses = statusesArg.split(',').map(Number);
const expected = Number(requestsArg);
const received = [];

// How a receiver verifies X-Logpipe-Signature (README "Alert notifications").
function verify(headers, body) {
  const timestamp = headers['x-logpipe-timestamp'];
  const signature = headers['x-logpipe-signature'] || '';
  if (!timestamp || !signature.startsWith('sha256=')) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;  // a replay
  const expected = crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest();
  const given = Buffer.from(signature.slice('sha256='.length), 'hex');
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

function slackProblem(body) {
  let message;
  try {
    message = JSON.parse(body);
  } catch (err) {
    return 'invalid_payload: not JSON';
  }
  if (typeof message.text !== 'string' || message.text === '') return 'invalid_payload: no text';
  const attachments = message.attachments;
  if (!Array.isArray(attachments) || attachments.length === 0) return 'invalid_payload: attachments';
  for (const a of attachments) {
    if (typeof a.color !== 'string' || !/^#[0-9a-f]{6}$/i.test(a.color)) return 'invalid_attachments: color';
    if (typeof a.fallback !== 'string') return 'invalid_attachments: fallback';
    for (const f of a.fields || []) {
      if (typeof f.title !== 'string' || typeof f.value !== 'string') return 'invalid_attachments: fields';
    }
  }
  return null;
}

function finish(code) {
  process.stdout.write(JSON.stringify(received) + '\n', () => process.exit(code));
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const problem = mode === 'slack' ? slackProblem(body) : null;
    const status = problem ? 400 : statuses[Math.min(received.length, statuses.length - 1)];
    received.push({
      at: Date.now(), method: req.method, url: req.url, headers: req.headers, body,
      verified: verify(req.headers, body), answered: status,
    });
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(problem || (status < 300 ? 'ok' : 'try later'), () => {
      if (received.length >= expected) {
        server.close();
        setTimeout(() => finish(0), 50);
      }
    });
  });
});
server.listen(Number(port), '127.0.0.1');
setTimeout(() => finish(2), 30000).unref();
