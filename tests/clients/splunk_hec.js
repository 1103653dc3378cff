// A Splunk HEC batch posted with Node's fetch, as HEC senders do: concatenated event objects,
// "Authorization: Splunk <token>", optionally gzipped (tests/integration/shippers_test.cpp).
//
//   node splunk_hec.js <url> <count> [gzip]
// Prints one JSON line: the HTTP status and the answer's body.
'use strict'

const zlib = require('zlib')

const [url, countText, encoding] = process.argv.slice(2)
const count = Number(countText)

async function main () {
  let body = ''
  for (let i = 0; i < count; ++i) {
    const event = i % 2 === 0
      ? `GET /cart/${i} 200`
      : { message: `payment failed ${i}`, level: 'error', order: i }
    // No separator between objects for half of them: HEC allows "}{".
    body += JSON.stringify({
      time: 1705320000 + i + 0.25,
      host: `pos-${i % 2}`,
      source: 'till',
      sourcetype: 'pos:json',
      index: 'retail',
      event,
      fields: { store: 'north', lane: i % 4 }
    }) + (i % 2 === 0 ? '\n' : '')
  }
  const headers = { Authorization: 'Splunk 00000000-0000-0000-0000-000000000000' }
  if (encoding === 'gzip') {
    body = zlib.gzipSync(body)
    headers['Content-Encoding'] = 'gzip'
  }
  const response = await fetch(url, { method: 'POST', headers, body })
  return { status: response.status, body: await response.json() }
}

main().then(
  (result) => { console.log(JSON.stringify(result)) },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exit(1) }
)
