// JSON input formats → canonical records. Parsing uses simdjson; every failure is a value:
//   Errc::malformed      not JSON / invalid UTF-8 / too deep           → HTTP 400
//   Errc::invalid_field  a record is missing a field or has a wrong type → HTTP 422, with one
//                        ErrorDetail per problem naming the record index and the field
//   Errc::too_large      more records than max_records                  → HTTP 413
// A request either yields all its records or none.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/result.hpp"
#include "model/record.hpp"

namespace logpipe::ingest {

struct JsonOptions {
  core::Micros received_at = 0;     // stamped as ts on records that carry none
  bool require_device_id = false;   // seed 000 endpoints require device_id
  std::size_t max_records = 10000;  // per request
  std::size_t max_depth = 64;       // JSON nesting
  std::size_t max_message_bytes = std::size_t{256} << 10;
  std::size_t max_name_bytes = 256;  // device_id, service, app, host
};

// A single JSON object (one record) or a JSON array of objects.
core::Result<std::vector<model::Record>> parse_json(std::string_view body,
                                                    const JsonOptions& options);

// Newline-delimited JSON: one object per line; blank lines are skipped; CRLF accepted. The
// record index in errors is the index among non-blank lines.
core::Result<std::vector<model::Record>> parse_ndjson(std::string_view body,
                                                      const JsonOptions& options);

// Seed 000's batch envelope {"logs":[…]}; the array must hold 1..max_records objects.
core::Result<std::vector<model::Record>> parse_logs_envelope(std::string_view body,
                                                             const JsonOptions& options);

}  // namespace logpipe::ingest
