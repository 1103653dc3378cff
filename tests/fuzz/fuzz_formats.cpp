// libFuzzer target: every built-in input format's decode on arbitrary bytes. Decoding must never
// crash, hang or leak, and what it accepts must hold the record invariants that the queue and
// PostgreSQL rely on. The first byte picks the format (or sniffing); the rest is the body.
#include <simdjson.h>

#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "ingest/format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  if (size == 0) return 0;
  const auto& formats = ingest::builtin_formats();
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const ingest::Format* format = nullptr;
  switch (data[0] % 4) {
    case 0:
      format = formats.find("json");
      break;
    case 1:
      format = formats.find("ndjson");
      break;
    case 2:
      format = formats.find("logs_envelope");
      break;
    default:
      format = formats.sniff(body, {});
      if (!format) format = formats.find("json");
  }
  ingest::DecodeOptions options;
  options.max_records = 64;
  options.max_depth = 16;
  // Only the JSON record formats know device_id as a required field (/api/log, /api/logs/batch);
  // a sniffed line format (syslog, …) does not take the option.
  options.require_device_id = (data[0] & 0x10) != 0 && data[0] % 4 != 3;
  auto decoded = format->decode(body, options);
  if (!decoded) return 0;
  check(decoded->records.size() <= options.max_records);
  check(decoded->problems.size() <= ingest::kMaxProblemDetails);
  check(decoded->problems.size() <= decoded->problem_count);
  check((decoded->problem_count == 0) == (decoded->rejected_items == 0));
  simdjson::dom::parser parser;
  for (const auto& record : decoded->records) {
    check(!record.message.empty());
    check(!options.require_device_id || !record.device_id.empty());
    simdjson::dom::element attrs;
    check(parser.parse(record.attrs_json).get(attrs) == simdjson::SUCCESS && attrs.is_object());
  }
  auto all = ingest::all_or_nothing(std::move(decoded).value());
  return 0;
}
