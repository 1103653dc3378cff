// The official Elasticsearch JavaScript client against logpipe's Elasticsearch API
// (tests/integration/shippers_test.cpp). Prints one JSON line with what the client saw.
//
//   node es_client.js info <node>                 client.info() (passes the product check)
//   node es_client.js bulk <node> <index> <count> helpers.bulk of <count> generated documents
//   node es_client.js bad <node> <index>          helpers.bulk of documents some of which are bad
// Credentials as an application configures the client: ES_API_KEY (auth.apiKey) or
// ES_USERNAME + ES_PASSWORD (basic auth) in the environment.
'use strict'

const { Client } = require('@elastic/elasticsearch')

const [mode, node, index, countText] = process.argv.slice(2)
const auth = process.env.ES_API_KEY
  ? { apiKey: process.env.ES_API_KEY }
  : process.env.ES_PASSWORD
    ? { username: process.env.ES_USERNAME || 'logpipe', password: process.env.ES_PASSWORD }
    : undefined
const client = new Client({ node, auth, maxRetries: 2, requestTimeout: 30000 })

const levels = ['info', 'warn', 'error', 'debug']

// Document i of the generated set: ECS fields, as an application logging through the client
// would send them; the test checks each one in PostgreSQL.
function document (i) {
  return {
    '@timestamp': new Date(Date.UTC(2024, 0, 15, 12, 0, 0) + i).toISOString(),
    message: `order ${i} placed`,
    log: { level: levels[i % levels.length], logger: 'orders' },
    host: { name: `web-${i % 3}` },
    service: { name: 'checkout', version: '1.4.2' },
    seq: i,
    user: { id: `u${i % 10}` }
  }
}

async function bulk (datasource) {
  const dropped = []
  const stats = await client.helpers.bulk({
    datasource,
    // index and create alternate: both store the document
    onDocument (doc) {
      return doc.seq % 2 === 0 ? { index: { _index: index } } : { create: { _index: index } }
    },
    onDrop (drop) {
      dropped.push({ seq: drop.document.seq, status: drop.status, type: drop.error && drop.error.type })
    },
    flushBytes: 256 * 1024,
    retries: 2,
    refreshOnCompletion: index
  })
  return { total: stats.total, successful: stats.successful, failed: stats.failed, dropped }
}

async function main () {
  if (mode === 'info') {
    const info = await client.info()
    return { name: info.name, cluster_name: info.cluster_name, version: info.version.number, tagline: info.tagline }
  }
  if (mode === 'bulk') {
    const count = Number(countText)
    const docs = []
    for (let i = 0; i < count; ++i) docs.push(document(i))
    return bulk(docs)
  }
  if (mode === 'bad') {
    // seq 1: no message; seq 3: a timestamp that is no date; seq 5: message too long is not
    // tested here (the unit tests do); the others are fine.
    const docs = []
    for (let i = 0; i < 8; ++i) docs.push(document(i))
    delete docs[1].message
    docs[3]['@timestamp'] = 'yesterday at noon'
    return bulk(docs)
  }
  throw new Error(`unknown mode ${mode}`)
}

main().then(
  (result) => { console.log(JSON.stringify(result)) },
  (err) => {
    console.error(err && err.stack ? err.stack : err)
    if (err && err.meta) console.error(JSON.stringify(err.meta.body))
    process.exit(1)
  }
)
