#include "ingest/formats/ndjson.hpp"

#include <fmt/format.h>

#include "ingest/formats/json_record.hpp"

namespace logpipe::ingest {
namespace {

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// Two lines that are objects, the first one whole: a pretty-printed JSON document starts with a
// line "{" alone, and one object alone is JSON's as much as ours.
int sniff_ndjson(std::string_view head) {
  bool first_seen = false;
  while (!head.empty()) {
    const auto nl = head.find('\n');
    const std::string_view line = trim(head.substr(0, nl));
    head = nl == std::string_view::npos ? std::string_view() : head.substr(nl + 1);
    if (line.empty()) continue;
    if (line.front() != '{') return 0;
    if (first_seen) return 80;
    if (line.size() < 2 || line.back() != '}') return 0;
    first_seen = true;
  }
  return 0;
}

}  // namespace

core::Result<Decoded> decode_ndjson(std::string_view body, const DecodeOptions& options) {
  Decoded decoded;
  json::Problems problems(decoded);
  std::size_t line_number = 0;
  long index = 0;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (blank(line)) continue;
    if (static_cast<std::size_t>(index) == options.max_records) {
      return core::make_error(
          core::Errc::too_large,
          fmt::format("more than {} records in one request", options.max_records));
    }
    auto root = json::parse_text(line, options.max_depth);
    if (root.error())
      return json::malformed(root.error(), options.max_depth, fmt::format("line {}", line_number));
    decoded.records.emplace_back();
    if (!json::decode_record(root.value_unsafe(), index++, options, decoded.records.back(),
                             problems)) {
      decoded.records.pop_back();
      ++decoded.rejected_items;
    }
  }
  if (index == 0) return core::make_error(core::Errc::invalid_field, "no records");
  return decoded;
}

core::Result<std::vector<model::Record>> parse_ndjson(std::string_view body,
                                                      const DecodeOptions& options) {
  return all_or_nothing(decode_ndjson(body, options));
}

Format ndjson_format() {
  Format f;
  f.name = "ndjson";
  f.media_types = {"application/x-ndjson", "application/ndjson", "application/jsonl",
                   "application/x-jsonlines", "application/jsonlines"};
  f.sniff = sniff_ndjson;
  f.decode = decode_ndjson;
  return f;
}

}  // namespace logpipe::ingest
