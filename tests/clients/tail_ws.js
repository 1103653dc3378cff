// A live tail client over a WebSocket with the `ws` package, as a dashboard would run it.
//   node tail_ws.js <ws url> <api key or -> <until message> [options]
// A key given as protocol:<key> is offered as a browser must, without headers: the subprotocols
// logpipe and logpipe.key.<key>; the server must then select logpipe.
// Prints every message it receives, one per line, and exits 0 once a record whose message is
// <until message> arrived (1 on an error or an early close). Options:
//   --ready FILE        written once the connection is open
//   --on TEXT=JSON      when a record with message TEXT arrives, send each message of the JSON
//                       array (e.g. filter changes)
//   --ack FILE          written when the server answers {"filter":"ok"}
//   --pause-until FILE  stop reading the socket once open (ws.pause(): nothing is read from TCP,
//                       so the server's queue for us fills) until FILE exists
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

const [url, key, until, ...rest] = process.argv.slice(2);
const options = { on: {} };
for (let i = 0; i < rest.length; i += 2) {
  const name = rest[i].replace(/^--/, '');
  const value = rest[i + 1];
  if (name === 'on') {
    const eq = value.indexOf('=');
    options.on[value.slice(0, eq)] = JSON.parse(value.slice(eq + 1));
  } else {
    options[name] = value;
  }
}

const inProtocol = key.startsWith('protocol:');
const ws = inProtocol
  ? new WebSocket(url, ['logpipe', `logpipe.key.${key.slice('protocol:'.length)}`])
  : new WebSocket(url, { headers: key === '-' ? {} : { 'X-API-Key': key } });
const out = [];
let done = false;

function finish(code) {
  if (done) return;
  done = true;
  process.stdout.write(out.join('\n') + '\n', () => process.exit(code));
}

ws.on('open', () => {
  // (ws itself fails the handshake when none of the offered subprotocols is selected.)
  if (inProtocol && ws.protocol !== 'logpipe') {
    console.error(`the server selected the subprotocol "${ws.protocol}"`);
    return finish(1);
  }
  if (options.ready) fs.writeFileSync(options.ready, 'open');
  if (options['pause-until']) {
    ws.pause();
    const timer = setInterval(() => {
      if (!fs.existsSync(options['pause-until'])) return;
      clearInterval(timer);
      ws.resume();
    }, 50);
  }
});

ws.on('message', (data) => {
  const text = data.toString();
  out.push(text);
  let message;
  try {
    message = JSON.parse(text);
  } catch (e) {
    console.error(`not JSON: ${text}`);
    return finish(1);
  }
  if (message.filter === 'ok' && options.ack) fs.writeFileSync(options.ack, 'ok');
  if (typeof message.message !== 'string') return;
  for (const reply of options.on[message.message] || []) ws.send(JSON.stringify(reply));
  if (message.message === until) {
    ws.close(1000);
    finish(0);
  }
});

ws.on('unexpected-response', (req, res) => {
  console.error(`upgrade refused: ${res.statusCode}`);
  finish(1);
});
ws.on('error', (err) => {
  console.error(`error: ${err.message}`);
  finish(1);
});
ws.on('close', (code) => {
  if (!done) console.error(`closed by the server: ${code}`);
  finish(1);
});
