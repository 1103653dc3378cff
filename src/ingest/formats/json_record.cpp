#include "ingest/formats/json_record.hpp"

#include <fmt/format.h>

#include "core/json_writer.hpp"

namespace logpipe::ingest::json {
namespace {

using core::Errc;
using model::Level;
using model::Record;
using simdjson::dom::element;
using simdjson::dom::object;

enum class Field { message, level, ts, device_id, service, app, host, attrs, ignored, other };

Field classify(std::string_view key) {
  if (key == "message" || key == "msg") return Field::message;
  if (key == "level" || key == "log_level" || key == "severity") return Field::level;
  if (key == "ts" || key == "timestamp" || key == "@timestamp" || key == "time") return Field::ts;
  if (key == "device_id") return Field::device_id;
  if (key == "service" || key == "source") return Field::service;
  if (key == "app" || key == "application") return Field::app;
  if (key == "host" || key == "hostname") return Field::host;
  if (key == "attrs" || key == "log_data" || key == "metadata" || key == "attributes")
    return Field::attrs;
  if (key == "tenant_id") return Field::ignored;  // the tenant comes from the API key
  return Field::other;
}

simdjson::dom::parser& parser_for(std::size_t max_depth) {
  thread_local simdjson::dom::parser parser;
  thread_local std::size_t depth = 0;
  if (depth != max_depth) {
    // Capacity grows on demand in parse(); only the depth limit is fixed here. simdjson refuses
    // a document whose depth reaches its limit, so max_depth levels need one more.
    if (parser.allocate(simdjson::SIMDJSON_PADDING, max_depth + 1) == simdjson::SUCCESS)
      depth = max_depth;
  }
  return parser;
}

}  // namespace

core::Error malformed(simdjson::error_code code, std::size_t max_depth, std::string_view where) {
  std::string what;
  switch (code) {
    case simdjson::DEPTH_ERROR:
      what = fmt::format("JSON nested deeper than {} levels", max_depth);
      break;
    case simdjson::UTF8_ERROR:
      what = "invalid UTF-8";
      break;
    case simdjson::EMPTY:
      what = "empty body";
      break;
    default:
      what = fmt::format("malformed JSON ({})", simdjson::error_message(code));
  }
  return core::make_error(Errc::malformed,
                          where.empty() ? what : fmt::format("{}: {}", where, what));
}

simdjson::simdjson_result<element> parse_text(std::string_view text, std::size_t max_depth) {
  return parser_for(max_depth).parse(text.data(), text.size(), true);
}

namespace {

void set_name(element value, long index, std::string_view key, std::size_t max_bytes,
              bool allow_number, std::string& out, Problems& problems) {
  if (value.is_null()) return;
  if (value.is_string()) {
    const std::string_view text = value.get_string().value_unsafe();
    if (text.size() > max_bytes) {
      problems.add(index, key, fmt::format("longer than {} bytes", max_bytes));
      return;
    }
    out = text;
    return;
  }
  if (allow_number && (value.is_int64() || value.is_uint64())) {
    out = simdjson::minify(value);
    return;
  }
  problems.add(index, key, allow_number ? "must be a string or an integer" : "must be a string");
}

void set_level(element value, long index, std::string_view key, Level& out, Problems& problems) {
  if (value.is_null()) return;
  std::optional<Level> level;
  if (value.is_string()) {
    level = model::parse_level(value.get_string().value_unsafe());
  } else if (value.is_int64()) {
    level = model::level_from_syslog_severity(value.get_int64().value_unsafe());
  }
  if (level) {
    out = *level;
  } else {
    problems.add(index, key,
                 "must be a level (TRACE, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, FATAL) "
                 "or a syslog severity 0-7");
  }
}

void set_ts(element value, long index, std::string_view key, core::Micros& out,
            Problems& problems) {
  if (value.is_null()) return;
  core::Micros ts;
  if (value.is_string()) {
    auto parsed = core::parse_rfc3339(value.get_string().value_unsafe());
    if (!parsed) {
      problems.add(index, key, "must be an RFC 3339 timestamp or an epoch number");
      return;
    }
    ts = *parsed;
  } else if (value.is_int64()) {
    ts = core::micros_from_epoch_number(value.get_int64().value_unsafe());
  } else if (value.is_number()) {
    const double n = value.get_double().value_unsafe();
    if (!(std::abs(n) < 1e20)) {  // also rejects NaN; beyond any epoch unit
      problems.add(index, key, "is out of range");
      return;
    }
    ts = core::micros_from_epoch_number(n);
  } else {
    problems.add(index, key, "must be an RFC 3339 timestamp or an epoch number");
    return;
  }
  if (ts < kMinTs || ts > kMaxTs) {
    problems.add(index, key, "is out of range (years 1-9999)");
    return;
  }
  out = ts;
}

// attrs = the explicit attrs object, plus the record's unknown top-level fields (explicit attrs
// keys win).
std::string build_attrs(std::optional<object> attrs,
                        const std::vector<std::pair<std::string_view, element>>& extras) {
  if (extras.empty()) return attrs ? simdjson::minify(*attrs) : "{}";
  std::string out = "{";
  bool first = true;
  const auto member = [&](std::string_view key, element value) {
    if (!first) out.push_back(',');
    first = false;
    core::append_json_string(out, key);
    out.push_back(':');
    out += simdjson::minify(value);
  };
  if (attrs) {
    for (auto field : *attrs)
      member(field.key, field.value);
  }
  for (const auto& [key, value] : extras) {
    if (attrs && (*attrs)[key].error() == simdjson::SUCCESS) continue;
    member(key, value);
  }
  out.push_back('}');
  return out;
}

}  // namespace

void Problems::add(long index, std::string_view field, std::string message) {
  ++decoded_.problem_count;
  if (decoded_.problems.size() < kMaxProblemDetails)
    decoded_.problems.push_back({index, std::string(field), std::move(message)});
}

bool decode_record(element e, long index, const DecodeOptions& options, Record& out,
                   Problems& problems) {
  const std::size_t before = problems.count();
  if (!e.is_object()) {
    problems.add(index, "", "must be a JSON object");
    return false;
  }
  out.ts = options.received_at;
  bool message_seen = false;
  bool device_seen = false, device_invalid = false;
  std::optional<object> attrs;
  std::vector<std::pair<std::string_view, element>> extras;
  const object fields = e.get_object().value_unsafe();
  for (auto [key, value] : fields) {
    switch (classify(key)) {
      case Field::message:
        message_seen = true;
        if (!value.is_string()) {
          problems.add(index, key, "must be a string");
        } else {
          const std::string_view text = value.get_string().value_unsafe();
          if (text.empty()) {
            problems.add(index, key, "must not be empty");
          } else if (text.size() > options.max_message_bytes) {
            problems.add(index, key,
                         fmt::format("longer than {} bytes", options.max_message_bytes));
          } else {
            out.message = text;
          }
        }
        break;
      case Field::level:
        set_level(value, index, key, out.level, problems);
        break;
      case Field::ts:
        set_ts(value, index, key, out.ts, problems);
        break;
      case Field::device_id: {
        const std::size_t before = problems.count();
        device_seen = !value.is_null();
        set_name(value, index, key, options.max_name_bytes, true, out.device_id, problems);
        device_invalid = problems.count() != before;
        break;
      }
      case Field::service:
        set_name(value, index, key, options.max_name_bytes, false, out.service, problems);
        break;
      case Field::app:
        set_name(value, index, key, options.max_name_bytes, false, out.app, problems);
        break;
      case Field::host:
        set_name(value, index, key, options.max_name_bytes, false, out.host, problems);
        break;
      case Field::attrs:
        if (value.is_object()) {
          attrs = value.get_object().value_unsafe();
        } else if (!value.is_null()) {
          problems.add(index, key, "must be a JSON object");
        }
        break;
      case Field::ignored:
        break;
      case Field::other:
        extras.emplace_back(key, value);
        break;
    }
  }
  if (!message_seen) problems.add(index, "message", "is required");
  if (options.require_device_id && out.device_id.empty() && !device_invalid)
    problems.add(index, "device_id", device_seen ? "must not be empty" : "is required");
  if (problems.count() != before) return false;
  out.attrs_json = build_attrs(attrs, extras);
  return true;
}

core::Error too_many(std::size_t n, std::size_t max) {
  return core::make_error(Errc::too_large,
                          fmt::format("{} records in one request; the limit is {}", n, max));
}

core::Result<Decoded> decode_array(simdjson::dom::array array, const DecodeOptions& options) {
  const std::size_t n = array.size();
  if (n > options.max_records) return too_many(n, options.max_records);
  Decoded decoded;
  decoded.records.resize(n);
  Problems problems(decoded);
  std::vector<bool> rejected;
  long index = 0;
  for (element e : array) {
    if (!decode_record(e, index, options, decoded.records[static_cast<std::size_t>(index)],
                       problems)) {
      rejected.resize(n);
      rejected[static_cast<std::size_t>(index)] = true;
      ++decoded.rejected_items;
    }
    ++index;
  }
  if (decoded.rejected_items > 0) {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (rejected[i]) continue;
      if (kept != i) decoded.records[kept] = std::move(decoded.records[i]);  // no self-move
      ++kept;
    }
    decoded.records.resize(kept);
  }
  return decoded;
}

}  // namespace logpipe::ingest::json
