// libFuzzer target: the body of POST and PUT /api/v1/alerts/rules (untrusted JSON), and a stored
// rule's filter. Parsing must never crash; a refusal is a 400 (malformed JSON) or a 422 naming the
// field; what is accepted is within its documented bounds, and its JSON (rule_json with the
// secret, as the store reads it back) parses again to the same rule.
#include <algorithm>
#include <cstdint>
#include <string_view>

#include "alerts/rule.hpp"
#include "check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)alerts::filter_params(body);
  alerts::Rule existing;
  existing.id = 7;
  existing.secret = "0123456789abcdef";
  bool secret_changed = false;
  auto rule = alerts::parse_rule(body, 2, (size & 1) ? &existing : nullptr, &secret_changed);
  if (!rule) {
    const auto& e = rule.error();
    check(e.code == core::Errc::malformed ||
          (e.code == core::Errc::invalid_field &&
           (!e.details.empty() || e.message == "body must be a JSON object")));
    return 0;
  }
  check(!rule->name.empty() && rule->tenant == 2 && rule->filter.tenant == 2);
  check(rule->window_seconds >= 1 && rule->window_seconds <= alerts::kMaxWindowSeconds);
  check(rule->cooldown_seconds >= 0 && rule->cooldown_seconds <= alerts::kMaxCooldownSeconds);
  check((rule->kind == alerts::Kind::threshold) == rule->threshold.has_value());
  check(!rule->threshold || *rule->threshold >= 1);
  check(rule->notify.size() <= alerts::kMaxTargets);
  check(rule->secret.size() >= 16);
  check(!rule->filter.from && !rule->filter.to);
  for (const auto& g : rule->group_by)
    check(std::count(rule->group_by.begin(), rule->group_by.end(), g) == 1);
  auto again = alerts::parse_rule(alerts::rule_json(*rule, true), 2);
  check(again.ok());
  check(again->name == rule->name && again->kind == rule->kind &&
        again->threshold == rule->threshold && again->window_seconds == rule->window_seconds &&
        again->group_by == rule->group_by && again->secret == rule->secret &&
        again->labels == rule->labels && again->notify.size() == rule->notify.size() &&
        again->filter_json == rule->filter_json && again->enabled == rule->enabled);
  return 0;
}
