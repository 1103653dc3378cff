#include "ingest/json_input.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include "core/json_writer.hpp"

namespace logpipe::ingest {
namespace {

using model::Level;
using model::Record;

using core::Errc;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr std::size_t kMaxDetails = 100;
// 0001-01-01 and 9999-12-31T23:59:59.999999Z: what PostgreSQL and RFC 3339 both represent.
constexpr core::Micros kMinTs = -62'135'596'800'000'000LL;
constexpr core::Micros kMaxTs = 253'402'300'799'999'999LL;

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

class Problems {
 public:
  void add(long index, std::string_view field, std::string message) {
    ++count_;
    if (details_.size() < kMaxDetails)
      details_.push_back({index, std::string(field), std::move(message)});
  }
  bool empty() const { return count_ == 0; }
  std::size_t count() const { return count_; }
  core::Error error() {
    // The message is built before details_ is moved into the Error.
    std::string message = fmt::format("{} problems in the request", count_);
    if (count_ == 1) {
      const auto& d = details_[0];
      message = d.field.empty() ? d.message : fmt::format("{} {}", d.field, d.message);
    }
    return core::Error(Errc::invalid_field, std::move(message), std::move(details_));
  }

 private:
  std::vector<core::ErrorDetail> details_;
  std::size_t count_ = 0;
};

simdjson::dom::parser& parser_for(std::size_t max_depth) {
  thread_local simdjson::dom::parser parser;
  thread_local std::size_t depth = 0;
  if (depth != max_depth) {
    // Capacity grows on demand in parse(); only the depth limit is fixed here.
    if (parser.allocate(simdjson::SIMDJSON_PADDING, max_depth) == simdjson::SUCCESS)
      depth = max_depth;
  }
  return parser;
}

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

void parse_record(element e, long index, const JsonOptions& options, Record& out,
                  Problems& problems) {
  if (!e.is_object()) {
    problems.add(index, "", "must be a JSON object");
    return;
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
  if (problems.empty()) out.attrs_json = build_attrs(attrs, extras);
}

core::Error too_many(std::size_t n, std::size_t max) {
  return core::make_error(Errc::too_large,
                          fmt::format("{} records in one request; the limit is {}", n, max));
}

core::Result<std::vector<model::Record>> parse_array(simdjson::dom::array array,
                                                     const JsonOptions& options) {
  const std::size_t n = array.size();
  if (n == 0) return core::make_error(Errc::invalid_field, "no records");
  if (n > options.max_records) return too_many(n, options.max_records);
  std::vector<Record> records(n);
  Problems problems;
  long index = 0;
  for (element e : array) {
    parse_record(e, index, options, records[static_cast<std::size_t>(index)], problems);
    ++index;
  }
  if (!problems.empty()) return problems.error();
  return records;
}

}  // namespace

core::Result<std::vector<model::Record>> parse_json(std::string_view body,
                                                    const JsonOptions& options) {
  auto root = parse_text(body, options.max_depth);
  if (root.error()) return malformed(root.error(), options.max_depth, "");
  element e = root.value_unsafe();
  if (e.is_array()) return parse_array(e.get_array().value_unsafe(), options);
  if (!e.is_object())
    return core::make_error(Errc::invalid_field, "body must be a JSON object or array");
  std::vector<Record> records(1);
  Problems problems;
  parse_record(e, 0, options, records[0], problems);
  if (!problems.empty()) return problems.error();
  return records;
}

core::Result<std::vector<model::Record>> parse_ndjson(std::string_view body,
                                                      const JsonOptions& options) {
  std::vector<Record> records;
  Problems problems;
  std::size_t line_number = 0;
  long index = 0;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (records.size() == options.max_records) {
      return core::make_error(
          Errc::too_large, fmt::format("more than {} records in one request", options.max_records));
    }
    auto root = parse_text(line, options.max_depth);
    if (root.error())
      return malformed(root.error(), options.max_depth, fmt::format("line {}", line_number));
    records.emplace_back();
    parse_record(root.value_unsafe(), index++, options, records.back(), problems);
  }
  if (!problems.empty()) return problems.error();
  if (records.empty()) return core::make_error(Errc::invalid_field, "no records");
  return records;
}

core::Result<std::vector<model::Record>> parse_logs_envelope(std::string_view body,
                                                             const JsonOptions& options) {
  auto root = parse_text(body, options.max_depth);
  if (root.error()) return malformed(root.error(), options.max_depth, "");
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
  return parse_array(logs, options);
}

}  // namespace logpipe::ingest
