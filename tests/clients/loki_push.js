// A Loki push as Promtail and Grafana Alloy send it: a logproto.PushRequest (the shape of
// grafana/loki pkg/push/push.proto) encoded with protobufjs, compressed as one snappy block
// with snappyjs, POSTed as application/x-protobuf without Content-Encoding.
//   node loki_push.js <url of /loki/api/v1/push> <count> <run tag>
// Prints the HTTP status and body; exits 0 on 204. LOKI_BASIC_AUTH (user:password) and
// LOKI_ORG_ID in the environment become the Authorization and X-Scope-OrgID headers.
'use strict';
const protobuf = require('protobufjs');
const snappy = require('snappyjs');

const proto = `
syntax = "proto3";
package logproto;
import "google/protobuf/timestamp.proto";
message PushRequest { repeated StreamAdapter streams = 1; }
message StreamAdapter {
  string labels = 1;
  repeated EntryAdapter entries = 2;
  uint64 hash = 3;
}
message LabelPairAdapter { string name = 1; string value = 2; }
message EntryAdapter {
  google.protobuf.Timestamp timestamp = 1;
  string line = 2;
  repeated LabelPairAdapter structuredMetadata = 3;
}`;

async function main() {
  const [url, countArg, tag] = process.argv.slice(2);
  const count = Number(countArg);
  // protobufjs bundles google/protobuf/timestamp.proto; parse() alone does not resolve imports.
  const root = protobuf.Root.fromJSON(protobuf.common.get('google/protobuf/timestamp.proto'));
  protobuf.parse(proto, root);
  const PushRequest = root.lookupType('logproto.PushRequest');
  const base = Date.UTC(2024, 10, 14, 10, 30, 0);  // 2024-11-14T10:30:00Z
  const streams = [
    { labels: `{job="varlogs", service_name="billing", host="node-7", level="warn", env="prod", run="${tag}"}`, level: 'warn' },
    { labels: `{app="api", instance="10.0.0.5:9100", detected_level="error", path="C:\\\\logs\\\\app \\"x\\"", run="${tag}"}`, level: 'error' },
  ].map((s, k) => ({
    labels: s.labels,
    entries: Array.from({ length: count / 2 }, (_, i) => ({
      timestamp: { seconds: Math.floor(base / 1000) + i, nanos: 123456789 },
      line: `stream ${k} line ${i} {"json":"kept as text"}`,
      structuredMetadata: k === 1 ? [{ name: 'trace_id', value: `trace-${i}` }] : [],
    })),
  }));
  const message = PushRequest.create({ streams });
  const encoded = PushRequest.encode(message).finish();
  const body = snappy.compress(encoded);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-protobuf',
      // Promtail's basic_auth and tenant_id, when the test gives them.
      ...(process.env.LOKI_BASIC_AUTH
        ? { Authorization: 'Basic ' + Buffer.from(process.env.LOKI_BASIC_AUTH).toString('base64') }
        : {}),
      ...(process.env.LOKI_ORG_ID ? { 'X-Scope-OrgID': process.env.LOKI_ORG_ID } : {}),
    },
    body,
  });
  const text = await response.text();
  console.log(response.status, text);
  process.exit(response.status === 204 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
