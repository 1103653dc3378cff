// libFuzzer target: the syslog parser (RFC 5424, RFC 3164 and their variants) on arbitrary
// bytes. It must never crash or hang, and a record it accepts must hold what the queue and
// PostgreSQL rely on: valid UTF-8 text, a JSON object as attrs, names within their limits, a
// timestamp PostgreSQL can store.
#include <simdjson.h>

#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "ingest/formats/syslog.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const int score = ingest::syslog::sniff_line(line);
  check(score >= 0 && score <= 100);
  ingest::DecodeOptions options;
  options.received_at = 1'710'504'000'000'000;  // 2024-03-15
  options.max_name_bytes = 64;
  options.max_message_bytes = 4096;
  model::Record record;
  std::string why;
  if (!ingest::syslog::parse(line, options, record, why)) {
    check(!why.empty());
    return 0;
  }
  check(!record.message.empty() && record.message.size() <= options.max_message_bytes);
  check(record.host.size() <= options.max_name_bytes);
  check(record.service.size() <= options.max_name_bytes);
  check(record.ts >= -62'135'596'800'000'000LL && record.ts <= 253'402'300'799'999'999LL);
  for (const std::string* text : {&record.message, &record.host, &record.service})
    check(simdjson::validate_utf8(text->data(), text->size()));
  simdjson::dom::parser parser;
  simdjson::dom::element attrs;
  check(parser.parse(record.attrs_json).get(attrs) == simdjson::SUCCESS && attrs.is_object());
  return 0;
}
