// The notification bodies byte for byte, the signature against a published HMAC test vector,
// the URLs that may be logged.
#include <gtest/gtest.h>

#include "alerts/payload.hpp"
#include "core/base64.hpp"
#include "core/time.hpp"

namespace logpipe::alerts {
namespace {

Notification sample() {
  Notification n;
  n.event_id = 42;
  n.rule_id = 7;
  n.rule_name = "api errors";
  n.kind = "threshold";
  n.tenant = 3;
  n.tenant_name = "acme";
  n.group_labels = {{"service", "api"}};
  n.labels = {{"severity", "critical"}, {"team.name", "core"}};
  n.count = 12;
  n.threshold = 10;
  n.window_seconds = 60;
  n.fired_at = *core::parse_rfc3339("2026-11-26T19:00:00Z");
  n.summary = "12 ERROR logs from api in 60 s";
  n.filter_query = "level=ERROR&service=api";
  n.logs_url = "https://logs.example/api/v1/logs?level=ERROR&service=api";
  return n;
}

Notification resolved() {
  Notification n = sample();
  n.transition = Notification::Transition::resolved;
  n.resolved_at = *core::parse_rfc3339("2026-11-26T19:05:30Z");
  return n;
}

TEST(AlertPayload, Webhook) {
  EXPECT_EQ(webhook_body(sample()),
            R"({"version":"1","event_id":42,"status":"firing",)"
            R"("rule":{"id":7,"name":"api errors","kind":"threshold"},)"
            R"("tenant":{"id":3,"name":"acme"},"group_labels":{"service":"api"},)"
            R"("labels":{"severity":"critical","team.name":"core"},"count":12,"threshold":10,)"
            R"("window_seconds":60,"filter":"level=ERROR&service=api",)"
            R"("fired_at":"2026-11-26T19:00:00.000000Z","resolved_at":null,)"
            R"("summary":"12 ERROR logs from api in 60 s",)"
            R"j("description":"12 logs matching level=ERROR&service=api in 60 s (threshold 10)",)j"
            R"("logs_url":"https://logs.example/api/v1/logs?level=ERROR&service=api",)"
            R"("sample":null})");
}

TEST(AlertPayload, WebhookResolvedWithSample) {
  Notification n = resolved();
  n.kind = "match";
  n.sample_json = R"({"message":"boom \"x\""})";
  const std::string body = webhook_body(n);
  EXPECT_NE(body.find(R"("status":"resolved")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("resolved_at":"2026-11-26T19:05:30.000000Z")"), std::string::npos);
  EXPECT_NE(body.find(R"("description":"12 logs matching level=ERROR&service=api")"),
            std::string::npos);
  EXPECT_TRUE(body.ends_with(R"("sample":{"message":"boom \"x\""}})")) << body;
}

TEST(AlertPayload, Slack) {
  EXPECT_EQ(slack_body(sample()),
            R"({"text":"[FIRING] api errors: 12 ERROR logs from api in 60 s",)"
            R"("attachments":[{"color":"#d40e0d",)"
            R"("fallback":"[FIRING] api errors: 12 ERROR logs from api in 60 s",)"
            R"j("title":"api errors (threshold)",)j"
            R"("title_link":"https://logs.example/api/v1/logs?level=ERROR&service=api",)"
            R"j("text":"12 logs matching level=ERROR&amp;service=api in 60 s (threshold 10)",)j"
            R"("fields":[{"title":"Status","value":"firing","short":true},)"
            R"({"title":"Tenant","value":"acme","short":true},)"
            R"({"title":"Group","value":"service=api","short":true},)"
            R"({"title":"Labels","value":"severity=critical, team.name=core","short":true},)"
            R"({"title":"Fired at","value":"2026-11-26T19:00:00.000000Z","short":true}],)"
            R"("footer":"logpipe","ts":1795719600}]})");
}

TEST(AlertPayload, SlackResolvedIsGreenAndEscaped) {
  Notification n = resolved();
  n.summary = "<!channel> & co";
  const std::string body = slack_body(n);
  EXPECT_NE(body.find(R"("text":"[RESOLVED] api errors: &lt;!channel&gt; &amp; co")"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find(R"("color":"#2eb886")"), std::string::npos);
  EXPECT_NE(body.find(R"({"title":"Resolved at","value":"2026-11-26T19:05:30.000000Z")"),
            std::string::npos);
}

TEST(AlertPayload, Alertmanager) {
  EXPECT_EQ(alertmanager_body(sample()),
            R"([{"labels":{"alertname":"api errors","logpipe_rule_id":"7","tenant":"acme",)"
            R"("service":"api","severity":"critical","team_name":"core"},)"
            R"("annotations":{"summary":"12 ERROR logs from api in 60 s",)"
            R"j("description":"12 logs matching level=ERROR&service=api in 60 s (threshold 10)",)j"
            R"("logs_url":"https://logs.example/api/v1/logs?level=ERROR&service=api"},)"
            R"("startsAt":"2026-11-26T19:00:00.000000Z",)"
            R"("generatorURL":"https://logs.example/api/v1/logs?level=ERROR&service=api"}])");
}

TEST(AlertPayload, AlertmanagerResolvedEndsAndReservedLabelsStay) {
  Notification n = resolved();
  n.labels = {{"alertname", "spoofed"}, {"9lives", "x"}, {"empty", ""}};
  n.logs_url.clear();
  const std::string body = alertmanager_body(n);
  EXPECT_NE(body.find(R"("alertname":"api errors")"), std::string::npos) << body;
  EXPECT_EQ(body.find("spoofed"), std::string::npos);
  EXPECT_NE(body.find(R"("_9lives":"x")"), std::string::npos);
  EXPECT_EQ(body.find("empty"), std::string::npos);
  EXPECT_NE(body.find(R"("endsAt":"2026-11-26T19:05:30.000000Z")"), std::string::npos);
  EXPECT_EQ(body.find("generatorURL"), std::string::npos);
  EXPECT_EQ(body.find("logs_url"), std::string::npos);
}

TEST(AlertPayload, DescribeEachKind) {
  Notification n = sample();
  n.kind = "absence";
  n.filter_query = "device_id=pump-7";
  n.window_seconds = 600;
  EXPECT_EQ(describe(n), "no log matching device_id=pump-7 for 600 s");
  n.kind = "match";
  n.count = 1;
  EXPECT_EQ(describe(n), "1 logs matching device_id=pump-7");
}

TEST(AlertSignature, Rfc4231TestCase2) {
  // RFC 4231, 4.3: key "Jefe".
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(AlertSignature, SignsTimestampDotBody) {
  EXPECT_EQ(signature("Jefe", 1795719600, R"({"a":1})"),
            "sha256=" + hmac_sha256_hex("Jefe", R"(1795719600.{"a":1})"));
  EXPECT_NE(signature("Jefe", 1795719601, R"({"a":1})"),
            signature("Jefe", 1795719600, R"({"a":1})"));
}

TEST(AlertUrls, RedactedWithoutSecrets) {
  EXPECT_EQ(redacted_url("https://hooks.slack.com/services/T000/B000/XXXXSECRET"),
            "https://hooks.slack.com/services/…");
  EXPECT_EQ(redacted_url("http://user:pass@127.0.0.1:9093"), "http://127.0.0.1:9093");
  EXPECT_EQ(redacted_url("https://hooks.example/in?token=abc"), "https://hooks.example/in");
  EXPECT_EQ(redacted_url("https://hooks.example/in/"), "https://hooks.example/in");
  EXPECT_EQ(redacted_url("ftp-like"), "(not a URL)");
}

TEST(AlertUrls, EndpointsTakeCredentialsAndQueryOffTheServersUrl) {
  auto am =
      target_endpoint({Target::Type::alertmanager, "https://u:p%40ss@am.example:9443/am", ""});
  ASSERT_TRUE(am) << am.error().message;
  EXPECT_EQ(am->url.host, "am.example");
  EXPECT_EQ(am->url.port, 9443);
  EXPECT_TRUE(am->url.tls);
  EXPECT_EQ(am->url.base_path, "/am");
  EXPECT_EQ(am->target, "/api/v2/alerts");
  ASSERT_EQ(am->headers.size(), 1U);
  EXPECT_EQ(am->headers[0].second, "Basic " + core::base64_encode("u:p%40ss"));

  auto hook = target_endpoint({Target::Type::webhook, "http://h.example/in?token=abc#frag", ""});
  ASSERT_TRUE(hook) << hook.error().message;
  EXPECT_EQ(hook->url.base_path, "/in");
  EXPECT_EQ(hook->target, "?token=abc");
  EXPECT_TRUE(hook->headers.empty());
  auto bare = target_endpoint({Target::Type::webhook, "http://h.example?x=1", ""});
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->target, "/?x=1");

  EXPECT_FALSE(target_endpoint({Target::Type::webhook, "ftp://h.example/", ""}));
  EXPECT_FALSE(target_endpoint({Target::Type::webhook, "http://u@/x", ""}));
}

TEST(AlertUrls, LabelNames) {
  EXPECT_EQ(label_name("service"), "service");
  EXPECT_EQ(label_name("attrs.region"), "attrs_region");
  EXPECT_EQ(label_name("1st"), "_1st");
  EXPECT_EQ(label_name(""), "_");
}

}  // namespace
}  // namespace logpipe::alerts
