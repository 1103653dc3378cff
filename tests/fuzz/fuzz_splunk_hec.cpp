// libFuzzer target: the Splunk HEC decoders (the event endpoint's concatenated objects, the raw
// endpoint's lines) on arbitrary bytes. They must never crash, hang or leak; a batch is taken
// whole or refused with a problem naming an event inside it, and what is taken holds the record
// invariants the queue and PostgreSQL rely on.
#include <simdjson.h>

#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "ingest/formats/splunk_hec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  ingest::DecodeOptions options;
  options.max_records = 64;
  options.max_depth = 16;
  options.max_message_bytes = 1024;
  options.max_name_bytes = 32;
  ingest::HecDefaults defaults;
  if (data[0] & 2) defaults = {"host", "source", "type", "index"};
  auto batch = (data[0] & 1) ? ingest::decode_hec_raw(body, defaults, options)
                             : ingest::decode_hec_events(body, defaults, options);
  if (!batch) return 0;
  if (batch->problem) {
    check(!batch->problem->reason.empty());
    check(batch->problem->event <= options.max_records);
    return 0;
  }
  check(!batch->records.empty() && batch->records.size() <= options.max_records);
  simdjson::dom::parser parser;
  for (const auto& record : batch->records) {
    check(!record.message.empty() && record.message.size() <= options.max_message_bytes);
    check(record.host.size() <= options.max_name_bytes);
    check(record.service.size() <= options.max_name_bytes);
    check(record.app.size() <= options.max_name_bytes);
    simdjson::dom::element attrs;
    check(parser.parse(record.attrs_json).get(attrs) == simdjson::SUCCESS && attrs.is_object());
  }
  return 0;
}
