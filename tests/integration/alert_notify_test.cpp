// Alert notifications against real receivers: a webhook receiver in Node that verifies the
// signature with Node's crypto and answers 500 before 200, a Slack-shaped one, and Prometheus
// Alertmanager started for the test. The notifier runs in this process (the evaluator that
// drives it in logpipe is another piece).
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>
#include <mutex>

#include "alerts/notifier.hpp"
#include "alerts/payload.hpp"
#include "harness.hpp"
#include "metrics/metrics.hpp"

namespace logpipe::test {
namespace {

using alerts::DeliveryAttempt;
using alerts::Notification;
using alerts::Target;

Notification notification(const std::string& tag) {
  Notification n;
  n.event_id = 4242;
  n.rule_id = 17;
  n.rule_name = "api errors " + tag;
  n.kind = "threshold";
  n.tenant = 1;
  n.tenant_name = "default";
  n.group_labels = {{"service", "api"}};
  n.labels = {{"severity", "critical"}};
  n.count = 12;
  n.threshold = 10;
  n.window_seconds = 60;
  n.fired_at = core::now_micros();
  n.summary = "12 ERROR logs from api in 60 s";
  n.filter_query = "level=ERROR&service=api";
  n.logs_url = "http://127.0.0.1:8080/api/v1/logs?level=ERROR&service=api";
  return n;
}

// The attempts a notifier reported, as the evaluator's delivery log would get them.
struct Reports {
  std::mutex mutex;
  std::vector<DeliveryAttempt> attempts;
  alerts::AttemptCallback callback() {
    return [this](const DeliveryAttempt& a) {
      std::lock_guard lock(mutex);
      attempts.push_back(a);
    };
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return attempts.size();
  }
  std::vector<DeliveryAttempt> all() {
    std::lock_guard lock(mutex);
    return attempts;
  }
};

alerts::NotifierOptions fast_retries() {
  alerts::NotifierOptions options;
  options.retry = {.attempts = 5, .first_delay = 300ms, .max_delay = 5s};
  options.timeout = 5s;
  return options;
}

TEST(AlertNotify, WebhookIsSignedAndRetriedUntilAccepted) {
  const unsigned short port = free_port();
  const std::string secret = "whsec-" + unique_tag("alerts");
  auto receiver = start_webhook_receiver(port, secret, "500,500,200", 3);
  metrics::Metrics metrics;
  Reports reports;
  {
    alerts::Notifier notifier(fast_retries(), metrics);
    const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/hooks/logpipe?src=t";
    ASSERT_TRUE(notifier.deliver(notification("webhook"), {{Target::Type::webhook, url, secret}},
                                 reports.callback()));
    const NodeResult result = receiver.get();
    ASSERT_EQ(result.exit_code, 0) << describe(result);
    ASSERT_TRUE(eventually([&] { return reports.size() == 3; }, 10s)) << reports.size();

    simdjson::dom::parser parser;
    const auto requests = parse_json(parser, result.out).get_array();
    ASSERT_EQ(requests.size(), 3U) << result.out;
    std::vector<std::int64_t> at;
    std::string first_body;
    for (auto request : requests) {
      at.push_back(request["at"].get_int64().value());
      EXPECT_EQ(std::string_view(request["method"]), "POST");
      EXPECT_EQ(std::string_view(request["url"]), "/hooks/logpipe?src=t");
      EXPECT_TRUE(bool(request["verified"])) << "signature refused: " << result.out;
      const auto headers = request["headers"];
      EXPECT_EQ(std::string_view(headers["x-logpipe-event-id"]), "4242-firing");
      EXPECT_EQ(std::string_view(headers["content-type"]), "application/json");
      const std::string body{std::string_view(request["body"])};
      if (first_body.empty()) first_body = body;
      EXPECT_EQ(body, first_body);  // the same notification each time, signed anew
    }
    // The backoff doubles (300 ms, then 600 ms): a gap is never shorter than its delay; the
    // upper bound only says it did not stall.
    EXPECT_GE(at[1] - at[0], 290) << result.out;
    EXPECT_GE(at[2] - at[1], 590) << result.out;
    EXPECT_LT(at[2] - at[0], 10'000) << result.out;

    simdjson::dom::parser body_parser;
    const auto body = parse_json(body_parser, first_body);
    EXPECT_EQ(std::string_view(body["status"]), "firing");
    EXPECT_EQ(std::string_view(body["rule"]["name"]), "api errors webhook");
    EXPECT_EQ(std::string_view(body["group_labels"]["service"]), "api");
    EXPECT_EQ(body["count"].get_int64().value(), 12);
  }
  const auto attempts = reports.all();
  ASSERT_EQ(attempts.size(), 3U);
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    const DeliveryAttempt& a = attempts[i];
    EXPECT_EQ(a.attempt, static_cast<int>(i) + 1);
    EXPECT_EQ(a.event_id, 4242);
    EXPECT_EQ(a.transition, Notification::Transition::firing);
    EXPECT_EQ(a.target_type, Target::Type::webhook);
    EXPECT_EQ(a.target_url, "http://127.0.0.1:" + std::to_string(port) + "/hooks/…");
    EXPECT_EQ(a.ok, i == 2);
    EXPECT_EQ(a.status, i == 2 ? 200U : 500U);
    EXPECT_EQ(a.final, i == 2);
    EXPECT_EQ(a.error.empty(), i == 2) << a.error;
  }
  const std::string exposition = metrics.render();
  EXPECT_EQ(metric(exposition, R"(alert_notifications_total{result="retry"})"), 2);
  EXPECT_EQ(metric(exposition, R"(alert_notifications_total{result="ok"})"), 1);
  EXPECT_EQ(metric(exposition, R"(alert_notifications_total{result="failed"})"), 0);
}

TEST(AlertNotify, ClientErrorIsNotRetried) {
  const unsigned short port = free_port();
  auto receiver = start_webhook_receiver(port, "unused", "410", 1);
  metrics::Metrics metrics;
  Reports reports;
  alerts::Notifier notifier(fast_retries(), metrics);
  ASSERT_TRUE(notifier.deliver(
      notification("gone"),
      {{Target::Type::webhook, "http://127.0.0.1:" + std::to_string(port) + "/gone", ""}},
      reports.callback()));
  const NodeResult result = receiver.get();
  ASSERT_EQ(result.exit_code, 0) << describe(result);
  ASSERT_TRUE(eventually([&] { return reports.size() == 1; }, 10s));
  // Longer than the first retry's delay: nothing more comes.
  std::this_thread::sleep_for(800ms);
  const auto attempts = reports.all();
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_FALSE(attempts[0].ok);
  EXPECT_TRUE(attempts[0].final);
  EXPECT_EQ(attempts[0].status, 410U);
  EXPECT_NE(attempts[0].error.find("HTTP 410"), std::string::npos) << attempts[0].error;
  EXPECT_EQ(notifier.pending(), 0U);
  EXPECT_EQ(metric(metrics.render(), R"(alert_notifications_total{result="failed"})"), 1);
}

TEST(AlertNotify, SlackMessageHasSlacksShape) {
  const unsigned short port = free_port();
  auto receiver = start_webhook_receiver(port, "unused", "200", 2, "slack");
  metrics::Metrics metrics;
  Reports reports;
  alerts::Notifier notifier(fast_retries(), metrics);
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/services/T0/B0/XXXX";
  Notification firing = notification("slack");
  ASSERT_TRUE(notifier.deliver(firing, {{Target::Type::slack, url, ""}}, reports.callback()));
  ASSERT_TRUE(eventually([&] { return reports.size() == 1; }, 10s));
  Notification resolved = firing;
  resolved.transition = Notification::Transition::resolved;
  resolved.resolved_at = core::now_micros();
  ASSERT_TRUE(notifier.deliver(resolved, {{Target::Type::slack, url, ""}}, reports.callback()));
  const NodeResult result = receiver.get();
  ASSERT_EQ(result.exit_code, 0) << describe(result);
  ASSERT_TRUE(eventually([&] { return reports.size() == 2; }, 10s));
  for (const auto& a : reports.all()) {
    EXPECT_TRUE(a.ok) << a.error;  // the receiver answers 400 to what Slack would refuse
    EXPECT_EQ(a.target_url, "http://127.0.0.1:" + std::to_string(port) + "/services/…");
  }

  simdjson::dom::parser parser;
  const auto requests = parse_json(parser, result.out).get_array();
  ASSERT_EQ(requests.size(), 2U);
  std::vector<std::string> bodies;
  for (auto request : requests) {
    EXPECT_EQ(request["headers"]["x-logpipe-signature"].error(), simdjson::NO_SUCH_FIELD);
    bodies.emplace_back(std::string_view(request["body"]));
  }
  simdjson::dom::parser first_parser, second_parser;
  const auto first = parse_json(first_parser, bodies[0]);
  EXPECT_EQ(std::string_view(first["text"]),
            "[FIRING] api errors slack: 12 ERROR logs from api in 60 s");
  EXPECT_EQ(std::string_view(first["attachments"].at(0)["color"]), "#d40e0d");
  EXPECT_EQ(std::string_view(first["attachments"].at(0)["title_link"]), firing.logs_url);
  const auto second = parse_json(second_parser, bodies[1]);
  EXPECT_EQ(std::string_view(second["text"]).substr(0, 10), "[RESOLVED]");
  EXPECT_EQ(std::string_view(second["attachments"].at(0)["color"]), "#2eb886");
}

TEST(AlertNotify, AlertmanagerShowsTheAlertUntilResolved) {
  PrivateAlertmanager alertmanager;
  metrics::Metrics metrics;
  Reports reports;
  alerts::Notifier notifier(fast_retries(), metrics);
  Notification firing = notification(unique_tag("am"));
  const std::vector<Target> targets{{Target::Type::alertmanager, alertmanager.url(), ""}};
  ASSERT_TRUE(notifier.deliver(firing, targets, reports.callback()));
  ASSERT_TRUE(eventually([&] { return reports.size() == 1; }, 15s));
  ASSERT_TRUE(reports.all()[0].ok) << reports.all()[0].error;
  EXPECT_EQ(reports.all()[0].status, 200U);

  std::vector<std::string> shown;
  ASSERT_TRUE(eventually(
      [&] {
        shown = alertmanager.alerts_named(firing.rule_name);
        return shown.size() == 1;
      },
      10s))
      << get(alertmanager.port(), "/api/v2/alerts").body;
  simdjson::dom::parser parser;
  const auto alert = parse_json(parser, shown[0]);
  EXPECT_EQ(std::string_view(alert["labels"]["logpipe_rule_id"]), "17");
  EXPECT_EQ(std::string_view(alert["labels"]["tenant"]), "default");
  EXPECT_EQ(std::string_view(alert["labels"]["service"]), "api");
  EXPECT_EQ(std::string_view(alert["labels"]["severity"]), "critical");
  EXPECT_EQ(std::string_view(alert["annotations"]["summary"]), firing.summary);
  EXPECT_EQ(std::string_view(alert["generatorURL"]), firing.logs_url);
  EXPECT_EQ(std::string_view(alert["status"]["state"]), "active");

  Notification resolved = firing;
  resolved.transition = Notification::Transition::resolved;
  resolved.resolved_at = core::now_micros();
  ASSERT_TRUE(notifier.deliver(resolved, targets, reports.callback()));
  ASSERT_TRUE(eventually([&] { return reports.size() == 2; }, 15s));
  EXPECT_TRUE(reports.all()[1].ok) << reports.all()[1].error;
  // An alert whose endsAt has passed is resolved: the API lists active alerts only.
  EXPECT_TRUE(eventually([&] { return alertmanager.alerts_named(firing.rule_name).empty(); }, 10s))
      << get(alertmanager.port(), "/api/v2/alerts").body;
}

TEST(AlertNotify, FullQueueDropsAndStopIsPrompt) {
  // Nothing listens on this port: every attempt fails at once and waits to be retried.
  const unsigned short port = free_port();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  metrics::Metrics metrics;
  Reports reports;
  alerts::NotifierOptions options;
  options.retry = {.attempts = 5, .first_delay = 30s, .max_delay = 60s};
  options.timeout = 2s;
  options.queue_limit = 2;
  auto notifier = std::make_unique<alerts::Notifier>(options, metrics);
  ASSERT_TRUE(notifier->deliver(notification("q1"), {{Target::Type::webhook, url, ""}},
                                reports.callback()));
  ASSERT_TRUE(eventually([&] { return reports.size() == 1; }, 10s));
  EXPECT_FALSE(reports.all()[0].final);  // refused: tried again in 30 s
  EXPECT_EQ(reports.all()[0].status, 0U);
  // One waiting; two more do not fit in a queue of two.
  EXPECT_FALSE(notifier->deliver(notification("q2"),
                                 {{Target::Type::webhook, url, ""}, {Target::Type::slack, url, ""}},
                                 reports.callback()));
  ASSERT_EQ(reports.size(), 3U);
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(reports.all()[i].attempt, 0);
    EXPECT_NE(reports.all()[i].error.find("queue was full"), std::string::npos);
  }
  EXPECT_EQ(metric(metrics.render(), R"(alert_notifications_dropped_total{reason="queue_full"})"),
            2);
  // The waiting retry is abandoned, not waited for.
  const auto start = std::chrono::steady_clock::now();
  notifier.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(metric(metrics.render(), R"(alert_notifications_dropped_total{reason="shutdown"})"), 1);
}

}  // namespace
}  // namespace logpipe::test
