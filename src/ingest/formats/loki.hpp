// The Loki push format (POST /loki/api/v1/push), as Promtail, Grafana Alloy (loki.write) and
// Loki's own clients send it:
//   JSON      {"streams":[{"stream":{labels…},"values":[["<ns epoch>","line"{,{metadata}}]]}]}
//   protobuf  logproto.PushRequest (grafana/loki pkg/push/push.proto), already snappy-decoded:
//             streams=1: StreamAdapter{labels=1 "{a=\"b\"}", entries=2: EntryAdapter{
//               timestamp=1: Timestamp{seconds=1, nanos=2}, line=2,
//               structuredMetadata=3: LabelPairAdapter{name=1, value=2}}}
// One entry is one record. Stream labels map to fields: service_name/service/job → service,
// app/application → app, host/hostname/instance → host, level/detected_level/severity → level
// (the first of each list that is present wins; the others stay in attrs), every other label
// and the structured metadata → attrs (metadata over labels). The line is the message as it
// is: a JSON or logfmt line is not parsed (Loki does not either; its queries parse at read).
// Entries are items: index = position among all entries of the body, in order.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ingest/format.hpp"

namespace logpipe::ingest {

// Decodes JSON when the body starts with '{' and protobuf otherwise (a PushRequest starts with
// field 1's tag, 0x0A). Registered without media types: both of its encodings share theirs
// with other protocols, so its endpoint picks the decoder.
Format loki_format();

namespace loki {

core::Result<Decoded> decode_json(std::string_view body, const DecodeOptions& options);
core::Result<Decoded> decode_protobuf(std::string_view body, const DecodeOptions& options);

using Labels = std::vector<std::pair<std::string, std::string>>;
// Prometheus label syntax as Loki writes it in StreamAdapter.labels: {a="b", c="d"}; values in
// double quotes with Go escapes (\" \\ \n \t \xHH \uHHHH …), single quotes or backquotes (raw).
core::Result<Labels> parse_labels(std::string_view text);

}  // namespace loki
}  // namespace logpipe::ingest
