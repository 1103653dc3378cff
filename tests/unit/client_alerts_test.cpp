#include <gtest/gtest.h>

#include "alerts/rule.hpp"
#include "client/alerts.hpp"

namespace logpipe::client {
namespace {

TEST(ClientAlerts, FlagsBecomeTheApisBody) {
  AlertsCommandLine line;
  line.name = "payment-service burst";
  line.kind = "threshold";
  line.filters = {"service=payment-service", "level=ERROR", "level=FATAL", "attrs.region=eu"};
  line.threshold = 5;
  line.window = "1m";
  line.cooldown = "300";
  line.group_by = {"host"};
  line.webhooks = {"https://hooks.example.com/a"};
  line.alertmanagers = {"http://127.0.0.1:9093"};
  line.labels = {"severity=critical"};
  auto body = alert_rule_body(line);
  ASSERT_TRUE(body) << body.error().message;
  EXPECT_EQ(*body,
            R"({"name":"payment-service burst","kind":"threshold","filter":{"service":)"
            R"("payment-service","level":["ERROR","FATAL"],"attrs.region":"eu"},"threshold":5,)"
            R"("window_seconds":60,"cooldown_seconds":300,"group_by":["host"],"notify":[{"type":)"
            R"("webhook","url":"https://hooks.example.com/a"},{"type":"alertmanager","url":)"
            R"("http://127.0.0.1:9093"}],"labels":{"severity":"critical"}})");
  // The server's own validation accepts what the flags build.
  auto rule = alerts::parse_rule(*body, 1);
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(rule->filter.levels.size(), 2U);

  line.rotate_secret = true;
  line.disabled = true;
  body = alert_rule_body(line);
  ASSERT_TRUE(body);
  EXPECT_NE(body->find(R"("secret":null,"enabled":false})"), std::string::npos) << *body;
}

TEST(ClientAlerts, UsageErrors) {
  AlertsCommandLine line;
  EXPECT_FALSE(alert_rule_body(line));  // no --name
  line.name = "x";
  EXPECT_FALSE(alert_rule_body(line));  // no --kind
  line.kind = "match";
  EXPECT_TRUE(alert_rule_body(line));
  for (const char* bad : {"60x", "-5", "m"}) {
    line.window = bad;
    auto body = alert_rule_body(line);
    ASSERT_FALSE(body) << bad;
    EXPECT_NE(body.error().message.find("--window"), std::string::npos);
  }
  line.window.clear();
  line.filters = {"level"};
  EXPECT_FALSE(alert_rule_body(line));
  line.filters.clear();
  line.labels = {"=x"};
  EXPECT_FALSE(alert_rule_body(line));
  line.labels.clear();
  line.file = "rule.json";
  auto both = alert_rule_body(line);
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message.find("--file"), std::string::npos);
}

TEST(ClientAlerts, Rows) {
  auto rule = alert_rule_row(
      R"({"id":4,"name":"bad\u001bname","kind":"absence","filter":{},"threshold":null,)"
      R"("window_seconds":300,"group_by":["device_id","app"],"cooldown_seconds":300,)"
      R"("notify":[{"type":"slack","url":"https://x"}],"labels":{},"enabled":false})");
  ASSERT_TRUE(rule) << rule.error().message;
  EXPECT_EQ(*rule,
            "4 absence bad\\x1bname disabled window=300s group_by=device_id,app filter={} "
            "notify=slack\n");
  EXPECT_FALSE(alert_rule_row(R"({"id":4})"));
  EXPECT_FALSE(alert_rule_row("[]"));

  auto event = alert_event_row(
      R"({"id":1,"rule_id":null,"rule_name":"r","group":{"device_id":"d7"},"state":"resolved",)"
      R"("fired_at":"2026-11-26T20:00:00.000000Z","resolved_at":"2026-11-26T20:05:00.000000Z",)"
      R"("count":3,"sample":null,"last_notified_at":null,"deliveries":[{"transition":"firing",)"
      R"("type":"webhook","url":"http://h/x","attempts":3,"ok":true,"last_status":200,)"
      R"("last_error":null,"last_at":"2026-11-26T20:00:01.000000Z"}]})");
  ASSERT_TRUE(event) << event.error().message;
  EXPECT_EQ(*event,
            "2026-11-26T20:00:00.000000Z resolved r #- group={\"device_id\":\"d7\"} count=3 "
            "resolved=2026-11-26T20:05:00.000000Z [firing webhook http://h/x 3x ok 200]\n");
}

}  // namespace
}  // namespace logpipe::client
