// pino logging through pino-elasticsearch into logpipe's Elasticsearch API
// (tests/integration/shippers_test.cpp): `count` lines, info and error alternating.
//
//   node pino_elasticsearch.js <node> <index> <count>
// Prints one JSON line: the bulk helper's stats once every line is sent.
'use strict'

const pino = require('pino')
const pinoElastic = require('pino-elasticsearch')

const [node, index, countText] = process.argv.slice(2)
const count = Number(countText)

// The configuration README "Elasticsearch and Splunk HEC" shows for pino-elasticsearch.
const streamToElastic = pinoElastic({
  index,
  node,
  esVersion: 8,
  flushBytes: 1000,
  flushInterval: 200
})

let failed = false
streamToElastic.on('insertError', (error) => {
  failed = true
  console.error('insertError', error.message, JSON.stringify(error.document))
})
streamToElastic.on('error', (error) => {
  console.error('error', error && error.stack ? error.stack : error)
  process.exit(1)
})
streamToElastic.on('insert', (stats) => {
  console.log(JSON.stringify({ total: stats.total, successful: stats.successful, failed: stats.failed }))
  process.exit(failed ? 1 : 0)
})

const logger = pino({ level: 'info' }, streamToElastic)
for (let i = 0; i < count; ++i) {
  if (i % 2 === 0) {
    logger.info({ seq: i, route: '/cart' }, `cart updated ${i}`)
  } else {
    logger.error({ seq: i, err_code: 'E42' }, `payment failed ${i}`)
  }
}
// The bulk helper sends what is left and resolves (the 'insert' event) once its source ends.
streamToElastic.end()
