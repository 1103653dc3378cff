// Records what a client sends: serves one port, writes each request body to
// <dir>/<n>.<content-type subtype> and answers as the protocol expects (OTLP: an empty
// ExportLogsServiceResponse; Loki: 204). Used to make the unit tests' real-client samples:
//   node capture.js <port> <dir>
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const [port, dir] = process.argv.slice(2);
let n = 0;
http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const type = (req.headers['content-type'] || 'none').split(';')[0].split('/').pop();
    fs.writeFileSync(path.join(dir, `${n++}.${type}`), Buffer.concat(chunks));
    if (req.url.startsWith('/loki')) {
      res.writeHead(204).end();
    } else {
      res.writeHead(200, { 'Content-Type': req.headers['content-type'] });
      res.end(type === 'json' ? '{}' : '');
    }
  });
}).listen(Number(port), '127.0.0.1');
