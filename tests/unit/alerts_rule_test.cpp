#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "alerts/rule.hpp"
#include "alerts/store.hpp"

namespace logpipe::alerts {
namespace {

// The 422's field (the first detail's), or "" when the body was accepted or refused otherwise.
std::string refused_field(std::string_view body, const Rule* existing = nullptr) {
  auto rule = parse_rule(body, 3, existing);
  if (rule || rule.error().code != core::Errc::invalid_field || rule.error().details.empty())
    return rule ? "" : "(" + rule.error().message + ")";
  const auto& field = rule.error().details.front().field;
  // The message names the field first, as the query parameters' do.
  EXPECT_EQ(rule.error().message.rfind(field + " ", 0), 0U) << rule.error().message;
  return field;
}

std::string with(std::string_view members) {
  return R"({"name":"r","kind":"match")" + std::string(members.empty() ? "" : ",") +
         std::string(members) + "}";
}

TEST(AlertRule, SeedRulesParse) {
  auto errors = parse_rule(
      R"({"name":"error burst","kind":"threshold","filter":{"level":"ERROR"},"threshold":10,)"
      R"("window_seconds":60,"notify":[{"type":"webhook","url":"https://hooks.example.com/a"}]})",
      3);
  ASSERT_TRUE(errors) << errors.error().message;
  EXPECT_EQ(errors->name, "error burst");
  EXPECT_EQ(errors->kind, Kind::threshold);
  EXPECT_EQ(errors->threshold, 10);
  EXPECT_EQ(errors->window_seconds, 60);
  EXPECT_EQ(errors->cooldown_seconds, 300);
  EXPECT_EQ(errors->tenant, 3);
  EXPECT_EQ(errors->filter.tenant, 3);
  ASSERT_EQ(errors->filter.levels.size(), 1U);
  EXPECT_EQ(errors->filter.levels[0], model::Level::error);
  EXPECT_EQ(errors->filter_json, R"({"level":"ERROR"})");
  ASSERT_EQ(errors->notify.size(), 1U);
  EXPECT_EQ(errors->notify[0].type, TargetType::webhook);
  EXPECT_TRUE(errors->enabled);
  EXPECT_EQ(errors->secret.size(), 43U);  // 256 random bits, base64url

  auto payments =
      parse_rule(R"({"name":"payments","kind":"threshold","filter":{"service":"payment-service"},)"
                 R"("threshold":5})",
                 3);
  ASSERT_TRUE(payments);
  EXPECT_EQ(payments->filter.service, "payment-service");
  EXPECT_NE(payments->secret, errors->secret);
}

TEST(AlertRule, KindDefaultsAndRequirements) {
  EXPECT_EQ(refused_field(R"({"kind":"match"})"), "name");
  EXPECT_EQ(refused_field(R"({"name":"r"})"), "kind");
  EXPECT_EQ(refused_field(R"({"name":"r","kind":"sometimes"})"), "kind");
  EXPECT_EQ(refused_field(R"({"name":"r","kind":"threshold"})"), "threshold");
  EXPECT_EQ(refused_field(R"({"name":"r","kind":"threshold","threshold":0})"), "threshold");
  EXPECT_EQ(refused_field(R"({"name":"r","kind":"threshold","threshold":"10"})"), "threshold");
  EXPECT_EQ(refused_field(R"({"name":"r","kind":"absence","threshold":3})"), "threshold");
  EXPECT_EQ(refused_field(R"({"name":"r","kind":"match","threshold":3})"), "threshold");
  EXPECT_EQ(refused_field(R"({"name":"r","kind":"absence","threshold":null})"), "");

  auto threshold = parse_rule(R"({"name":"r","kind":"threshold","threshold":1})", 1);
  ASSERT_TRUE(threshold);
  EXPECT_EQ(threshold->window_seconds, 60);
  auto absence = parse_rule(R"({"name":"r","kind":"absence"})", 1);
  ASSERT_TRUE(absence);
  EXPECT_EQ(absence->window_seconds, 300);
  EXPECT_FALSE(absence->threshold);
  EXPECT_TRUE(absence->filter.empty());
  EXPECT_EQ(absence->filter_json, "{}");
  auto match = parse_rule(with(""), 1);
  ASSERT_TRUE(match);
  EXPECT_EQ(match->window_seconds, 60);
  EXPECT_TRUE(match->group_by.empty());
  EXPECT_TRUE(match->notify.empty());
  EXPECT_TRUE(match->labels.empty());
}

TEST(AlertRule, NameBounds) {
  EXPECT_EQ(refused_field(R"({"name":"","kind":"match"})"), "name");
  EXPECT_EQ(refused_field(R"({"name":7,"kind":"match"})"), "name");
  const std::string longest(200, 'n');
  EXPECT_EQ(refused_field(R"({"name":")" + longest + R"(","kind":"match"})"), "");
  EXPECT_EQ(refused_field(R"({"name":")" + longest + R"(n","kind":"match"})"), "name");
  // Characters, not bytes: 200 two-byte characters fit.
  std::string accents;
  for (int i = 0; i < 200; ++i)
    accents += "é";
  EXPECT_EQ(refused_field(R"({"name":")" + accents + R"(","kind":"match"})"), "");
}

TEST(AlertRule, WindowAndCooldownBounds) {
  EXPECT_EQ(refused_field(with(R"("window_seconds":0)")), "window_seconds");
  EXPECT_EQ(refused_field(with(R"("window_seconds":1)")), "");
  EXPECT_EQ(refused_field(with(R"("window_seconds":86400)")), "");
  EXPECT_EQ(refused_field(with(R"("window_seconds":86401)")), "window_seconds");
  EXPECT_EQ(refused_field(with(R"("window_seconds":1.5)")), "window_seconds");
  EXPECT_EQ(refused_field(with(R"("window_seconds":"60s")")), "window_seconds");
  EXPECT_EQ(refused_field(with(R"("cooldown_seconds":-1)")), "cooldown_seconds");
  EXPECT_EQ(refused_field(with(R"("cooldown_seconds":0)")), "");
  EXPECT_EQ(refused_field(with(R"("cooldown_seconds":86401)")), "cooldown_seconds");
  auto rule = parse_rule(with(R"("window_seconds":600,"cooldown_seconds":0)"), 1);
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->window_seconds, 600);
  EXPECT_EQ(rule->cooldown_seconds, 0);
}

TEST(AlertRule, FilterIsTheSearchsFilter) {
  auto rule =
      parse_rule(with(R"("filter":{"attrs.region":"eu","min_level":"warning","device_id":"d7",)"
                      R"("level":["ERROR","FATAL"],"q":"\"card declined\" refund"})"),
                 1);
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(rule->filter.device_id, "d7");
  ASSERT_EQ(rule->filter.attrs.size(), 1U);
  EXPECT_EQ(rule->filter.attrs[0].first, std::vector<std::string>{"region"});
  EXPECT_EQ(rule->filter.levels,
            (std::vector<model::Level>{model::Level::error, model::Level::fatal}));
  EXPECT_EQ(rule->filter.terms, (std::vector<std::string>{"card declined", "refund"}));

  // The query parser's refusals, named inside the filter.
  EXPECT_EQ(refused_field(with(R"("filter":{"level":"LOUD"})")), "filter.level");
  EXPECT_EQ(refused_field(with(R"("filter":{"min_level":"x"})")), "filter.min_level");
  EXPECT_EQ(refused_field(with(R"("filter":{"servce":"api"})")), "filter.servce");
  EXPECT_EQ(refused_field(with(R"("filter":{"attrs.":"x"})")), "filter.attrs.");
  EXPECT_EQ(refused_field(with(R"("filter":{"device_id":["a","b"]})")), "filter.device_id");
  for (const char* key : {"from", "to", "order", "limit", "cursor"})
    EXPECT_EQ(refused_field(with(fmt::format(R"("filter":{{"{}":"1"}})", key))),
              std::string("filter.") + key);
  EXPECT_EQ(refused_field(with(R"("filter":{"service":5})")), "filter.service");
  EXPECT_EQ(refused_field(with(R"("filter":{"level":[]})")), "filter.level");
  EXPECT_EQ(refused_field(with(R"("filter":{"level":["ERROR",3]})")), "filter.level");
  EXPECT_EQ(refused_field(with(R"("filter":"level=ERROR")")), "filter");
  EXPECT_EQ(refused_field(with(R"("filter":null)")), "filter");
}

TEST(AlertRule, GroupBy) {
  auto rule = parse_rule(with(R"("group_by":["device_id","service","app","host"])"), 1);
  ASSERT_TRUE(rule);
  EXPECT_EQ(rule->group_by.size(), 4U);
  EXPECT_EQ(refused_field(with(R"("group_by":["device_id","device_id"])")), "group_by");
  EXPECT_EQ(refused_field(with(R"("group_by":["level"])")), "group_by");
  EXPECT_EQ(refused_field(with(R"("group_by":"device_id")")), "group_by");
  EXPECT_EQ(refused_field(with(R"("group_by":[1])")), "group_by");
  EXPECT_EQ(refused_field(with(R"("group_by":[])")), "");
}

TEST(AlertRule, NotifyTargets) {
  auto rule =
      parse_rule(with(R"("notify":[{"type":"webhook","url":"https://example.com/hook"},)"
                      R"({"url":"http://127.0.0.1:9093","type":"alertmanager"},)"
                      R"({"type":"slack","url":"https://hooks.slack.com/services/T0/B0/x"}])"),
                 1);
  ASSERT_TRUE(rule) << rule.error().message;
  ASSERT_EQ(rule->notify.size(), 3U);
  EXPECT_EQ(rule->notify[1].type, TargetType::alertmanager);
  EXPECT_EQ(rule->notify[1].url, "http://127.0.0.1:9093");
  // Credentials (sent as Basic authentication) and a query are the notifier's to take apart.
  auto with_extras = parse_rule(
      with(R"("notify":[{"type":"alertmanager","url":"https://u:p@am.example.com:9093"},)"
           R"({"type":"webhook","url":"https://hooks.example.com/in?token=abc&x=1"}])"),
      1);
  ASSERT_TRUE(with_extras) << with_extras.error().message;
  EXPECT_EQ(with_extras->notify[1].url, "https://hooks.example.com/in?token=abc&x=1");

  EXPECT_EQ(refused_field(with(R"("notify":{"type":"webhook"})")), "notify");
  EXPECT_EQ(refused_field(with(R"("notify":["https://example.com"])")), "notify[0]");
  EXPECT_EQ(refused_field(with(R"("notify":[{"type":"email","url":"https://e.com"}])")),
            "notify[0].type");
  EXPECT_EQ(refused_field(with(R"("notify":[{"url":"https://e.com"}])")), "notify[0].type");
  EXPECT_EQ(refused_field(with(R"("notify":[{"type":"slack"}])")), "notify[0].url");
  EXPECT_EQ(refused_field(with(R"("notify":[{"type":"webhook","url":"ftp://e.com/x"}])")),
            "notify[0].url");
  EXPECT_EQ(refused_field(with(R"("notify":[{"type":"webhook","url":"https://"}])")),
            "notify[0].url");
  EXPECT_EQ(refused_field(with(R"("notify":[{"type":"webhook","url":"http://e.com:99999"}])")),
            "notify[0].url");
  EXPECT_EQ(
      refused_field(with(R"("notify":[{"type":"webhook","url":"http://e.com","secret":"x"}])")),
      "notify[0].secret");
  EXPECT_EQ(refused_field(with(R"("notify":[{"type":"webhook","url":"http://a.com"},)"
                               R"({"type":"webhook","url":"mailto:x"}])")),
            "notify[1].url");
  std::string ten, eleven;
  for (int i = 0; i < 11; ++i) {
    const std::string one = R"({"type":"webhook","url":"http://e.com/)" + std::to_string(i) + "\"}";
    if (i < 10) ten += (i ? "," : "") + one;
    eleven += (i ? "," : "") + one;
  }
  EXPECT_EQ(refused_field(with(R"("notify":[)" + ten + "]")), "");
  EXPECT_EQ(refused_field(with(R"("notify":[)" + eleven + "]")), "notify");
}

TEST(AlertRule, Labels) {
  auto rule = parse_rule(with(R"("labels":{"team":"payments","severity":"critical"})"), 1);
  ASSERT_TRUE(rule);
  ASSERT_EQ(rule->labels.size(), 2U);
  EXPECT_EQ(rule->labels[0].first, "severity");  // sorted by name
  EXPECT_EQ(labels_json(rule->labels), R"({"severity":"critical","team":"payments"})");
  EXPECT_EQ(refused_field(with(R"("labels":{"severity":3})")), "labels.severity");
  EXPECT_EQ(refused_field(with(R"("labels":{"severity":null})")), "labels.severity");
  EXPECT_EQ(refused_field(with(R"("labels":{"bad-name":"x"})")), "labels.bad-name");
  EXPECT_EQ(refused_field(with(R"("labels":{"1x":"x"})")), "labels.1x");
  EXPECT_EQ(refused_field(with(R"("labels":{"a":"x","a":"y"})")), "labels.a");
  EXPECT_EQ(refused_field(with(R"("labels":["severity"])")), "labels");
}

TEST(AlertRule, EnabledAndUnknownKeys) {
  auto rule = parse_rule(with(R"("enabled":false)"), 1);
  ASSERT_TRUE(rule);
  EXPECT_FALSE(rule->enabled);
  EXPECT_EQ(refused_field(with(R"("enabled":"no")")), "enabled");
  EXPECT_EQ(refused_field(with(R"("treshold":10)")), "treshold");
  EXPECT_EQ(refused_field(with(R"("window":60)")), "window");
  // What GET shows may be sent back.
  EXPECT_EQ(refused_field(with(R"("id":4,"created_at":"x","updated_at":"y")")), "");
}

TEST(AlertRule, BodyShape) {
  auto bad_json = parse_rule("{\"name\":", 1);
  ASSERT_FALSE(bad_json);
  EXPECT_EQ(bad_json.error().code, core::Errc::malformed);
  auto array = parse_rule("[]", 1);
  ASSERT_FALSE(array);
  EXPECT_EQ(array.error().code, core::Errc::invalid_field);
}

TEST(AlertRule, SecretCreateReplaceRotate) {
  EXPECT_EQ(refused_field(with(R"("secret":"short")")), "secret");
  EXPECT_EQ(refused_field(with(R"("secret":12345678901234567)")), "secret");
  EXPECT_EQ(refused_field(with(R"("secret":")" + std::string(257, 's') + "\"")), "secret");
  bool changed = false;
  auto given = parse_rule(with(R"("secret":"0123456789abcdef")"), 1, nullptr, &changed);
  ASSERT_TRUE(given);
  EXPECT_EQ(given->secret, "0123456789abcdef");
  EXPECT_TRUE(changed);

  Rule existing;
  existing.id = 9;
  existing.secret = "kept-secret-0123456789";
  existing.created_at = 42;
  auto kept = parse_rule(with(""), 1, &existing, &changed);
  ASSERT_TRUE(kept);
  EXPECT_FALSE(changed);
  EXPECT_EQ(kept->secret, existing.secret);
  EXPECT_EQ(kept->id, 9);
  EXPECT_EQ(kept->created_at, 42);
  auto rotated = parse_rule(with(R"("secret":null)"), 1, &existing, &changed);
  ASSERT_TRUE(rotated);
  EXPECT_TRUE(changed);
  EXPECT_EQ(rotated->secret.size(), 43U);
  EXPECT_NE(rotated->secret, existing.secret);
}

TEST(AlertRule, JsonRoundTripAndSecretWriteOnly) {
  auto rule =
      parse_rule(R"({"name":"silent devices","kind":"absence","filter":{"app":"fleet"},)"
                 R"("group_by":["device_id"],"labels":{"severity":"warning"},)"
                 R"("notify":[{"type":"slack","url":"https://hooks.slack.com/services/T/B/X"}]})",
                 1);
  ASSERT_TRUE(rule);
  const std::string shown = rule_json(*rule);
  EXPECT_EQ(shown.find("secret"), std::string::npos) << shown;
  EXPECT_EQ(shown.find(rule->secret), std::string::npos);
  EXPECT_NE(shown.find(R"("threshold":null)"), std::string::npos) << shown;
  const std::string once = rule_json(*rule, true);
  EXPECT_NE(once.find(rule->secret), std::string::npos);
  auto again = parse_rule(once, 1);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(rule_json(*again, true), once);
}

TEST(AlertEvents, QueryParameters) {
  auto q = parse_event_query({{"rule_id", "5"}, {"state", "resolved"}, {"limit", "7"}}, 2);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->tenant, 2);
  EXPECT_EQ(q->rule_id, 5);
  EXPECT_EQ(q->state, State::resolved);
  EXPECT_EQ(q->limit, 7);
  const auto field = [](query::Params params) {
    auto r = parse_event_query(params, 1);
    return r ? std::string() : r.error().details.at(0).field;
  };
  EXPECT_EQ(field({{"rule_id", "0"}}), "rule_id");
  EXPECT_EQ(field({{"state", "open"}}), "state");
  EXPECT_EQ(field({{"limit", "0"}}), "limit");
  EXPECT_EQ(field({{"cursor", "!"}}), "cursor");
  EXPECT_EQ(field({{"level", "ERROR"}}), "level");
  EXPECT_EQ(parse_rule_id("12").value(), 12);
  EXPECT_FALSE(parse_rule_id("0"));
  EXPECT_FALSE(parse_rule_id("x"));
}

}  // namespace
}  // namespace logpipe::alerts
