// The alert evaluator end to end: rules created through the API of one of two instances that
// share a stream and a database, records ingested through both, a real webhook receiver (Node,
// verifying the signature) that must see exactly one firing and one resolved notification per
// storm — two evaluating instances must not both notify — and the history API showing the
// episode and its deliveries.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <thread>

#include "harness.hpp"

namespace logpipe::test {
namespace {

class AlertEvaluator : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
    const std::map<std::string, std::string> env{{"LOGPIPE_ALERT_INTERVAL", "200ms"},
                                                 {"LOGPIPE_ALERT_RESEND_INTERVAL", "1s"}};
    const std::string stream = unique_tag("alerteval") + ":stream";
    a = std::make_unique<Logpipe>(
        LogpipeOptions{.database_url = db.url(), .stream = stream, .env = env});
    b = std::make_unique<Logpipe>(
        LogpipeOptions{.command = "serve", .database_url = db.url(), .stream = stream, .env = env});
  }

  std::int64_t create_rule(const std::string& body) {
    auto created = post_json(a->port(), "/api/v1/alerts/rules", body);
    EXPECT_EQ(created.status, 201) << created.body;
    simdjson::dom::parser parser;
    std::int64_t id = 0;
    if (parse_json(parser, created.body)["id"].get(id) != simdjson::SUCCESS) return 0;
    return id;
  }

  // `count` records of `service` (and `device`), alternately through each instance.
  void ingest(const std::string& service, int count, const std::string& level = "ERROR",
              const std::string& device = "d1") {
    std::string body;
    for (int i = 0; i < count; ++i)
      body += R"({"level":")" + level + R"(","service":")" + service + R"(","device_id":")" +
              device + R"(","message":"disk failed )" + std::to_string(i) + "\"}\n";
    auto& to = (turn++ % 2 == 0) ? *a : *b;
    EXPECT_EQ(ingest_ndjson(to.port(), body).status, 202);
  }

  // The episodes of a rule, as GET /api/v1/alerts/events lists them.
  std::string events(std::int64_t rule_id) {
    auto r = http(a->port(), HttpRequest{.target = "/api/v1/alerts/events?rule_id=" +
                                                   std::to_string(rule_id)});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  }

  TestDatabase db{"alerteval"};
  std::unique_ptr<Logpipe> a, b;
  int turn = 0;
};

// The `status` (firing, resolved) of each notification the receiver got, in order; each must be
// signed correctly and contain `must_contain`.
std::vector<std::string> notified(const NodeResult& got, const std::string& must_contain = "") {
  std::vector<std::string> statuses;
  EXPECT_EQ(got.exit_code, 0) << describe(got);
  simdjson::dom::parser parser;
  simdjson::dom::array requests;
  if (parser.parse(got.out).get(requests) != simdjson::SUCCESS) return statuses;
  for (auto request : requests) {
    EXPECT_TRUE(request["verified"].get_bool().value()) << got.out;
    const std::string text(request["body"].get_string().value());
    EXPECT_NE(text.find(must_contain), std::string::npos) << text;
    simdjson::dom::parser body_parser;
    statuses.emplace_back(parse_json(body_parser, text)["status"].get_string().value());
  }
  return statuses;
}

std::string hook(unsigned short port) {
  return "http://127.0.0.1:" + std::to_string(port) + "/hooks/logpipe";
}

TEST_F(AlertEvaluator, AThresholdStormNotifiesOnceAndResolvesOnceAcrossTwoInstances) {
  const unsigned short port = free_port();
  const std::string secret = "s3cret-" + unique_tag("thr") + "-padding";
  auto receiver = start_webhook_receiver(port, secret, "200", 2);
  const std::string service = unique_tag("api");
  const std::int64_t rule = create_rule(
      R"({"name":"errors","kind":"threshold","filter":{"level":"ERROR","service":")" + service +
      R"("},"threshold":5,"window_seconds":2,"cooldown_seconds":2,"secret":")" + secret +
      R"(","notify":[{"type":"webhook","url":")" + hook(port) + R"("}]})");
  ASSERT_GT(rule, 0);
  // A storm with pauses shorter than the cooldown, until the alert fired (the instances read the
  // rule within their refresh), then a little more of it.
  bool fired = false;
  const auto give_up = std::chrono::steady_clock::now() + 40s;
  while (!fired && std::chrono::steady_clock::now() < give_up) {
    ingest(service, 3);
    ingest(service, 3);
    std::this_thread::sleep_for(300ms);
    fired = events(rule).find("\"state\":\"firing\"") != std::string::npos;
  }
  ASSERT_TRUE(fired) << events(rule);
  for (int i = 0; i < 4; ++i) {
    ingest(service, 6);
    std::this_thread::sleep_for(500ms);
  }
  ingest(service, 10, "INFO");  // not matching: no effect

  EXPECT_EQ(notified(receiver.get()), (std::vector<std::string>{"firing", "resolved"}));

  // One episode, resolved, with one successful delivery of each notification, and nothing more
  // afterwards (a second evaluator's duplicate would fail against the stopped receiver: a row).
  std::this_thread::sleep_for(3s);
  const std::string history = events(rule);
  simdjson::dom::parser parser;
  auto page = parse_json(parser, history);
  auto list = page["events"].get_array().value();
  ASSERT_EQ(list.size(), 1U) << history;
  EXPECT_EQ(std::string(list.at(0)["state"].get_string().value()), "resolved") << history;
  EXPECT_GE(list.at(0)["count"].get_int64().value(), 5) << history;
  auto deliveries = list.at(0)["deliveries"].get_array().value();
  ASSERT_EQ(deliveries.size(), 2U) << history;
  for (auto delivery : deliveries) {
    EXPECT_TRUE(delivery["ok"].get_bool().value()) << history;
    EXPECT_EQ(delivery["attempts"].get_int64().value(), 1) << history;
  }
}

TEST_F(AlertEvaluator, AbsenceFiresForTheDeviceThatWentSilentAndResolvesWhenItSpeaks) {
  const unsigned short port = free_port();
  const std::string secret = "s3cret-" + unique_tag("abs") + "-padding";
  auto receiver = start_webhook_receiver(port, secret, "200", 2);
  const std::string service = unique_tag("fleet");
  const std::int64_t rule = create_rule(
      R"({"name":"device silent","kind":"absence","filter":{"service":")" + service +
      R"("},"group_by":["device_id"],"window_seconds":3,"cooldown_seconds":0,"secret":")" + secret +
      R"(","notify":[{"type":"webhook","url":")" + hook(port) + R"("}]})");
  ASSERT_GT(rule, 0);
  // Both devices talk until the rule is being counted (d2 then stops); d1 goes on talking.
  bool fired = false;
  const auto give_up = std::chrono::steady_clock::now() + 40s;
  int rounds = 0;
  while (!fired && std::chrono::steady_clock::now() < give_up) {
    ingest(service, 1, "INFO", "d1");
    if (rounds++ < 25) ingest(service, 1, "INFO", "d2");  // ~7 s of both
    std::this_thread::sleep_for(300ms);
    fired = events(rule).find("\"state\":\"firing\"") != std::string::npos;
  }
  ASSERT_TRUE(fired) << events(rule);
  const std::string history = events(rule);
  simdjson::dom::parser history_parser;
  auto episodes = parse_json(history_parser, history)["events"].get_array().value();
  ASSERT_EQ(episodes.size(), 1U) << history;
  EXPECT_EQ(std::string(episodes.at(0)["group"]["device_id"].get_string().value()), "d2")
      << history;
  ingest(service, 1, "INFO", "d2");  // it speaks again

  EXPECT_EQ(notified(receiver.get(), "\"d2\""), (std::vector<std::string>{"firing", "resolved"}));
}

// Alertmanager resolves an alert that is not posted again within its resolve_timeout: while the
// alert fires, the evaluator posts it again every alert_resend_interval (1 s here), and each post
// moves the alert's endsAt on; the resolved post ends it.
TEST_F(AlertEvaluator, AFiringAlertIsPostedToAlertmanagerAgainUntilItResolves) {
  PrivateAlertmanager alertmanager;
  const std::string name = unique_tag("resend");
  const std::string service = unique_tag("api");
  const std::int64_t rule = create_rule(
      R"({"name":")" + name + R"(","kind":"threshold","filter":{"service":")" + service +
      R"("},"threshold":3,"window_seconds":3,"cooldown_seconds":3,"notify":[{"type":"alertmanager","url":")" +
      alertmanager.url() + R"("}]})");
  ASSERT_GT(rule, 0);
  // endsAt (to the second) of the alert Alertmanager holds under this name; "" when none.
  const auto ends_at = [&] {
    const HttpResponse response = get(alertmanager.port(), "/api/v2/alerts");
    simdjson::dom::parser parser;
    simdjson::dom::array alerts;
    if (response.status != 200 || parser.parse(response.body).get(alerts) != simdjson::SUCCESS)
      return std::string();
    for (auto alert : alerts) {
      std::string_view alertname, ends;
      if (alert["labels"]["alertname"].get(alertname) == simdjson::SUCCESS && alertname == name &&
          alert["endsAt"].get(ends) == simdjson::SUCCESS)
        return std::string(ends.substr(0, 19));
    }
    return std::string();
  };
  std::string first;
  const auto give_up = std::chrono::steady_clock::now() + 40s;
  while (first.empty() && std::chrono::steady_clock::now() < give_up) {
    ingest(service, 5);
    std::this_thread::sleep_for(300ms);
    first = ends_at();
  }
  ASSERT_FALSE(first.empty()) << events(rule);
  // Still storming: posted again, its endsAt moves on.
  std::string later;
  EXPECT_TRUE(eventually(
      [&] {
        ingest(service, 5);
        later = ends_at();
        return later > first;
      },
      20s))
      << first << " then " << later;
  // Quiet: resolved, and Alertmanager lists it no more.
  EXPECT_TRUE(eventually([&] { return ends_at().empty(); }, 30s)) << events(rule);
  EXPECT_NE(events(rule).find("\"state\":\"resolved\""), std::string::npos) << events(rule);
}

}  // namespace
}  // namespace logpipe::test
