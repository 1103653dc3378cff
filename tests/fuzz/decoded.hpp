// The invariants of a format's Decoded that the queue and PostgreSQL rely on, for the fuzz
// targets of the protocol formats (Loki, OTLP).
#pragma once

#include <simdjson.h>

#include "check.hpp"
#include "ingest/format.hpp"

namespace logpipe::fuzz {

inline bool utf8(std::string_view s) {
  return simdjson::validate_utf8(s.data(), s.size());
}

inline void check_decoded(const ingest::Decoded& decoded, const ingest::DecodeOptions& options) {
  check(decoded.records.size() <= options.max_records);
  check(decoded.problems.size() <= ingest::kMaxProblemDetails);
  check(decoded.problems.size() <= decoded.problem_count);
  check((decoded.problem_count == 0) == (decoded.rejected_items == 0));
  simdjson::dom::parser parser;
  for (const auto& r : decoded.records) {
    check(r.message.size() <= options.max_message_bytes && utf8(r.message));
    for (const std::string* name : {&r.service, &r.app, &r.host, &r.device_id})
      check(name->size() <= options.max_name_bytes && utf8(*name));
    simdjson::dom::element attrs;
    check(parser.parse(r.attrs_json).get(attrs) == simdjson::SUCCESS && attrs.is_object());
  }
}

}  // namespace logpipe::fuzz
