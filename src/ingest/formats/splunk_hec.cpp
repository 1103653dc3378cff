#include "ingest/formats/splunk_hec.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "ingest/formats/document.hpp"
#include "ingest/formats/json_record.hpp"

namespace logpipe::ingest {
namespace {

using core::Errc;
using simdjson::dom::element;
using simdjson::dom::object;

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The length of the JSON object at the start of `text` (which starts with '{'), found by
// counting braces outside strings; 0 when it does not end. simdjson then checks the object
// itself: this only finds where one event ends and the next begins, since HEC allows nothing
// at all between them ("}{").
std::size_t object_length(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return 0;
}

HecBatch refuse(HecCode code, std::size_t event, std::string reason) {
  HecBatch batch;
  batch.problem = HecProblem{code, event, std::move(reason)};
  return batch;
}

core::Error too_many(std::size_t max) {
  return core::make_error(Errc::too_large, fmt::format("more than {} events in one request", max));
}

// A name from the envelope or the query string (host, source, index).
bool set_name(std::string_view value, std::string_view field, const DecodeOptions& options,
              std::string& out, std::string& reason) {
  if (value.size() > options.max_name_bytes) {
    reason = fmt::format("{} is longer than {} bytes", field, options.max_name_bytes);
    return false;
  }
  out = value;
  return true;
}

// The defaults' names, checked once per request.
std::optional<std::string> check_defaults(const HecDefaults& d, const DecodeOptions& options) {
  std::string reason, ignored;
  if (!set_name(d.host, "host", options, ignored, reason) ||
      !set_name(d.source, "source", options, ignored, reason) ||
      !set_name(d.index, "index", options, ignored, reason))
    return reason;
  return std::nullopt;
}

void apply_defaults(const HecDefaults& d, model::Record& record) {
  record.host = d.host;
  record.service = d.source;
  record.app = d.index;
}

// HEC's time: epoch seconds, a number or (some senders) the number quoted.
std::optional<std::string> event_time(element value, core::Micros& out) {
  if (!value.is_string()) return document::timestamp(value, out);
  const std::string_view text = value.get_string().value_unsafe();
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !(std::abs(seconds) < 1e12))
    return "must be epoch seconds";
  const core::Micros ts = core::micros_from_epoch_number(seconds);
  if (ts < json::kMinTs || ts > json::kMaxTs) return "out of range (years 1-9999)";
  out = ts;
  return std::nullopt;
}

// One event object → `record`; HecCode::success or the problem (code, reason).
HecCode map_event(object envelope, const HecDefaults& defaults, const DecodeOptions& options,
                  model::Record& record, document::Attrs& attrs, std::string& reason) {
  element event;
  if (envelope["event"].get(event) != simdjson::SUCCESS || event.is_null()) {
    reason = "Event field is required";
    return HecCode::event_required;
  }
  record.ts = options.received_at;
  apply_defaults(defaults, record);
  if (event.is_string()) {
    record.message = event.get_string().value_unsafe();
  } else if (event.is_object()) {
    // Its host.name, service.name… override the query string's; the envelope's override both.
    if (auto why = document::map(event.get_object().value_unsafe(), options, record, attrs, true)) {
      reason = std::move(*why);
      attrs.finish();
      return HecCode::invalid_data_format;
    }
    if (record.message.empty()) {
      // No message member: the event as sent is the message, and its members are not repeated
      // in attrs.
      record.message = simdjson::minify(event);
      attrs.finish();
    }
  } else {
    record.message = simdjson::minify(event);
  }
  if (record.message.empty() || record.message.find_first_not_of(" \t\r\n") == std::string::npos) {
    reason = "Event field cannot be blank";
    attrs.finish();
    return HecCode::event_blank;
  }
  if (record.message.size() > options.max_message_bytes) {
    reason = fmt::format("event is longer than {} bytes", options.max_message_bytes);
    attrs.finish();
    return HecCode::invalid_data_format;
  }
  for (auto [key, value] : envelope) {
    if (key == "event") continue;
    if (key == "time") {
      if (value.is_null()) continue;
      if (auto why = event_time(value, record.ts)) {
        reason = fmt::format("time: {}", *why);
        attrs.finish();
        return HecCode::invalid_data_format;
      }
      continue;
    }
    const bool name = key == "host" || key == "source" || key == "index";
    if (name || key == "sourcetype") {
      if (value.is_null()) continue;
      if (!value.is_string()) {
        reason = fmt::format("{} must be a string", key);
        attrs.finish();
        return HecCode::invalid_data_format;
      }
      const std::string_view text = value.get_string().value_unsafe();
      if (key == "sourcetype") {
        attrs.add_string("sourcetype", text);
        continue;
      }
      std::string& out = key == "host"     ? record.host
                         : key == "source" ? record.service
                                           : record.app;
      if (!set_name(text, key, options, out, reason)) {
        attrs.finish();
        return HecCode::invalid_data_format;
      }
      continue;
    }
    if (key == "fields") {
      if (value.is_null()) continue;
      if (!value.is_object()) {
        reason = "fields must be an object";
        attrs.finish();
        return HecCode::indexed_fields;
      }
      attrs.add_members(value.get_object().value_unsafe());
      continue;
    }
    attrs.add(key, value);
  }
  if (!defaults.sourcetype.empty() && envelope["sourcetype"].error() != simdjson::SUCCESS)
    attrs.add_string("sourcetype", defaults.sourcetype);
  record.attrs_json = attrs.finish();
  return HecCode::success;
}

}  // namespace

core::Result<HecBatch> decode_hec_events(std::string_view body, const HecDefaults& defaults,
                                         const DecodeOptions& options) {
  if (auto why = check_defaults(defaults, options))
    return refuse(HecCode::invalid_data_format, 0, std::move(*why));
  HecBatch batch;
  document::Attrs attrs;
  std::size_t pos = 0;
  std::size_t number = 0;
  for (;; ++number) {
    while (pos < body.size() && space(body[pos]))
      ++pos;
    if (pos == body.size()) break;
    if (number == options.max_records) return too_many(options.max_records);
    if (body[pos] != '{')
      return refuse(HecCode::invalid_data_format, number, "Invalid data format: not a JSON object");
    const std::size_t length = object_length(body.substr(pos));
    if (length == 0)
      return refuse(HecCode::invalid_data_format, number,
                    "Invalid data format: the JSON object does not end");
    auto root = json::parse_text(body.substr(pos, length), options.max_depth);
    pos += length;
    if (root.error())
      return refuse(
          HecCode::invalid_data_format, number,
          json::malformed(root.error(), options.max_depth, "Invalid data format").message);
    std::string reason;
    model::Record& record = batch.records.emplace_back();
    const HecCode code = map_event(root.value_unsafe().get_object().value_unsafe(), defaults,
                                   options, record, attrs, reason);
    if (code != HecCode::success) return refuse(code, number, std::move(reason));
  }
  if (number == 0) return refuse(HecCode::no_data, 0, "No data");
  return batch;
}

core::Result<HecBatch> decode_hec_raw(std::string_view body, const HecDefaults& defaults,
                                      const DecodeOptions& options) {
  if (auto why = check_defaults(defaults, options))
    return refuse(HecCode::invalid_data_format, 0, std::move(*why));
  HecBatch batch;
  std::string attrs = "{}";
  if (!defaults.sourcetype.empty()) {
    document::Attrs builder;
    builder.add_string("sourcetype", defaults.sourcetype);
    attrs = builder.finish();
  }
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (batch.records.size() == options.max_records) return too_many(options.max_records);
    if (line.size() > options.max_message_bytes)
      return refuse(HecCode::invalid_data_format, batch.records.size(),
                    fmt::format("line longer than {} bytes", options.max_message_bytes));
    model::Record& record = batch.records.emplace_back();
    record.ts = options.received_at;
    apply_defaults(defaults, record);
    record.message = line;
    record.attrs_json = attrs;
  }
  if (batch.records.empty()) return refuse(HecCode::no_data, 0, "No data");
  return batch;
}

namespace {

core::Result<Decoded> as_decoded(core::Result<HecBatch> batch) {
  if (!batch) return batch.error();
  Decoded decoded;
  if (batch->problem) {
    json::Problems problems(decoded);
    problems.add(static_cast<long>(batch->problem->event), "event", batch->problem->reason);
    decoded.rejected_items = 1;
    return decoded;
  }
  decoded.records = std::move(batch->records);
  return decoded;
}

}  // namespace

core::Result<Decoded> decode_splunk_hec(std::string_view body, const DecodeOptions& options) {
  return as_decoded(decode_hec_events(body, {}, options));
}

core::Result<Decoded> decode_splunk_hec_raw(std::string_view body, const DecodeOptions& options) {
  return as_decoded(decode_hec_raw(body, {}, options));
}

Format splunk_hec_format() {
  Format f;
  f.name = "splunk_hec";
  f.decode = decode_splunk_hec;
  return f;
}

Format splunk_hec_raw_format() {
  Format f;
  f.name = "splunk_hec_raw";
  f.decode = decode_splunk_hec_raw;
  return f;
}

}  // namespace logpipe::ingest
