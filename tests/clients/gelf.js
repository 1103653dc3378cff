// GELF as applications send it with gelf-pro (a GELF library for Node): over UDP every message
// zlib-compressed and cut into chunks of 1388 bytes, over TCP one NUL-terminated JSON per message.
// Over UDP it also sends one gzip-compressed datagram, as Docker's gelf log driver does.
//   node gelf.js <udp|tcp> <port> <count> <run tag>
// Sends <count> messages (levels alternate error/info; the first has a 60 KB full_message, so
// over UDP it takes dozens of chunks), one at a time, and exits 0 when every send succeeded.
'use strict';
const crypto = require('crypto');
const dgram = require('dgram');
const zlib = require('zlib');
const gelf = require('gelf-pro');

function send(method, message, extra) {
  return new Promise((resolve, reject) =>
    gelf[method](message, extra, (err, bytes) => (err ? reject(err) : resolve(bytes))));
}

function sendGzipDatagram(port, tag) {
  const json = JSON.stringify({
    version: '1.1', host: 'docker-host', short_message: `gzip ${tag}`, level: 4,
    _container_name: 'web', _run: tag,
  });
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve, reject) =>
    socket.send(zlib.gzipSync(json), port, '127.0.0.1', (err) => {
      socket.close();
      return err ? reject(err) : resolve();
    }));
}

async function main() {
  const [transport, port, countArg, tag] = process.argv.slice(2);
  const count = Number(countArg);
  gelf.setConfig({
    adapterName: transport,
    adapterOptions: { host: '127.0.0.1', port: Number(port), protocol: 'udp4' },
    fields: { service: 'checkout', run: tag },
  });
  let bytes = 0;
  for (let i = 0; i < count; ++i) {
    const extra = { seq: i, request: { path: '/pay', status: i % 2 ? 200 : 502 } };
    if (i === 0) extra.full_message = crypto.randomBytes(30000).toString('hex');
    bytes += await send(i % 2 ? 'info' : 'error', `${transport} message ${i} ${tag}`, extra);
  }
  if (transport === 'udp') await sendGzipDatagram(Number(port), tag);
  // The TCP adapter keeps its connection open until the process ends.
  console.log(JSON.stringify({ sent: count, bytes }));
  process.exit(0);
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
