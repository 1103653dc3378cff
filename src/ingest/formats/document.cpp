#include "ingest/formats/document.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "core/json_writer.hpp"
#include "ingest/formats/json_record.hpp"

namespace logpipe::ingest::document {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

// A record field and the member that fills it. Several members may name the same field (ECS's
// "@timestamp" and pino's "time"); the most specific one wins and the others go to attrs.
struct Candidate {
  int priority = 0;  // 0: none seen
  std::string_view key;
  element value;
  bool nested = false;  // a member of an object ("log": {"level": …}); its object went to attrs
};

struct Candidates {
  Candidate ts, message, level, host, service, device_id;
};

void offer(Candidate& slot, int priority, std::string_view key, element value, Attrs& attrs,
           bool nested = false) {
  if (priority <= slot.priority) {
    if (!nested) attrs.add(key, value);
    return;
  }
  if (slot.priority > 0 && !slot.nested) attrs.add(slot.key, slot.value);
  slot = {priority, key, value, nested};
}

// An object of which one member is a record field ("host": {"name": …, "ip": …}): the member
// is offered, the rest of the object goes to attrs under the same key. A member that then loses
// to a more specific one is dropped: its object's other members are already in attrs.
// `dotted` names the member in problems and, when its value is not usable, in attrs.
void offer_member(Candidate& slot, object value, std::string_view key, std::string_view member,
                  std::string_view dotted, int priority, Attrs& attrs) {
  element inner;
  if (value[member].get(inner) != simdjson::SUCCESS) {
    attrs.add_rest(key, value, {});
    return;
  }
  offer(slot, priority, dotted, inner, attrs, true);
  attrs.add_rest(key, value, member);
}

void classify(std::string_view key, element value, Candidates& c, Attrs& attrs) {
  const bool is_object = value.is_object();
  if (key == "@timestamp") return offer(c.ts, 3, key, value, attrs);
  if (key == "timestamp") return offer(c.ts, 2, key, value, attrs);
  if (key == "time") return offer(c.ts, 1, key, value, attrs);
  if (key == "message") return offer(c.message, 3, key, value, attrs);
  if (key == "msg") return offer(c.message, 2, key, value, attrs);
  if (key == "log") {
    // Fluent Bit's tail/docker record keeps the line in "log"; ECS has an object there.
    if (is_object)
      return offer_member(c.level, value.get_object().value_unsafe(), key, "level", "log.level", 4,
                          attrs);
    if (value.is_string()) return offer(c.message, 1, key, value, attrs);
  }
  if (key == "log.level") return offer(c.level, 4, key, value, attrs);
  if (key == "level") return offer(c.level, 3, key, value, attrs);
  if (key == "log_level" || key == "severity") return offer(c.level, 2, key, value, attrs);
  if (key == "host") {
    if (is_object) {
      const object host = value.get_object().value_unsafe();
      if (host["name"].error() == simdjson::SUCCESS)
        return offer_member(c.host, host, key, "name", "host.name", 5, attrs);
      return offer_member(c.host, host, key, "hostname", "host.hostname", 4, attrs);
    }
    if (value.is_string()) return offer(c.host, 3, key, value, attrs);
  }
  if (key == "host.name") return offer(c.host, 5, key, value, attrs);
  if (key == "host.hostname") return offer(c.host, 4, key, value, attrs);
  if (key == "hostname") return offer(c.host, 2, key, value, attrs);
  if (key == "service") {
    if (is_object)
      return offer_member(c.service, value.get_object().value_unsafe(), key, "name", "service.name",
                          2, attrs);
    if (value.is_string()) return offer(c.service, 1, key, value, attrs);
  }
  if (key == "service.name") return offer(c.service, 2, key, value, attrs);
  if (key == "device_id") return offer(c.device_id, 1, key, value, attrs);
  attrs.add(key, value);
}

std::optional<std::string> set_name(const Candidate& c, const DecodeOptions& options,
                                    std::string& out, Attrs& attrs) {
  if (c.priority == 0 || c.value.is_null()) return std::nullopt;
  if (!c.value.is_string()) {
    attrs.add(c.key, c.value);  // a name is text; anything else is kept as sent
    return std::nullopt;
  }
  const std::string_view text = c.value.get_string().value_unsafe();
  if (text.size() > options.max_name_bytes)
    return fmt::format("[{}] is longer than {} bytes", c.key, options.max_name_bytes);
  out = text;
  return std::nullopt;
}

std::optional<model::Level> level_of(element value) {
  if (value.is_int64()) return level_from_number(value.get_int64().value_unsafe());
  if (!value.is_string()) return std::nullopt;
  const std::string_view text = value.get_string().value_unsafe();
  if (auto level = model::parse_level(text)) return level;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && end == text.data() + text.size()) return level_from_number(n);
  return std::nullopt;
}

}  // namespace

void Attrs::open_member(std::string_view key) {
  if (out_.size() > 1) out_.push_back(',');
  core::append_json_string(out_, key);
  out_.push_back(':');
}

void Attrs::add(std::string_view key, element value) {
  open_member(key);
  out_ += simdjson::minify(value);
}

void Attrs::add_string(std::string_view key, std::string_view value) {
  open_member(key);
  core::append_json_string(out_, value);
}

void Attrs::add_rest(std::string_view key, object value, std::string_view skip) {
  bool any = false;
  for (auto member : value) {
    if (!skip.empty() && member.key == skip) continue;
    if (!any) {
      open_member(key);
      out_.push_back('{');
    } else {
      out_.push_back(',');
    }
    any = true;
    core::append_json_string(out_, member.key);
    out_.push_back(':');
    out_ += simdjson::minify(member.value);
  }
  if (any) out_.push_back('}');
}

void Attrs::add_members(object object) {
  for (auto member : object)
    add(member.key, member.value);
}

std::string Attrs::finish() {
  out_.push_back('}');
  std::string done = std::move(out_);
  // clear + push_back rather than = "{": GCC 12's -O3 reports a false -Wrestrict overlap for the
  // assignment of a literal to a moved-from string (a Release build with -Werror fails on it).
  out_.clear();
  out_.push_back('{');
  return done;
}

std::optional<model::Level> level_from_number(std::int64_t n) {
  if (n >= 0 && n <= 7) return model::level_from_syslog_severity(n);
  if (n < 10 || n >= 70) return std::nullopt;
  static constexpr model::Level by_decade[] = {model::Level::trace, model::Level::debug,
                                               model::Level::info,  model::Level::warning,
                                               model::Level::error, model::Level::fatal};
  return by_decade[n / 10 - 1];
}

std::optional<std::string> timestamp(element value, core::Micros& out) {
  core::Micros ts = 0;
  if (value.is_string()) {
    auto parsed = core::parse_rfc3339(value.get_string().value_unsafe());
    if (!parsed) return "not an RFC 3339 timestamp";
    ts = *parsed;
  } else if (value.is_int64()) {
    ts = core::micros_from_epoch_number(value.get_int64().value_unsafe());
  } else if (value.is_number()) {
    const double n = value.get_double().value_unsafe();
    if (!(std::abs(n) < 1e20)) return "out of range";  // also NaN; beyond any epoch unit
    ts = core::micros_from_epoch_number(n);
  } else {
    return "not a timestamp (RFC 3339 text or an epoch number)";
  }
  if (ts < json::kMinTs || ts > json::kMaxTs) return "out of range (years 1-9999)";
  out = ts;
  return std::nullopt;
}

std::optional<std::string> map(object doc, const DecodeOptions& options, model::Record& out,
                               Attrs& attrs, bool message_optional) {
  Candidates c;
  for (auto member : doc)
    classify(member.key, member.value, c, attrs);

  if (c.message.priority == 0 || c.message.value.is_null()) {
    if (!message_optional) return std::string("no message: the document needs message, msg or log");
  } else if (c.message.value.is_string()) {
    out.message = c.message.value.get_string().value_unsafe();
  } else {
    out.message = simdjson::minify(c.message.value);  // what was sent, not lost
  }
  if (out.message.empty() && !message_optional) return fmt::format("[{}] is empty", c.message.key);
  if (out.message.size() > options.max_message_bytes)
    return fmt::format("[{}] is longer than {} bytes", c.message.key, options.max_message_bytes);

  if (c.ts.priority > 0 && !c.ts.value.is_null()) {
    if (auto why = timestamp(c.ts.value, out.ts))
      return fmt::format("failed to parse field [{}]: {}", c.ts.key, *why);
  }
  if (c.level.priority > 0 && !c.level.value.is_null()) {
    if (auto level = level_of(c.level.value)) {
      out.level = *level;
    } else {
      attrs.add(c.level.key, c.level.value);  // a level of its own; INFO stays, nothing is lost
    }
  }
  if (auto why = set_name(c.host, options, out.host, attrs)) return why;
  if (auto why = set_name(c.service, options, out.service, attrs)) return why;
  if (c.device_id.priority > 0 && c.device_id.value.is_int64()) {
    out.device_id = simdjson::minify(c.device_id.value);
  } else if (auto why = set_name(c.device_id, options, out.device_id, attrs)) {
    return why;
  }
  return std::nullopt;
}

}  // namespace logpipe::ingest::document
