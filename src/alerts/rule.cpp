#include "alerts/rule.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <map>

#include "alerts/payload.hpp"
#include "auth/keys.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace logpipe::alerts {
namespace {

using simdjson::dom::element;

constexpr std::size_t kMaxFilterKeys = 32;
constexpr std::size_t kMaxLabels = 32;
constexpr std::size_t kMaxLabelValueBytes = 1024;
constexpr std::size_t kMaxUrlBytes = 2048;
constexpr std::size_t kMinSecretChars = 16;
constexpr std::size_t kMaxSecretChars = 256;
constexpr std::int64_t kMaxThreshold = 1'000'000'000;

core::Error field_error(std::string_view field, std::string message) {
  return query::invalid_param(field, std::move(message));
}

// Code points, not bytes: a name's limit is what a user counts.
std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// The query module's error about parameter `p` as one about field "filter.p".
core::Error in_filter(const core::Error& error) {
  if (error.details.empty()) return field_error("filter", error.message);
  const auto& d = error.details.front();
  return field_error("filter." + d.field, d.message);
}

core::Result<std::int64_t> integer_in(std::string_view field, element value, std::int64_t min,
                                      std::int64_t max) {
  std::int64_t n = 0;
  if (value.get_int64().get(n) != simdjson::SUCCESS || n < min || n > max)
    return field_error(field, fmt::format("must be an integer from {} to {}", min, max));
  return n;
}

// Alertmanager's (Prometheus') label names.
bool label_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

core::Status parse_filter(element value, Rule& rule) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS)
    return field_error("filter",
                       "must be an object of the search's filters, e.g. {\"level\":\"ERROR\"}");
  if (object.size() > kMaxFilterKeys)
    return field_error("filter", fmt::format("has more than {} keys", kMaxFilterKeys));
  rule.filter_json = simdjson::minify(value);
  auto params = filter_params(rule.filter_json);
  if (!params) return params.error();
  auto filter = query::parse_log_filter(*params, rule.tenant, 0);
  if (!filter) return in_filter(filter.error());
  rule.filter = std::move(filter).value();
  return {};
}

core::Status parse_group_by(element value, Rule& rule) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS)
    return field_error("group_by", "must be an array of device_id, service, app, host");
  rule.group_by.clear();
  for (auto item : array) {
    std::string_view name;
    if (item.get_string().get(name) != simdjson::SUCCESS ||
        std::find(std::begin(kGroupByFields), std::end(kGroupByFields), name) ==
            std::end(kGroupByFields))
      return field_error("group_by", "must be an array of device_id, service, app, host");
    if (std::find(rule.group_by.begin(), rule.group_by.end(), name) != rule.group_by.end())
      return field_error("group_by", fmt::format("names {} twice", name));
    rule.group_by.emplace_back(name);
  }
  return {};
}

core::Status parse_notify(element value, Rule& rule) {
  simdjson::dom::array array;
  if (value.get_array().get(array) != simdjson::SUCCESS)
    return field_error("notify", "must be an array of targets ({\"type\":…,\"url\":…})");
  if (array.size() > kMaxTargets)
    return field_error("notify", fmt::format("has more than {} targets", kMaxTargets));
  rule.notify.clear();
  std::size_t i = 0;
  for (auto item : array) {
    const std::string at = fmt::format("notify[{}]", i++);
    simdjson::dom::object object;
    if (item.get_object().get(object) != simdjson::SUCCESS)
      return field_error(at, "must be an object {\"type\":…,\"url\":…}");
    std::optional<TargetType> type;
    std::optional<std::string> url;
    for (auto [key, member] : object) {
      std::string_view text;
      if (key == "type") {
        if (member.get_string().get(text) == simdjson::SUCCESS) type = parse_target_type(text);
        if (!type) return field_error(at + ".type", "must be webhook, slack or alertmanager");
      } else if (key == "url") {
        if (member.get_string().get(text) != simdjson::SUCCESS || text.size() > kMaxUrlBytes)
          return field_error(at + ".url", "must be an http:// or https:// URL");
        url = std::string(text);
      } else {
        return field_error(fmt::format("{}.{}", at, key), "is not a field of a target (type, url)");
      }
    }
    if (!type) return field_error(at + ".type", "is required (webhook, slack or alertmanager)");
    if (!url) return field_error(at + ".url", "is required");
    // As the notifier will take it: credentials and a query are allowed.
    if (auto usable = target_endpoint({*type, *url, {}}); !usable)
      return field_error(at + ".url", usable.error().message);
    rule.notify.push_back({*type, std::move(*url), {}});
  }
  return {};
}

core::Status parse_labels(element value, Rule& rule) {
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS)
    return field_error("labels", "must be an object of strings, e.g. {\"severity\":\"critical\"}");
  if (object.size() > kMaxLabels)
    return field_error("labels", fmt::format("has more than {} labels", kMaxLabels));
  std::map<std::string, std::string, std::less<>> labels;
  for (auto [key, member] : object) {
    const std::string field = fmt::format("labels.{}", key);
    if (!label_name(key))
      return field_error(field, "is not a label name (letters, digits and _, not first a digit)");
    std::string_view text;
    if (member.get_string().get(text) != simdjson::SUCCESS)
      return field_error(field, "must be a string");
    if (text.size() > kMaxLabelValueBytes)
      return field_error(field, fmt::format("is longer than {} bytes", kMaxLabelValueBytes));
    if (!labels.emplace(key, text).second) return field_error(field, "is given twice");
  }
  rule.labels.assign(labels.begin(), labels.end());
  return {};
}

}  // namespace

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::threshold:
      return "threshold";
    case Kind::absence:
      return "absence";
    case Kind::match:
      return "match";
  }
  return "threshold";
}

std::optional<Kind> parse_kind(std::string_view text) {
  if (text == "threshold") return Kind::threshold;
  if (text == "absence") return Kind::absence;
  if (text == "match") return Kind::match;
  return std::nullopt;
}

std::optional<TargetType> parse_target_type(std::string_view text) {
  if (text == "webhook") return TargetType::webhook;
  if (text == "slack") return TargetType::slack;
  if (text == "alertmanager") return TargetType::alertmanager;
  return std::nullopt;
}

std::int64_t default_window_seconds(Kind kind) {
  return kind == Kind::absence ? 300 : 60;
}

core::Result<query::Params> filter_params(std::string_view filter_json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(filter_json.data(), filter_json.size()).get(object) != simdjson::SUCCESS)
    return field_error("filter", "must be a JSON object");
  query::Params params;
  for (auto [key, value] : object) {
    const std::string field = fmt::format("filter.{}", key);
    std::string_view text;
    simdjson::dom::array array;
    if (value.get_string().get(text) == simdjson::SUCCESS) {
      params.emplace_back(key, text);
    } else if (value.get_array().get(array) == simdjson::SUCCESS && array.size() > 0) {
      for (auto item : array) {
        if (item.get_string().get(text) != simdjson::SUCCESS)
          return field_error(field, "must be a string or an array of strings");
        params.emplace_back(key, text);
      }
    } else {
      return field_error(field, "must be a string or an array of strings");
    }
  }
  return params;
}

core::Result<Rule> parse_rule(std::string_view body, model::TenantId tenant, const Rule* existing,
                              bool* secret_changed) {
  simdjson::dom::parser parser;
  element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS)
    return core::make_error(core::Errc::malformed, "malformed JSON");
  simdjson::dom::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS)
    return core::make_error(core::Errc::invalid_field, "body must be a JSON object");

  Rule rule;
  rule.tenant = tenant;
  if (existing) {
    rule.id = existing->id;
    rule.created_at = existing->created_at;
    rule.secret = existing->secret;
  }
  bool has_name = false, has_kind = false, has_window = false, has_filter = false;
  bool new_secret = !existing;
  std::optional<element> threshold;
  for (auto [key, value] : object) {
    std::string_view text;
    if (key == "name") {
      if (value.get_string().get(text) != simdjson::SUCCESS || text.empty() ||
          utf8_length(text) > kMaxNameChars)
        return field_error(key, fmt::format("must be a string of 1-{} characters", kMaxNameChars));
      rule.name = std::string(text);
      has_name = true;
    } else if (key == "kind") {
      std::optional<Kind> kind;
      if (value.get_string().get(text) == simdjson::SUCCESS) kind = parse_kind(text);
      if (!kind) return field_error(key, "must be threshold, absence or match");
      rule.kind = *kind;
      has_kind = true;
    } else if (key == "filter") {
      if (auto ok = parse_filter(value, rule); !ok) return ok.error();
      has_filter = true;
    } else if (key == "threshold") {
      if (!value.is_null()) threshold = value;
    } else if (key == "window_seconds") {
      auto n = integer_in(key, value, 1, kMaxWindowSeconds);
      if (!n) return n.error();
      rule.window_seconds = *n;
      has_window = true;
    } else if (key == "group_by") {
      if (auto ok = parse_group_by(value, rule); !ok) return ok.error();
    } else if (key == "cooldown_seconds") {
      auto n = integer_in(key, value, 0, kMaxCooldownSeconds);
      if (!n) return n.error();
      rule.cooldown_seconds = *n;
    } else if (key == "notify") {
      if (auto ok = parse_notify(value, rule); !ok) return ok.error();
    } else if (key == "secret") {
      if (value.is_null()) {
        rule.secret.clear();
        new_secret = true;
      } else if (value.get_string().get(text) != simdjson::SUCCESS ||
                 text.size() < kMinSecretChars || text.size() > kMaxSecretChars) {
        return field_error(key,
                           fmt::format("must be a string of {}-{} characters, or null for a new "
                                       "random one",
                                       kMinSecretChars, kMaxSecretChars));
      } else {
        rule.secret = std::string(text);
        new_secret = true;
      }
    } else if (key == "enabled") {
      bool enabled = true;
      if (value.get_bool().get(enabled) != simdjson::SUCCESS)
        return field_error(key, "must be true or false");
      rule.enabled = enabled;
    } else if (key == "labels") {
      if (auto ok = parse_labels(value, rule); !ok) return ok.error();
    } else if (key == "id" || key == "created_at" || key == "updated_at") {
      // Read-only: a rule read with GET may be sent back with PUT as it is.
    } else {
      return field_error(key,
                         "is not a field of an alert rule (name, kind, filter, threshold, "
                         "window_seconds, group_by, cooldown_seconds, notify, secret, enabled, "
                         "labels)");
    }
  }
  if (!has_name) return field_error("name", "is required");
  if (!has_kind) return field_error("kind", "is required (threshold, absence or match)");
  if (!has_filter) rule.filter.tenant = tenant;
  if (rule.kind == Kind::threshold) {
    if (!threshold)
      return field_error("threshold", "is required for a threshold rule (fire at count ≥ it)");
    auto n = integer_in("threshold", *threshold, 1, kMaxThreshold);
    if (!n) return n.error();
    rule.threshold = *n;
  } else if (threshold) {
    return field_error("threshold", fmt::format("applies to threshold rules only, not to {} rules",
                                                to_string(rule.kind)));
  }
  if (!has_window) rule.window_seconds = default_window_seconds(rule.kind);
  if (new_secret && rule.secret.empty()) rule.secret = auth::random_secret();
  if (secret_changed) *secret_changed = new_secret;
  return rule;
}

std::string targets_json(const std::vector<Target>& targets) {
  core::JsonWriter w;
  w.begin_array();
  for (const auto& t : targets)
    w.begin_object().field("type", to_string(t.type)).field("url", t.url).end_object();
  return w.end_array().take();
}

std::string labels_json(const std::vector<std::pair<std::string, std::string>>& labels) {
  core::JsonWriter w;
  w.begin_object();
  for (const auto& [name, value] : labels)
    w.field(name, value);
  return w.end_object().take();
}

std::string rule_json(const Rule& rule, bool with_secret) {
  core::JsonWriter w;
  w.begin_object()
      .field("id", rule.id)
      .field("name", rule.name)
      .field("kind", to_string(rule.kind))
      .key("filter")
      .raw(rule.filter_json)
      .key("threshold");
  if (rule.threshold) {
    w.value(*rule.threshold);
  } else {
    w.null();
  }
  w.field("window_seconds", rule.window_seconds).key("group_by").begin_array();
  for (const auto& g : rule.group_by)
    w.value(g);
  w.end_array()
      .field("cooldown_seconds", rule.cooldown_seconds)
      .key("notify")
      .raw(targets_json(rule.notify))
      .key("labels")
      .raw(labels_json(rule.labels))
      .field("enabled", rule.enabled)
      .field("created_at", core::format_rfc3339(rule.created_at))
      .field("updated_at", core::format_rfc3339(rule.updated_at));
  if (with_secret) w.field("secret", rule.secret);
  return w.end_object().take();
}

}  // namespace logpipe::alerts
