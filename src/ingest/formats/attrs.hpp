// Inside the protocol formats (Loki, OTLP): the attrs object of a record built from members whose
// values are JSON text already, where a later member replaces an earlier one of the same key
// (log attributes over resource attributes, structured metadata over stream labels), so the
// object never holds a key twice.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logpipe::ingest::attrs {

struct Member {
  std::string key;
  std::string json;  // the value as JSON text
};

// `members` as a compact JSON object, the last of equal keys winning; "{}" when empty.
std::string object(const std::vector<Member>& members);

// Whether `text` is valid UTF-8 (PostgreSQL's text refuses anything else).
bool valid_utf8(std::string_view text);

}  // namespace logpipe::ingest::attrs
