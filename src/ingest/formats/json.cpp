#include "ingest/formats/json.hpp"

#include <fmt/format.h>

#include "ingest/formats/json_record.hpp"

namespace logpipe::ingest {
namespace {

using core::Errc;
using simdjson::dom::element;

std::string_view trim_front(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos ? std::string_view() : text.substr(first);
}

// One JSON object per line (format=auto and the raw endpoint's format=json).
int sniff_json_line(std::string_view line) {
  const auto first = line.find_first_not_of(" \t");
  const auto last = line.find_last_not_of(" \t\r");
  return first != std::string_view::npos && line[first] == '{' && line[last] == '}' ? 95 : 0;
}

bool parse_json_line(std::string_view line, const DecodeOptions& options, model::Record& out,
                     std::string& why) {
  auto root = json::parse_text(line, options.max_depth);
  if (root.error()) {
    why = json::malformed(root.error(), options.max_depth, "").message;
    return false;
  }
  Decoded scratch;
  json::Problems problems(scratch);
  if (json::decode_record(root.value_unsafe(), 0, options, out, problems)) return true;
  const auto& first = scratch.problems.front();
  why = first.field.empty() ? first.message : fmt::format("{} {}", first.field, first.message);
  if (scratch.problem_count > 1) why += fmt::format(" (and {} more)", scratch.problem_count - 1);
  return false;
}

}  // namespace

core::Result<Decoded> decode_json(std::string_view body, const DecodeOptions& options) {
  auto root = json::parse_text(body, options.max_depth);
  if (root.error()) return json::malformed(root.error(), options.max_depth, "");
  element e = root.value_unsafe();
  if (e.is_array()) {
    auto decoded = json::decode_array(e.get_array().value_unsafe(), options);
    if (decoded && decoded->records.empty() && decoded->rejected_items == 0)
      return core::make_error(Errc::invalid_field, "no records");
    return decoded;
  }
  if (!e.is_object())
    return core::make_error(Errc::invalid_field, "body must be a JSON object or array");
  Decoded decoded;
  decoded.records.resize(1);
  json::Problems problems(decoded);
  if (!json::decode_record(e, 0, options, decoded.records[0], problems)) {
    decoded.records.clear();
    decoded.rejected_items = 1;
  }
  return decoded;
}

core::Result<Decoded> decode_logs_envelope(std::string_view body, const DecodeOptions& options) {
  auto root = json::parse_text(body, options.max_depth);
  if (root.error()) return json::malformed(root.error(), options.max_depth, "");
  element e = root.value_unsafe();
  simdjson::dom::array logs;
  if (!e.is_object() || e["logs"].get(logs) != simdjson::SUCCESS) {
    return core::Error(Errc::invalid_field, "body must be {\"logs\": [ … ]}",
                       {{-1, "logs", "is required and must be an array of log objects"}});
  }
  if (logs.size() == 0) {
    return core::Error(Errc::invalid_field, "logs must hold at least one record",
                       {{-1, "logs", "must not be empty"}});
  }
  return json::decode_array(logs, options);
}

core::Result<std::vector<model::Record>> parse_json(std::string_view body,
                                                    const DecodeOptions& options) {
  return all_or_nothing(decode_json(body, options));
}

core::Result<std::vector<model::Record>> parse_logs_envelope(std::string_view body,
                                                             const DecodeOptions& options) {
  return all_or_nothing(decode_logs_envelope(body, options));
}

Format json_format() {
  Format f;
  f.name = "json";
  f.media_types = {"application/json"};
  f.sniff = [](std::string_view head) {
    head = trim_front(head);
    return !head.empty() && (head.front() == '{' || head.front() == '[') ? 50 : 0;
  };
  f.decode = decode_json;
  f.sniff_line = sniff_json_line;
  f.parse_line = parse_json_line;
  return f;
}

Format logs_envelope_format() {
  // Chosen by name only: its media type is JSON's.
  Format f;
  f.name = "logs_envelope";
  f.decode = decode_logs_envelope;
  return f;
}

}  // namespace logpipe::ingest
