#include "ingest/formats/gelf.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/json_writer.hpp"
#include "ingest/formats/json_record.hpp"

namespace logpipe::ingest {
namespace {

using simdjson::dom::element;

// 0001-01-01 … 9999-12-31 in seconds: what PostgreSQL and RFC 3339 both represent.
constexpr double kMinSeconds = -62'135'596'800.0;
constexpr double kMaxSeconds = 253'402'300'799.0;

bool set_text(element value, long index, std::string_view key, std::size_t max_bytes,
              std::string& out, json::Problems& problems) {
  if (value.is_null()) return true;
  if (!value.is_string()) {
    problems.add(index, key, "must be a string");
    return false;
  }
  const std::string_view text = value.get_string().value_unsafe();
  if (text.size() > max_bytes) {
    problems.add(index, key, fmt::format("longer than {} bytes", max_bytes));
    return false;
  }
  out = text;
  return true;
}

void append_member(std::string& attrs, std::string_view key, element value) {
  if (attrs.size() > 1) attrs.push_back(',');  // after "{" and a member
  core::append_json_string(attrs, key);
  attrs.push_back(':');
  attrs += simdjson::minify(value);
}

// One GELF object → `out`; false when it is rejected (its problems noted).
bool decode_message(element e, long index, const DecodeOptions& options, model::Record& out,
                    json::Problems& problems) {
  const std::size_t before = problems.count();
  if (!e.is_object()) {
    problems.add(index, "", "must be a JSON object");
    return false;
  }
  out.ts = options.received_at;
  out.level = model::Level::fatal;  // GELF's default level is 1 (ALERT)
  bool has_message = false;
  std::string attrs = "{";
  const simdjson::dom::object fields = e.get_object().value_unsafe();
  for (auto [key, value] : fields) {
    if (key == "short_message") {
      has_message = set_text(value, index, key, options.max_message_bytes, out.message, problems);
      if (has_message && out.message.empty()) {
        problems.add(index, key, "must not be empty");
        has_message = false;
      }
    } else if (key == "host") {
      set_text(value, index, key, options.max_name_bytes, out.host, problems);
    } else if (key == "timestamp") {
      if (!value.is_number()) {
        problems.add(index, key, "must be a number of seconds since the epoch");
        continue;
      }
      const double seconds = value.get_double().value_unsafe();
      if (!(seconds >= kMinSeconds && seconds <= kMaxSeconds)) {
        problems.add(index, key, "is out of range (years 1-9999)");
        continue;
      }
      out.ts = std::llround(seconds * 1e6);
    } else if (key == "level") {
      std::optional<model::Level> level;
      if (value.is_int64())
        level = model::level_from_syslog_severity(value.get_int64().value_unsafe());
      if (value.is_string()) level = model::parse_level(value.get_string().value_unsafe());
      if (level) {
        out.level = *level;
      } else {
        problems.add(index, key, "must be a syslog severity 0-7");
      }
    } else if (key == "version") {
      // "1.1"; older senders write "1.0". Neither changes how a message reads.
    } else if (key == "_id") {
      problems.add(index, key, "is reserved by GELF");
    } else if (key == "_service") {
      set_text(value, index, key, options.max_name_bytes, out.service, problems);
    } else if (key == "_app" || key == "_application") {
      set_text(value, index, key, options.max_name_bytes, out.app, problems);
    } else if (key == "_device_id") {
      set_text(value, index, key, options.max_name_bytes, out.device_id, problems);
    } else if (key.starts_with('_') && key.size() > 1) {
      append_member(attrs, key.substr(1), value);
    } else {
      append_member(attrs, key, value);  // full_message, facility, line, file, …
    }
  }
  if (!has_message && problems.count() == before)
    problems.add(index, "short_message", "is required");
  if (problems.count() != before) return false;
  attrs.push_back('}');
  out.attrs_json = std::move(attrs);
  return true;
}

int sniff_gelf(std::string_view head) {
  return head.find("\"short_message\"") != std::string_view::npos ? 85 : 0;
}

// Above a JSON object line's score: a GELF line is JSON that the json format would reject (it
// has no "message").
int sniff_gelf_line(std::string_view line) {
  return !line.empty() && line.front() == '{' && sniff_gelf(line) ? 96 : 0;
}

bool parse_gelf_line(std::string_view line, const DecodeOptions& options, model::Record& out,
                     std::string& why) {
  auto root = json::parse_text(line, options.max_depth);
  if (root.error()) {
    why = json::malformed(root.error(), options.max_depth, "").message;
    return false;
  }
  Decoded problems_of_line;
  json::Problems problems(problems_of_line);
  if (decode_message(root.value_unsafe(), 0, options, out, problems)) return true;
  const auto& first = problems_of_line.problems.front();
  why = first.field.empty() ? first.message : fmt::format("{} {}", first.field, first.message);
  return false;
}

}  // namespace

core::Result<Decoded> decode_gelf(std::string_view body, const DecodeOptions& options) {
  Decoded decoded;
  json::Problems problems(decoded);
  long index = 0;
  std::size_t line_number = 0;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line_number;
    // A NUL ends a message on GELF TCP; senders reuse that framing elsewhere.
    while (!line.empty() && (line.back() == '\r' || line.back() == '\0'))
      line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (static_cast<std::size_t>(index) == options.max_records)
      return json::too_many(static_cast<std::size_t>(index) + 1, options.max_records);
    auto root = json::parse_text(line, options.max_depth);
    if (root.error())
      return json::malformed(root.error(), options.max_depth, fmt::format("line {}", line_number));
    decoded.records.emplace_back();
    if (!decode_message(root.value_unsafe(), index++, options, decoded.records.back(), problems)) {
      decoded.records.pop_back();
      ++decoded.rejected_items;
    }
  }
  if (index == 0) return core::make_error(core::Errc::invalid_field, "no records");
  return decoded;
}

Format gelf_format() {
  Format f;
  f.name = "gelf";
  f.sniff = sniff_gelf;
  f.decode = decode_gelf;
  f.sniff_line = sniff_gelf_line;
  f.parse_line = parse_gelf_line;
  return f;
}

}  // namespace logpipe::ingest
