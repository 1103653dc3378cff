// The OpenTelemetry JS logs SDK with its OTLP/HTTP exporter, as an application would set it up:
//   node otel_logs.js <url of /v1/logs> <json|proto> <count> <run tag>
// Emits <count> log records with attributes, severities and a span context (trace and span
// ids), flushes, and exits 0 only if every export succeeded.
'use strict';
const { context, trace, TraceFlags } = require('@opentelemetry/api');
const { SeverityNumber } = require('@opentelemetry/api-logs');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { LoggerProvider, BatchLogRecordProcessor } = require('@opentelemetry/sdk-logs');

const [url, protocol, countArg, tag] = process.argv.slice(2);
const count = Number(countArg);
const { OTLPLogExporter } =
  protocol === 'proto' ? require('@opentelemetry/exporter-logs-otlp-proto')
                       : require('@opentelemetry/exporter-logs-otlp-http');

const exporter = new OTLPLogExporter({ url, timeoutMillis: 10000 });
const results = [];
const exportOriginal = exporter.export.bind(exporter);
exporter.export = (logs, done) =>
  exportOriginal(logs, (result) => {
    results.push(result);
    done(result);
  });

const provider = new LoggerProvider({
  resource: resourceFromAttributes({
    'service.name': 'checkout',
    'service.namespace': 'shop',
    'host.name': 'web-1',
    'device.id': `device-${tag}`,
    'deployment.environment': 'test',
  }),
  processors: [new BatchLogRecordProcessor({ exporter, maxExportBatchSize: 512 })],
});
const logger = provider.getLogger('checkout-logger', '1.2.3');

const severities = [
  [SeverityNumber.DEBUG, 'DEBUG'],
  [SeverityNumber.INFO, 'INFO'],
  [SeverityNumber.WARN, 'WARN'],
  [SeverityNumber.ERROR, 'ERROR'],
  [SeverityNumber.FATAL, 'FATAL'],
];
const traceId = '5b8efff798038103d269b633813fc60c';
for (let i = 0; i < count; i++) {
  const [severityNumber, severityText] = severities[i % severities.length];
  const spanContext = {
    traceId,
    spanId: (0x1000000000000000n + BigInt(i)).toString(16),
    traceFlags: TraceFlags.SAMPLED,
  };
  logger.emit({
    severityNumber,
    severityText,
    body: `order ${i} of run ${tag} processed`,
    attributes: { 'order.id': i, 'run': tag, 'amount': 12.5, 'paid': i % 2 === 0,
                  'items': ['a', 'b'] },
    context: trace.setSpanContext(context.active(), spanContext),
  });
}

provider.forceFlush()
  .then(() => provider.shutdown())
  .then(() => {
    const failed = results.filter((r) => r.code !== 0);
    if (results.length === 0 || failed.length > 0) {
      console.error('export failed:', failed.map((r) => String(r.error)).join('; ') || 'no export');
      process.exit(1);
    }
    console.log(`exported ${count} records in ${results.length} requests`);
  })
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
