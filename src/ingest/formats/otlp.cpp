#include "ingest/formats/otlp.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "core/base64.hpp"
#include "core/json_writer.hpp"
#include "ingest/formats/attrs.hpp"
#include "ingest/formats/json_record.hpp"
#include "ingest/protobuf.hpp"

namespace logpipe::ingest::otlp {
namespace {

using model::Level;
using model::Record;

// What a resource gives each of its records.
struct Resource {
  std::string service, host, app, device_id;
  std::vector<attrs::Member> attrs;  // the attributes no field took
  std::string problem_field;         // set: every record of the resource is rejected
  std::string problem;
};

struct Scope {
  std::vector<attrs::Member> attrs;  // otel.scope.name, otel.scope.version, its attributes
};

// One LogRecord, as read from either encoding.
struct Log {
  std::uint64_t time_ns = 0;
  std::uint64_t observed_ns = 0;
  std::int64_t severity_number = 0;
  std::string severity_text;
  bool has_body = false;
  bool body_is_string = false;
  std::string body;  // the string, or the value as JSON
  std::string event_name;
  std::vector<attrs::Member> attrs;
  std::string trace_id, span_id;  // hex; empty when unset

  void clear() {
    time_ns = observed_ns = 0;
    severity_number = 0;
    severity_text.clear();
    has_body = body_is_string = false;
    body.clear();
    event_name.clear();
    attrs.clear();
    trace_id.clear();
    span_id.clear();
  }
};

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  core::append_json_string(out, text);
  return out;
}

// A resource attribute that names a field: set it when its value is a string (the view), else
// keep it in attrs.
void resource_attribute(Resource& r, std::string key, std::string json,
                        std::optional<std::string_view> text, const DecodeOptions& options) {
  std::string* field = nullptr;
  if (key == "service.name") field = &r.service;
  if (key == "host.name") field = &r.host;
  if (key == "service.namespace") field = &r.app;
  if (key == "device.id") field = &r.device_id;
  if (field && text) {
    if (text->size() > options.max_name_bytes && r.problem.empty()) {
      r.problem_field = key;
      r.problem = fmt::format("longer than {} bytes", options.max_name_bytes);
    } else if (!attrs::valid_utf8(*text) && r.problem.empty()) {
      r.problem_field = key;
      r.problem = "is not valid UTF-8";
    }
    *field = *text;
    return;
  }
  r.attrs.push_back({std::move(key), std::move(json)});
}

bool all_zero(std::string_view hex) {
  return hex.find_first_not_of('0') == std::string_view::npos;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

void append_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "\"NaN\"";
  } else if (std::isinf(d)) {
    out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", d);
  }
}

// Turns logs into records, counting every log record of the body (its index) in order.
class Records {
 public:
  Records(Decoded& decoded, const DecodeOptions& options)
      : decoded_(decoded), problems_(decoded), options_(options) {}

  core::Status count_one() const {
    if (index_ == static_cast<long>(options_.max_records))
      return core::make_error(
          core::Errc::too_large,
          fmt::format("more than {} log records in one request", options_.max_records));
    return {};
  }

  void add(const Resource& res, const Scope& scope, Log& log) {
    if (!res.problem.empty()) return reject(res.problem_field, res.problem);
    if (log.body_is_string && log.body.size() > options_.max_message_bytes)
      return reject("body", fmt::format("longer than {} bytes", options_.max_message_bytes));
    if (log.body_is_string && !attrs::valid_utf8(log.body))
      return reject("body", "is not valid UTF-8");
    Record& r = decoded_.records.emplace_back();
    r.ts = log.time_ns       ? static_cast<core::Micros>(log.time_ns / 1000)
           : log.observed_ns ? static_cast<core::Micros>(log.observed_ns / 1000)
                             : options_.received_at;
    std::optional<Level> level = level_from_severity_number(log.severity_number);
    bool text_used = level.has_value() || log.severity_text.empty();
    if (!level && !log.severity_text.empty()) {
      level = model::parse_level(log.severity_text);
      text_used = level.has_value();
    }
    r.level = level.value_or(Level::info);
    if (log.has_body) {
      r.message = std::move(log.body);
    } else {
      r.message = log.event_name;
    }
    if (r.message.size() > options_.max_message_bytes)
      r.message.resize(0);  // a structured body too big to be a message: its event name, if any
    r.service = res.service;
    r.host = res.host;
    r.app = res.app;
    r.device_id = res.device_id;
    std::vector<attrs::Member> all;
    all.reserve(res.attrs.size() + scope.attrs.size() + log.attrs.size() + 4);
    all.insert(all.end(), res.attrs.begin(), res.attrs.end());
    all.insert(all.end(), scope.attrs.begin(), scope.attrs.end());
    all.insert(all.end(), std::make_move_iterator(log.attrs.begin()),
               std::make_move_iterator(log.attrs.end()));
    if (!log.event_name.empty()) all.push_back({"event.name", json_string(log.event_name)});
    if (!text_used) all.push_back({"severity_text", json_string(log.severity_text)});
    if (!log.trace_id.empty() && !all_zero(log.trace_id))
      all.push_back({"trace_id", json_string(log.trace_id)});
    if (!log.span_id.empty() && !all_zero(log.span_id))
      all.push_back({"span_id", json_string(log.span_id)});
    r.attrs_json = attrs::object(all);
    ++index_;
  }

  void reject(std::string_view field, std::string message) {
    problems_.add(index_, field, std::move(message));
    ++decoded_.rejected_items;
    ++index_;
  }

 private:
  Decoded& decoded_;
  json::Problems problems_;
  const DecodeOptions& options_;
  long index_ = 0;
};

// protobuf -----------------------------------------------------------------------------------

using protobuf::Field;
using protobuf::Reader;
using protobuf::WireType;

core::Error bad_protobuf(std::string_view why) {
  return core::make_error(core::Errc::malformed,
                          fmt::format("not an OTLP ExportLogsServiceRequest: {}", why));
}
core::Error bad_protobuf(const Reader& r) {
  return bad_protobuf(r.error());
}

bool is_len(const Field& f, std::uint32_t number) {
  return f.number == number && f.type == WireType::len;
}

core::Status proto_key_value(const Reader& parent, std::string_view bytes,
                             const DecodeOptions& options, std::string& key, std::string& json,
                             std::optional<std::string_view>& text);

// AnyValue → JSON text in `out`; `text` set when it is a string.
core::Status proto_any(const Reader& parent, std::string_view bytes, const DecodeOptions& options,
                       std::string& out, std::optional<std::string_view>& text) {
  Reader r = parent.sub(bytes);
  if (r.depth() > static_cast<int>(options.max_depth))
    return bad_protobuf(fmt::format("values nested deeper than {} levels", options.max_depth));
  text.reset();
  const std::size_t start = out.size();
  bool any = false;
  Field f;
  while (r.next(f)) {
    // A oneof: the last member on the wire wins.
    const auto restart = [&] {
      out.resize(start);
      text.reset();
      any = true;
    };
    switch (f.number) {
      case 1:
        if (f.type != WireType::len) break;
        restart();
        core::append_json_string(out, f.bytes);
        text = f.bytes;
        break;
      case 2:
        if (f.type != WireType::varint) break;
        restart();
        out += protobuf::as_bool(f) ? "true" : "false";
        break;
      case 3:
        if (f.type != WireType::varint) break;
        restart();
        fmt::format_to(std::back_inserter(out), "{}", protobuf::as_int64(f));
        break;
      case 4:
        if (f.type != WireType::i64) break;
        restart();
        append_double(out, protobuf::as_double(f));
        break;
      case 5: {  // ArrayValue{values=1}
        if (f.type != WireType::len) break;
        restart();
        Reader a = r.sub(f.bytes);
        out.push_back('[');
        bool first = true;
        Field v;
        while (a.next(v)) {
          if (!is_len(v, 1)) continue;
          if (!first) out.push_back(',');
          first = false;
          std::optional<std::string_view> ignored;
          if (auto s = proto_any(a, v.bytes, options, out, ignored); !s) return s;
        }
        if (a.failed()) return bad_protobuf(a);
        out.push_back(']');
        break;
      }
      case 6: {  // KeyValueList{values=1: KeyValue}
        if (f.type != WireType::len) break;
        restart();
        Reader l = r.sub(f.bytes);
        std::vector<attrs::Member> members;
        Field kv;
        while (l.next(kv)) {
          if (!is_len(kv, 1)) continue;
          attrs::Member m;
          std::optional<std::string_view> ignored;
          if (auto s = proto_key_value(l, kv.bytes, options, m.key, m.json, ignored); !s) return s;
          members.push_back(std::move(m));
        }
        if (l.failed()) return bad_protobuf(l);
        out += attrs::object(members);
        break;
      }
      case 7:
        if (f.type != WireType::len) break;
        restart();
        out.push_back('"');
        out += core::base64_encode(f.bytes);
        out.push_back('"');
        break;
      default:
        break;
    }
  }
  if (r.failed()) return bad_protobuf(r);
  if (!any) out += "null";
  return {};
}

core::Status proto_key_value(const Reader& parent, std::string_view bytes,
                             const DecodeOptions& options, std::string& key, std::string& json,
                             std::optional<std::string_view>& text) {
  Reader r = parent.sub(bytes);
  std::string_view value;
  bool has_value = false;
  Field f;
  while (r.next(f)) {
    if (is_len(f, 1)) key = f.bytes;
    if (is_len(f, 2)) {
      value = f.bytes;
      has_value = true;
    }
  }
  if (r.failed()) return bad_protobuf(r);
  json.clear();
  text.reset();
  if (!has_value) {
    json = "null";
    return {};
  }
  return proto_any(r, value, options, json, text);
}

core::Status proto_resource(const Reader& parent, std::string_view bytes,
                            const DecodeOptions& options, Resource& res) {
  Reader r = parent.sub(bytes);
  Field f;
  while (r.next(f)) {
    if (!is_len(f, 1)) continue;
    std::string key, json;
    std::optional<std::string_view> text;
    if (auto s = proto_key_value(r, f.bytes, options, key, json, text); !s) return s;
    resource_attribute(res, std::move(key), std::move(json), text, options);
  }
  if (r.failed()) return bad_protobuf(r);
  return {};
}

core::Status proto_scope(const Reader& parent, std::string_view bytes, const DecodeOptions& options,
                         Scope& scope) {
  Reader r = parent.sub(bytes);
  Field f;
  while (r.next(f)) {
    if (is_len(f, 1) && !f.bytes.empty()) {
      scope.attrs.push_back({"otel.scope.name", json_string(f.bytes)});
    } else if (is_len(f, 2) && !f.bytes.empty()) {
      scope.attrs.push_back({"otel.scope.version", json_string(f.bytes)});
    } else if (is_len(f, 3)) {
      attrs::Member m;
      std::optional<std::string_view> ignored;
      if (auto s = proto_key_value(r, f.bytes, options, m.key, m.json, ignored); !s) return s;
      scope.attrs.push_back(std::move(m));
    }
  }
  if (r.failed()) return bad_protobuf(r);
  return {};
}

core::Status proto_log(const Reader& parent, std::string_view bytes, const DecodeOptions& options,
                       Log& log) {
  Reader r = parent.sub(bytes);
  log.clear();
  Field f;
  while (r.next(f)) {
    switch (f.number) {
      case 1:
        if (f.type == WireType::i64) log.time_ns = f.value;
        break;
      case 2:
        if (f.type == WireType::varint) log.severity_number = protobuf::as_int64(f);
        break;
      case 3:
        if (f.type == WireType::len) log.severity_text = f.bytes;
        break;
      case 5: {
        if (f.type != WireType::len) break;
        log.body.clear();
        std::optional<std::string_view> text;
        if (auto s = proto_any(r, f.bytes, options, log.body, text); !s) return s;
        log.has_body = true;
        log.body_is_string = text.has_value();
        if (text) log.body = *text;
        break;
      }
      case 6: {
        if (f.type != WireType::len) break;
        attrs::Member m;
        std::optional<std::string_view> ignored;
        if (auto s = proto_key_value(r, f.bytes, options, m.key, m.json, ignored); !s) return s;
        log.attrs.push_back(std::move(m));
        break;
      }
      case 9:
        if (f.type == WireType::len) log.trace_id = to_hex(f.bytes);
        break;
      case 10:
        if (f.type == WireType::len) log.span_id = to_hex(f.bytes);
        break;
      case 11:
        if (f.type == WireType::i64) log.observed_ns = f.value;
        break;
      case 12:
        if (f.type == WireType::len) log.event_name = f.bytes;
        break;
      default:  // dropped_attributes_count, flags, and anything newer
        break;
    }
  }
  if (r.failed()) return bad_protobuf(r);
  // Text that is not UTF-8 would break the JSON and the database: replaced here, as attrs are.
  if (!attrs::valid_utf8(log.severity_text)) log.severity_text = "\xEF\xBF\xBD";
  if (!attrs::valid_utf8(log.event_name)) log.event_name = "\xEF\xBF\xBD";
  return {};
}

core::Status proto_scope_logs(const Reader& parent, std::string_view bytes,
                              const DecodeOptions& options, const Resource& res, Records& records,
                              Log& log) {
  Scope scope;
  {
    Reader r = parent.sub(bytes);
    Field f;
    while (r.next(f)) {
      if (is_len(f, 1)) {
        scope.attrs.clear();
        if (auto s = proto_scope(r, f.bytes, options, scope); !s) return s;
      }
    }
    if (r.failed()) return bad_protobuf(r);
  }
  Reader r = parent.sub(bytes);
  Field f;
  while (r.next(f)) {
    if (!is_len(f, 2)) continue;
    if (auto counted = records.count_one(); !counted) return counted;
    if (auto s = proto_log(r, f.bytes, options, log); !s) return s;
    records.add(res, scope, log);
  }
  if (r.failed()) return bad_protobuf(r);
  return {};
}

core::Status proto_resource_logs(const Reader& parent, std::string_view bytes,
                                 const DecodeOptions& options, Records& records, Log& log) {
  Resource res;
  {
    Reader r = parent.sub(bytes);
    Field f;
    while (r.next(f)) {
      if (is_len(f, 1)) {
        res = Resource{};
        if (auto s = proto_resource(r, f.bytes, options, res); !s) return s;
      }
    }
    if (r.failed()) return bad_protobuf(r);
  }
  Reader r = parent.sub(bytes);
  Field f;
  while (r.next(f)) {
    if (!is_len(f, 2)) continue;
    if (auto s = proto_scope_logs(r, f.bytes, options, res, records, log); !s) return s;
  }
  if (r.failed()) return bad_protobuf(r);
  return {};
}

// JSON ---------------------------------------------------------------------------------------

using simdjson::dom::element;

core::Error shape(std::string_view what) {
  return core::make_error(
      core::Errc::malformed,
      fmt::format(
          "not an OTLP ExportLogsServiceRequest: {} (expected "
          "{{\"resourceLogs\":[{{\"resource\":{{…}},\"scopeLogs\":[{{\"logRecords\":[…]}}]}}]}})",
          what));
}

bool is(std::string_view key, std::string_view camel, std::string_view snake) {
  return key == camel || key == snake;
}

// A uint64 as a JSON string or number; false when it is neither.
bool json_uint64(element e, std::uint64_t& out) {
  if (e.is_string()) {
    const std::string_view text = e.get_string().value_unsafe();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && !text.empty();
  }
  if (e.is_uint64()) {
    out = e.get_uint64().value_unsafe();
    return true;
  }
  if (e.is_int64() && e.get_int64().value_unsafe() >= 0) {
    out = static_cast<std::uint64_t>(e.get_int64().value_unsafe());
    return true;
  }
  return false;
}

// "SEVERITY_NUMBER_WARN2" → 14 (proto3 JSON may spell enums by name).
std::int64_t severity_from_name(std::string_view name) {
  constexpr std::string_view kPrefix = "SEVERITY_NUMBER_";
  if (!name.starts_with(kPrefix)) return 0;
  name.remove_prefix(kPrefix.size());
  struct Base {
    std::string_view name;
    std::int64_t number;
  };
  static constexpr Base kBases[] = {{"TRACE", 1}, {"DEBUG", 5},  {"INFO", 9},
                                    {"WARN", 13}, {"ERROR", 17}, {"FATAL", 21}};
  for (const auto& b : kBases) {
    if (!name.starts_with(b.name)) continue;
    const std::string_view rest = name.substr(b.name.size());
    if (rest.empty()) return b.number;
    if (rest.size() == 1 && rest[0] >= '2' && rest[0] <= '4') return b.number + (rest[0] - '1');
  }
  return 0;
}

void json_key_value(element kv, std::string& key, std::string& json,
                    std::optional<std::string_view>& text);

// An AnyValue object → JSON text in `out`; `text` set when it is a string.
void json_any(element any, std::string& out, std::optional<std::string_view>& text) {
  text.reset();
  if (!any.is_object()) {
    out += simdjson::minify(any);  // not an AnyValue: kept as it came
    return;
  }
  const std::size_t start = out.size();
  bool seen = false;
  for (auto [key, value] : json::object_of(any)) {
    out.resize(start);
    text.reset();
    seen = true;
    if (is(key, "stringValue", "string_value") && value.is_string()) {
      text = value.get_string().value_unsafe();
      core::append_json_string(out, *text);
    } else if (is(key, "intValue", "int_value") && value.is_string()) {
      const std::string_view digits = value.get_string().value_unsafe();
      std::int64_t n = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
      if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty()) {
        fmt::format_to(std::back_inserter(out), "{}", n);
      } else {
        core::append_json_string(out, digits);
      }
    } else if (is(key, "arrayValue", "array_value") && value.is_object()) {
      out.push_back('[');
      simdjson::dom::array values;
      if (value["values"].get(values) == simdjson::SUCCESS) {
        bool first = true;
        for (element v : values) {
          if (!first) out.push_back(',');
          first = false;
          std::optional<std::string_view> ignored;
          json_any(v, out, ignored);
        }
      }
      out.push_back(']');
    } else if (is(key, "kvlistValue", "kvlist_value") && value.is_object()) {
      std::vector<attrs::Member> members;
      simdjson::dom::array values;
      if (value["values"].get(values) == simdjson::SUCCESS) {
        for (element kv : values) {
          attrs::Member m;
          std::optional<std::string_view> ignored;
          json_key_value(kv, m.key, m.json, ignored);
          members.push_back(std::move(m));
        }
      }
      out += attrs::object(members);
    } else {
      // boolValue, intValue as a number, doubleValue, bytesValue (base64 text), and anything
      // else: the JSON value itself.
      out += simdjson::minify(value);
    }
  }
  if (!seen) out += "null";
}

void json_key_value(element kv, std::string& key, std::string& json,
                    std::optional<std::string_view>& text) {
  key.clear();
  json.clear();
  text.reset();
  std::string_view k;
  if (kv["key"].get(k) == simdjson::SUCCESS) key = k;
  element value;
  if (kv["value"].get(value) == simdjson::SUCCESS && !value.is_null()) {
    json_any(value, json, text);
  } else {
    json = "null";
  }
}

std::string hex_id(element e) {
  std::string_view text;
  if (e.get(text) != simdjson::SUCCESS) return {};
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void json_log(element e, Log& log) {
  log.clear();
  if (!e.is_object()) return;
  for (auto [key, value] : json::object_of(e)) {
    if (is(key, "timeUnixNano", "time_unix_nano")) {
      json_uint64(value, log.time_ns);
    } else if (is(key, "observedTimeUnixNano", "observed_time_unix_nano")) {
      json_uint64(value, log.observed_ns);
    } else if (is(key, "severityNumber", "severity_number")) {
      if (value.is_int64()) log.severity_number = value.get_int64().value_unsafe();
      if (value.is_string())
        log.severity_number = severity_from_name(value.get_string().value_unsafe());
    } else if (is(key, "severityText", "severity_text")) {
      if (value.is_string()) log.severity_text = value.get_string().value_unsafe();
    } else if (key == "body") {
      if (value.is_null()) continue;
      log.body.clear();
      std::optional<std::string_view> text;
      json_any(value, log.body, text);
      log.has_body = true;
      log.body_is_string = text.has_value();
      if (text) log.body = *text;
    } else if (key == "attributes") {
      if (!value.is_array()) continue;
      for (element kv : json::array_of(value)) {
        attrs::Member m;
        std::optional<std::string_view> ignored;
        json_key_value(kv, m.key, m.json, ignored);
        log.attrs.push_back(std::move(m));
      }
    } else if (is(key, "traceId", "trace_id")) {
      log.trace_id = hex_id(value);
    } else if (is(key, "spanId", "span_id")) {
      log.span_id = hex_id(value);
    } else if (is(key, "eventName", "event_name")) {
      if (value.is_string()) log.event_name = value.get_string().value_unsafe();
    }
  }
}

core::Status json_scope_logs(element sl, const Resource& res, Records& records, Log& log) {
  if (!sl.is_object()) return shape("a scopeLogs item is not an object");
  Scope scope;
  simdjson::dom::array logs;
  bool has_logs = false;
  for (auto [key, value] : json::object_of(sl)) {
    if (key == "scope" && value.is_object()) {
      scope.attrs.clear();
      for (auto [k, v] : json::object_of(value)) {
        if (k == "name" && v.is_string() && !v.get_string().value_unsafe().empty())
          scope.attrs.push_back({"otel.scope.name", simdjson::minify(v)});
        if (k == "version" && v.is_string() && !v.get_string().value_unsafe().empty())
          scope.attrs.push_back({"otel.scope.version", simdjson::minify(v)});
        if (k == "attributes" && v.is_array()) {
          for (element kv : json::array_of(v)) {
            attrs::Member m;
            std::optional<std::string_view> ignored;
            json_key_value(kv, m.key, m.json, ignored);
            scope.attrs.push_back(std::move(m));
          }
        }
      }
    } else if (is(key, "logRecords", "log_records")) {
      if (!value.is_array()) return shape("\"logRecords\" is not an array");
      logs = value.get_array().value_unsafe();
      has_logs = true;
    }
  }
  if (!has_logs) return {};
  for (element e : logs) {
    if (auto counted = records.count_one(); !counted) return counted;
    if (!e.is_object()) {
      records.reject("", "a log record must be an object");
      continue;
    }
    json_log(e, log);
    records.add(res, scope, log);
  }
  return {};
}

core::Status json_resource_logs(element rl, const DecodeOptions& options, Records& records,
                                Log& log) {
  if (!rl.is_object()) return shape("a resourceLogs item is not an object");
  Resource res;
  element resource;
  if (rl["resource"].get(resource) == simdjson::SUCCESS && resource.is_object()) {
    simdjson::dom::array attributes;
    if (resource["attributes"].get(attributes) == simdjson::SUCCESS) {
      for (element kv : attributes) {
        std::string key, json;
        std::optional<std::string_view> text;
        json_key_value(kv, key, json, text);
        resource_attribute(res, std::move(key), std::move(json), text, options);
      }
    }
  }
  for (auto [key, value] : json::object_of(rl)) {
    if (!is(key, "scopeLogs", "scope_logs")) continue;
    if (!value.is_array()) return shape("\"scopeLogs\" is not an array");
    for (element sl : json::array_of(value)) {
      if (auto s = json_scope_logs(sl, res, records, log); !s) return s;
    }
  }
  return {};
}

}  // namespace

std::optional<Level> level_from_severity_number(std::int64_t n) {
  if (n < 1 || n > 24) return std::nullopt;
  static constexpr Level kLevels[] = {Level::trace,   Level::debug, Level::info,
                                      Level::warning, Level::error, Level::fatal};
  return kLevels[(n - 1) / 4];
}

core::Result<Decoded> decode_protobuf(std::string_view body, const DecodeOptions& options) {
  Decoded decoded;
  Records records(decoded, options);
  Log log;
  Reader r(body);
  Field f;
  while (r.next(f)) {
    if (!is_len(f, 1)) continue;
    if (auto s = proto_resource_logs(r, f.bytes, options, records, log); !s) return s.error();
  }
  if (r.failed()) return bad_protobuf(r);
  return decoded;
}

core::Result<Decoded> decode_json(std::string_view body, const DecodeOptions& options) {
  auto root = json::parse_text(body, options.max_depth);
  if (root.error()) return json::malformed(root.error(), options.max_depth, "");
  const element doc = root.value_unsafe();
  if (!doc.is_object()) return shape("the body is not a JSON object");
  Decoded decoded;
  Records records(decoded, options);
  Log log;
  for (auto [key, value] : json::object_of(doc)) {
    if (!is(key, "resourceLogs", "resource_logs")) continue;
    if (!value.is_array()) return shape("\"resourceLogs\" is not an array");
    for (element rl : json::array_of(value)) {
      if (auto s = json_resource_logs(rl, options, records, log); !s) return s.error();
    }
  }
  return decoded;
}

std::string response_json(std::size_t rejected, std::string_view error_message) {
  if (rejected == 0) return "{}";
  core::JsonWriter w;
  w.begin_object().key("partialSuccess").begin_object();
  w.field("rejectedLogRecords", static_cast<std::uint64_t>(rejected));
  w.field("errorMessage", error_message);
  return w.end_object().end_object().take();
}

std::string response_protobuf(std::size_t rejected, std::string_view error_message) {
  if (rejected == 0) return {};
  std::string partial;
  protobuf::put_varint_field(partial, 1, rejected);
  protobuf::put_len(partial, 2, error_message);
  std::string out;
  protobuf::put_len(out, 1, partial);
  return out;
}

std::string status_protobuf(int grpc_code, std::string_view message) {
  std::string out;
  protobuf::put_varint_field(out, 1, static_cast<std::uint64_t>(grpc_code));
  protobuf::put_len(out, 2, message);
  return out;
}

}  // namespace logpipe::ingest::otlp

namespace logpipe::ingest {

Format otlp_format() {
  Format f;
  f.name = "otlp";
  f.decode = [](std::string_view body, const DecodeOptions& options) {
    const auto first = body.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && body[first] == '{')
      return otlp::decode_json(body, options);
    return otlp::decode_protobuf(body, options);
  };
  return f;
}

}  // namespace logpipe::ingest
