// Splunk HTTP Event Collector bodies (https://docs.splunk.com/Documentation/Splunk/9.1.0/Data/
// FormateventsforHTTPEventCollector), as Vector, Fluent Bit, the OpenTelemetry Collector and the
// Splunk logging libraries send them:
//
//   "splunk_hec"      /services/collector/event: JSON objects one after another (newlines,
//                     spaces or nothing between them), each {"event": <string or object>,
//                     "time": <epoch seconds, fraction allowed>, "host", "source",
//                     "sourcetype", "index", "fields": {…}}
//   "splunk_hec_raw"  /services/collector/raw: one log per line
//
// Mapping: event → message (an object event is mapped like an Elasticsearch document: its
// message/msg/log, level, @timestamp, host.name… fields; without a message its JSON text is the
// message), time → ts, host → host, source → service, index → app, sourcetype and fields → attrs.
// The query parameters host, source, sourcetype and index are the defaults of every event.
//
// A batch is taken whole or not at all: the first bad event refuses it with HEC's code and its
// number (Splunk stores the events before it; a sender that retries would store them twice).
#pragma once

#include <string>

#include "ingest/format.hpp"

namespace logpipe::ingest {

// Splunk's HEC status codes (the "code" of its answers).
enum class HecCode : int {
  success = 0,
  no_data = 5,
  invalid_data_format = 6,
  event_required = 12,
  event_blank = 13,
  indexed_fields = 15,
};

// The metadata a request gives in its query string.
struct HecDefaults {
  std::string host, source, sourcetype, index;
};

struct HecProblem {
  HecCode code = HecCode::invalid_data_format;
  std::size_t event = 0;  // 0-based number of the event (raw: the line's item) it concerns
  std::string reason;
};

struct HecBatch {
  std::vector<model::Record> records;
  std::optional<HecProblem> problem;  // set: nothing is taken
};

// Errc::too_large past max_records; everything else is a HecProblem.
core::Result<HecBatch> decode_hec_events(std::string_view body, const HecDefaults& defaults,
                                         const DecodeOptions& options);
core::Result<HecBatch> decode_hec_raw(std::string_view body, const HecDefaults& defaults,
                                      const DecodeOptions& options);

// The generic decodes (format registry, fuzzing).
core::Result<Decoded> decode_splunk_hec(std::string_view body, const DecodeOptions& options);
core::Result<Decoded> decode_splunk_hec_raw(std::string_view body, const DecodeOptions& options);

// Chosen by name only (the HEC endpoints).
Format splunk_hec_format();
Format splunk_hec_raw_format();

}  // namespace logpipe::ingest
