// Inside the JSON family of formats (json, ndjson, the {"logs":[…]} envelope): one JSON value
// → one canonical record, with the field aliases of README "Records and errors".
#pragma once

#include <simdjson.h>

#include "ingest/format.hpp"

namespace logpipe::ingest::json {

// 0001-01-01 and 9999-12-31T23:59:59.999999Z: what PostgreSQL and RFC 3339 both represent.
inline constexpr core::Micros kMinTs = -62'135'596'800'000'000LL;
inline constexpr core::Micros kMaxTs = 253'402'300'799'999'999LL;

// Notes problems into a Decoded, counting all and keeping the first kMaxProblemDetails.
class Problems {
 public:
  explicit Problems(Decoded& decoded) : decoded_(decoded) {}
  void add(long index, std::string_view field, std::string message);
  std::size_t count() const { return decoded_.problem_count; }

 private:
  Decoded& decoded_;
};

// An element known to be an object (array), as a value to iterate: a range-for over
// get_object().value_unsafe() makes GCC 12 warn of a dangling temporary.
inline simdjson::dom::object object_of(simdjson::dom::element e) {
  simdjson::dom::object o = e.get_object().value_unsafe();
  return o;
}
inline simdjson::dom::array array_of(simdjson::dom::element e) {
  simdjson::dom::array a = e.get_array().value_unsafe();
  return a;
}

simdjson::simdjson_result<simdjson::dom::element> parse_text(std::string_view text,
                                                             std::size_t max_depth);
core::Error malformed(simdjson::error_code code, std::size_t max_depth, std::string_view where);
core::Error too_many(std::size_t n, std::size_t max);

// Maps item `index` to `out`; false when the item is rejected (its problems noted).
bool decode_record(simdjson::dom::element e, long index, const DecodeOptions& options,
                   model::Record& out, Problems& problems);

// Every element of `array` as an item; the rejected ones are left out of the records.
core::Result<Decoded> decode_array(simdjson::dom::array array, const DecodeOptions& options);

}  // namespace logpipe::ingest::json
