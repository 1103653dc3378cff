// An alert rule (table alert_rules, migration 0006): what to count, when to fire, whom to tell.
//
// Kinds: threshold (at least `threshold` records match `filter` within `window_seconds`), absence
// (no record matches `filter` for `window_seconds`: "a device went silent") and match (every
// matching record fires; the alert resolves `window_seconds` after the last one). `group_by`
// splits a rule into one alert per distinct value tuple (absence per device_id: each device on
// its own); `cooldown_seconds` is how long the condition must stay clear before a firing alert
// resolves, so a storm with pauses shorter than it sends one firing and one resolved notification
// (alerts/episode.hpp).
//
// The body of POST and PUT /api/v1/alerts/rules is parsed here, so that the API, the command
// line's --file and the fuzz target share one validation: every error is Errc::invalid_field
// naming the field ("window_seconds must be …", "filter.level must be a level …", "notify[1].url
// …"); an unknown key is one too (a typo must not silently do nothing).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alerts/notification.hpp"
#include "core/result.hpp"
#include "model/record.hpp"
#include "query/logs.hpp"

namespace logpipe::alerts {

enum class Kind { threshold, absence, match };
std::string_view to_string(Kind kind);
std::optional<Kind> parse_kind(std::string_view text);

// The record fields a rule may group by.
inline constexpr std::string_view kGroupByFields[] = {"device_id", "service", "app", "host"};

// A rule's notification targets are the notifier's (notification.hpp); a rule holds one secret
// for all its webhooks.
using TargetType = Target::Type;
std::optional<TargetType> parse_target_type(std::string_view text);

inline constexpr std::int64_t kMaxWindowSeconds = 86'400;
inline constexpr std::int64_t kMaxCooldownSeconds = 86'400;
inline constexpr std::int64_t kDefaultCooldownSeconds = 300;
inline constexpr std::size_t kMaxTargets = 10;
inline constexpr std::size_t kMaxNameChars = 200;
// The window when none is given: threshold 60 s (seed 002's), absence 300 s, match 60 s.
std::int64_t default_window_seconds(Kind kind);

struct Rule {
  std::int64_t id = 0;  // 0 until stored
  model::TenantId tenant = model::kDefaultTenant;
  std::string name;
  Kind kind = Kind::threshold;
  // The filter as given, as a JSON object of the search's parameter names: a string each, or an
  // array of strings for a repeated parameter ({"level":["ERROR","FATAL"]}). Stored as it is.
  std::string filter_json = "{}";
  query::LogFilter filter;                // parsed from filter_json, for the tenant
  std::optional<std::int64_t> threshold;  // threshold rules only
  std::int64_t window_seconds = 60;
  std::vector<std::string> group_by;  // of kGroupByFields, no duplicates
  std::int64_t cooldown_seconds = kDefaultCooldownSeconds;
  std::vector<Target> notify;
  std::string secret;  // HMAC-SHA256 key of webhook signatures; never shown by a read
  bool enabled = true;
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by name
  core::Micros created_at = 0, updated_at = 0;
};

// The filter's parameters in the search's names, in the object's order, an array as repeated
// parameters. Errc::invalid_field naming "filter" or "filter.<key>".
core::Result<query::Params> filter_params(std::string_view filter_json);

// POST (no `existing`) and PUT (`existing`: the stored rule) bodies. PUT replaces the rule: a
// field left out takes its default, as in a POST, except `secret`, which is write-only and so
// cannot be sent back: left out, the existing one stays; a string (16-256 characters) replaces
// it; null generates a new one (rotation). A POST without one generates it. `secret_changed` (when
// given) tells whether the answer must show the new secret.
core::Result<Rule> parse_rule(std::string_view body, model::TenantId tenant,
                              const Rule* existing = nullptr, bool* secret_changed = nullptr);

// The rule as the API shows it: every field but the secret, which only `with_secret` adds (the
// answer of a create or a rotation).
std::string rule_json(const Rule& rule, bool with_secret = false);
// A JSON array of targets ({"type":…,"url":…}), as stored in alert_rules.notify.
std::string targets_json(const std::vector<Target>& targets);
// A JSON object of labels, as stored in alert_rules.labels.
std::string labels_json(const std::vector<std::pair<std::string, std::string>>& labels);

}  // namespace logpipe::alerts
