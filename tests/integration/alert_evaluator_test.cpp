// The alert evaluator end to end: rules created through the API of one of two instances that
// share a stream and a database, records ingested through both, a real webhook receiver (Node,
// verifying the signature) that must see exactly one firing and one resolved notification per
// storm — two evaluating instances must not both notify — and the history API showing the
// episode and its deliveries. Each rule kind (threshold, absence, match), each target type
// (webhook, Slack, Alertmanager: the real one, started for the test) and a retried delivery as
// the delivery log records it.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <functional>
#include <map>
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

  // This test's signed webhook receiver (start_webhook_receiver: answering `statuses` until it
  // got `requests`), on a free port with a secret of its own.
  std::future<NodeResult> start_hook(const std::string& statuses, int requests) {
    hook_port = free_port();
    hook_secret = "s3cret-" + unique_tag("hook") + "-padding";
    return start_webhook_receiver(hook_port, hook_secret, statuses, requests);
  }

  // A rule notifying that receiver; `fields`: the rule's fields but its secret and targets.
  std::int64_t create_hook_rule(const std::string& fields) {
    return create_rule("{" + fields + R"(,"secret":")" + hook_secret +
                       R"(","notify":[{"type":"webhook","url":"http://127.0.0.1:)" +
                       std::to_string(hook_port) + R"(/hooks/logpipe"}]})");
  }

  // `count` records of `service` (and `device`), alternately through each instance.
  void ingest(const std::string& service, int count, const std::string& level = "ERROR",
              const std::string& device = "d1", const std::string& message = "disk failed") {
    std::string body;
    for (int i = 0; i < count; ++i)
      fmt::format_to(std::back_inserter(body),
                     R"({{"level":"{}","service":"{}","device_id":"{}","message":"{} {}"}})"
                     "\n",
                     level, service, device, message, i);
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

  // Runs `step` (records that should make the rule fire) every 300 ms until the rule has a firing
  // episode: the instances read a new rule within their refresh, and count only from then.
  bool until_firing(std::int64_t rule_id, const std::function<void()>& step) {
    const auto give_up = std::chrono::steady_clock::now() + 40s;
    while (std::chrono::steady_clock::now() < give_up) {
      step();
      std::this_thread::sleep_for(300ms);
      if (events(rule_id).find("\"state\":\"firing\"") != std::string::npos) return true;
    }
    return false;
  }

  // Whether the rule's one episode is resolved (it must have no other).
  bool resolved(std::int64_t rule_id) {
    return events(rule_id).find("\"state\":\"resolved\"") != std::string::npos;
  }

  TestDatabase db{"alerteval"};
  std::unique_ptr<Logpipe> a, b;
  int turn = 0;
  unsigned short hook_port = 0;
  std::string hook_secret;
};

// One request the receiver got.
struct Received {
  std::string body;
  std::string status;     // the body's "status" (firing, resolved); "" without one (Slack's)
  bool verified = false;  // its X-Logpipe-Signature is right
  bool signed_ = false;   // it has one
  std::int64_t answered = 0;
  std::string event_id;  // X-Logpipe-Event-Id
};

std::vector<Received> received(const NodeResult& got) {
  std::vector<Received> all;
  EXPECT_EQ(got.exit_code, 0) << describe(got);
  simdjson::dom::parser parser;
  simdjson::dom::array requests;
  if (parser.parse(got.out).get(requests) != simdjson::SUCCESS) return all;
  for (auto request : requests) {
    Received& r = all.emplace_back();
    r.body = std::string(request["body"].get_string().value());
    r.verified = request["verified"].get_bool().value();
    r.answered = request["answered"].get_int64().value();
    std::string_view text;
    r.signed_ =
        request["headers"]["x-logpipe-signature"].get_string().get(text) == simdjson::SUCCESS;
    if (request["headers"]["x-logpipe-event-id"].get_string().get(text) == simdjson::SUCCESS)
      r.event_id = std::string(text);
    simdjson::dom::parser body_parser;
    if (body_parser.parse(r.body)["status"].get_string().get(text) == simdjson::SUCCESS)
      r.status = std::string(text);
  }
  return all;
}

// The `status` (firing, resolved) of each notification the receiver got, in order; each must be
// signed correctly and contain `must_contain`.
std::vector<std::string> notified(const NodeResult& got, const std::string& must_contain = "") {
  std::vector<std::string> statuses;
  for (const auto& request : received(got)) {
    EXPECT_TRUE(request.verified) << got.out;
    EXPECT_NE(request.body.find(must_contain), std::string::npos) << request.body;
    statuses.push_back(request.status);
  }
  return statuses;
}

// One line of an episode's delivery log as the history shows it: "<transition> <type>
// attempts=<n> ok|failed last_status=<s>", e.g. "firing webhook attempts=2 ok last_status=200".
std::vector<std::string> delivery_lines(simdjson::dom::element episode) {
  std::vector<std::string> lines;
  // (Named arrays: GCC 12 takes a loop over a temporary's for a dangling pointer.)
  simdjson::dom::array deliveries;
  if (episode["deliveries"].get_array().get(deliveries) != simdjson::SUCCESS) return lines;
  for (auto d : deliveries) {
    std::int64_t status = 0;
    if (d["last_status"].get_int64().get(status) != simdjson::SUCCESS) status = 0;  // null
    lines.push_back(std::string(d["transition"].get_string().value()) + " " +
                    std::string(d["type"].get_string().value()) +
                    " attempts=" + std::to_string(d["attempts"].get_int64().value()) +
                    (d["ok"].get_bool().value() ? " ok" : " failed") +
                    " last_status=" + std::to_string(status));
  }
  return lines;
}

TEST_F(AlertEvaluator, AThresholdStormNotifiesOnceAndResolvesOnceAcrossTwoInstances) {
  auto receiver = start_hook("200", 2);
  const std::string service = unique_tag("api");
  const std::int64_t rule = create_hook_rule(
      R"("name":"errors","kind":"threshold","filter":{"level":"ERROR","service":")" + service +
      R"("},"threshold":5,"window_seconds":2,"cooldown_seconds":2)");
  ASSERT_GT(rule, 0);
  // A storm with pauses shorter than the cooldown, until the alert fired (the instances read the
  // rule within their refresh), then a little more of it.
  ASSERT_TRUE(until_firing(rule, [&] {
    ingest(service, 3);
    ingest(service, 3);
  })) << events(rule);
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
  auto receiver = start_hook("200", 2);
  const std::string service = unique_tag("fleet");
  const std::int64_t rule = create_hook_rule(
      R"("name":"device silent","kind":"absence","filter":{"service":")" + service +
      R"("},"group_by":["device_id"],"window_seconds":3,"cooldown_seconds":0)");
  ASSERT_GT(rule, 0);
  // Both devices talk until the rule is being counted (d2 then stops); d1 goes on talking.
  int rounds = 0;
  ASSERT_TRUE(until_firing(rule, [&] {
    ingest(service, 1, "INFO", "d1");
    if (rounds++ < 25) ingest(service, 1, "INFO", "d2");  // ~7 s of both
  })) << events(rule);
  const std::string history = events(rule);
  simdjson::dom::parser history_parser;
  auto episodes = parse_json(history_parser, history)["events"].get_array().value();
  ASSERT_EQ(episodes.size(), 1U) << history;
  EXPECT_EQ(std::string(episodes.at(0)["group"]["device_id"].get_string().value()), "d2")
      << history;
  ingest(service, 1, "INFO", "d2");  // it speaks again

  EXPECT_EQ(notified(receiver.get(), "\"d2\""), (std::vector<std::string>{"firing", "resolved"}));
}

TEST_F(AlertEvaluator, AMatchRuleFiresOncePerBurstWithASampleAndResolvesAfterItsWindow) {
  auto receiver = start_hook("200", 2);
  const std::string service = unique_tag("kernel");
  // Of the service's records, those whose message has "panic"; its "disk failed" ones (same
  // service, same level) do not match.
  const std::int64_t rule =
      create_hook_rule(R"("name":"panics","kind":"match","filter":{"service":")" + service +
                       R"(","q":"panic"},"window_seconds":3,"cooldown_seconds":2)");
  ASSERT_GT(rule, 0);
  int matching = 0;
  const auto mixed = [&](int panics) {
    ingest(service, 2);
    if (panics > 0) ingest(service, panics, "ERROR", "d1", "kernel panic");
    ingest(service, 1, "FATAL", "d2", "kernel oops");
    matching += panics;
  };
  ASSERT_TRUE(until_firing(rule, [&] { mixed(1); })) << events(rule);
  // A burst, each matching record within the window of the one before: still the one alert.
  constexpr int kBurst = 24;
  for (int i = 0; i < kBurst / 3; ++i) {
    mixed(3);
    std::this_thread::sleep_for(300ms);
  }

  // One firing notification for the whole burst, one resolved once the window passed without a
  // match (and the cooldown after it).
  const std::vector<Received> got = received(receiver.get());
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0].status, "firing") << got[0].body;
  EXPECT_EQ(got[1].status, "resolved") << got[1].body;
  for (const auto& request : got)
    EXPECT_TRUE(request.verified) << request.body;
  simdjson::dom::parser firing_parser, resolved_parser;
  const auto firing = parse_json(firing_parser, got[0].body);
  EXPECT_EQ(std::string_view(firing["rule"]["kind"]), "match");
  EXPECT_EQ(firing["threshold"].get_int64().value(), 1);
  EXPECT_GE(firing["count"].get_int64().value(), 1);
  // The sample: a matching record as /api/v1/logs shows it.
  const auto sample = firing["sample"];
  EXPECT_EQ(std::string_view(sample["service"]), service) << got[0].body;
  EXPECT_EQ(std::string_view(sample["level"]), "ERROR") << got[0].body;
  EXPECT_EQ(std::string_view(sample["message"]).substr(0, 13), "kernel panic ") << got[0].body;
  const auto resolution = parse_json(resolved_parser, got[1].body);
  EXPECT_TRUE(resolution["sample"].is_null()) << got[1].body;
  // The episode counted the burst's matching records and none of the others.
  const std::int64_t count = resolution["count"].get_int64().value();
  EXPECT_GE(count, kBurst) << got[1].body;
  EXPECT_LE(count, matching) << got[1].body;

  // Records that do not match, for longer than the window: no new alert.
  for (int i = 0; i < 10; ++i) {
    mixed(0);
    std::this_thread::sleep_for(300ms);
  }
  std::this_thread::sleep_for(2s);
  const std::string history = events(rule);
  simdjson::dom::parser parser;
  auto list = parse_json(parser, history)["events"].get_array().value();
  ASSERT_EQ(list.size(), 1U) << history;
  EXPECT_EQ(std::string_view(list.at(0)["state"]), "resolved") << history;
  EXPECT_EQ(list.at(0)["count"].get_int64().value(), count) << history;
  EXPECT_EQ(std::string_view(list.at(0)["sample"]["message"]).substr(0, 13), "kernel panic ")
      << history;
  // (A second evaluator's duplicate would have failed against the stopped receiver: a row.)
  EXPECT_EQ(delivery_lines(list.at(0).value()),
            (std::vector<std::string>{"firing webhook attempts=1 ok last_status=200",
                                      "resolved webhook attempts=1 ok last_status=200"}))
      << history;
}

TEST_F(AlertEvaluator, SlackAndAlertmanagerTargetsSeeTheAlertFireAndResolve) {
  PrivateAlertmanager alertmanager;
  const unsigned short port = free_port();
  // In "slack" mode the receiver answers 400 to what Slack would refuse (no text, attachments
  // without a colour …), as Slack does.
  auto slack = start_webhook_receiver(port, "unused", "200", 2, "slack");
  const std::string service = unique_tag("db");
  const std::string name = "db errors " + service;
  const std::int64_t rule = create_rule(
      R"({"name":")" + name + R"(","kind":"threshold","filter":{"level":"ERROR","service":")" +
      service +
      R"("},"threshold":3,"window_seconds":3,"cooldown_seconds":2,"group_by":["service"],)"
      R"("labels":{"team":"storage","severity":"page"},"notify":[)"
      R"({"type":"slack","url":"http://127.0.0.1:)" +
      std::to_string(port) + R"(/services/T0/B0/XXXX"},{"type":"alertmanager","url":")" +
      alertmanager.url() + R"("}]})");
  ASSERT_GT(rule, 0);
  const auto storm = [&] {
    ingest(service, 2);
    ingest(service, 2);
  };
  ASSERT_TRUE(until_firing(rule, storm)) << events(rule);

  // While the storm goes on, Alertmanager holds the alert, with the rule's labels.
  std::vector<std::string> shown;
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (shown.size() != 1 && std::chrono::steady_clock::now() < give_up) {
    storm();
    std::this_thread::sleep_for(300ms);
    shown = alertmanager.alerts_named(name);
  }
  ASSERT_EQ(shown.size(), 1U) << get(alertmanager.port(), "/api/v2/alerts").body;
  {
    simdjson::dom::parser parser;
    const auto alert = parse_json(parser, shown[0]);
    const auto labels = alert["labels"];
    EXPECT_EQ(std::string_view(labels["logpipe_rule_id"]), std::to_string(rule)) << shown[0];
    EXPECT_EQ(std::string_view(labels["tenant"]), "default") << shown[0];
    EXPECT_EQ(std::string_view(labels["service"]), service) << shown[0];
    EXPECT_EQ(std::string_view(labels["severity"]), "page") << shown[0];
    EXPECT_EQ(std::string_view(labels["team"]), "storage") << shown[0];
    EXPECT_EQ(std::string_view(alert["status"]["state"]), "active") << shown[0];
    EXPECT_EQ(std::string_view(alert["annotations"]["summary"]).substr(0, name.size() + 1),
              name + ":")
        << shown[0];
  }

  // The storm ends: the alert resolves, and Alertmanager lists it no more (the API lists the
  // active alerts; a resolved one's endsAt has passed).
  EXPECT_TRUE(eventually([&] { return alertmanager.alerts_named(name).empty(); }, 40s))
      << get(alertmanager.port(), "/api/v2/alerts").body << events(rule);

  const std::vector<Received> got = received(slack.get());
  ASSERT_EQ(got.size(), 2U);
  const std::vector<std::pair<std::string, std::string>> expected{{"[FIRING] ", "#d40e0d"},
                                                                  {"[RESOLVED] ", "#2eb886"}};
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].answered, 200) << got[i].body;  // Slack's shape
    EXPECT_FALSE(got[i].signed_) << got[i].body;     // only webhooks are signed
    simdjson::dom::parser parser;
    const auto message = parse_json(parser, got[i].body);
    const std::string headline = expected[i].first + name + ":";
    EXPECT_EQ(std::string_view(message["text"]).substr(0, headline.size()), headline)
        << got[i].body;
    const auto attachment = message["attachments"].at(0);
    EXPECT_EQ(std::string_view(attachment["color"]), expected[i].second) << got[i].body;
    EXPECT_EQ(std::string_view(attachment["title"]), name + " (threshold)") << got[i].body;
    std::map<std::string, std::string> fields;
    simdjson::dom::array listed;
    ASSERT_EQ(attachment["fields"].get_array().get(listed), simdjson::SUCCESS) << got[i].body;
    for (auto field : listed)
      fields[std::string(field["title"].get_string().value())] =
          std::string(field["value"].get_string().value());
    EXPECT_EQ(fields["Status"], i == 0 ? "firing" : "resolved") << got[i].body;
    EXPECT_EQ(fields["Tenant"], "default") << got[i].body;
    EXPECT_EQ(fields["Group"], "service=" + service) << got[i].body;
    EXPECT_EQ(fields["Labels"], "severity=page, team=storage") << got[i].body;
    EXPECT_EQ(fields.contains("Resolved at"), i == 1) << got[i].body;
  }

  // The history: one episode, each notification delivered to both targets. (Alertmanager may
  // get the firing alert more than once: attempts are not asserted.)
  std::string history;
  std::vector<std::string> delivered;
  EXPECT_TRUE(eventually(
      [&] {
        history = events(rule);
        simdjson::dom::parser parser;
        auto list = parse_json(parser, history)["events"].get_array().value();
        if (list.size() != 1) return false;
        delivered.clear();
        for (const auto& line : delivery_lines(list.at(0).value()))
          delivered.push_back(line.substr(0, line.find(" attempts=")) +
                              (line.find(" ok ") != std::string::npos ? " ok" : " failed"));
        std::sort(delivered.begin(), delivered.end());
        return delivered.size() == 4 && history.find("\"state\":\"resolved\"") != std::string::npos;
      },
      20s))
      << history;
  EXPECT_EQ(delivered, (std::vector<std::string>{"firing alertmanager ok", "firing slack ok",
                                                 "resolved alertmanager ok", "resolved slack ok"}))
      << history;
}

TEST_F(AlertEvaluator, ARetryAfterA500IsInTheDeliveryLogAndEachAttemptIsSigned) {
  // The first request is refused with a 500; the retry and the resolution are accepted.
  auto receiver = start_hook("500,200", 3);
  const std::string service = unique_tag("flaky");
  const std::int64_t rule =
      create_hook_rule(R"("name":"flaky receiver","kind":"match","filter":{"service":")" + service +
                       R"("},"window_seconds":2,"cooldown_seconds":1)");
  ASSERT_GT(rule, 0);
  ASSERT_TRUE(until_firing(rule, [&] { ingest(service, 1); })) << events(rule);

  const std::vector<Received> got = received(receiver.get());
  ASSERT_EQ(got.size(), 3U);
  std::vector<Received> firing, resolution;
  for (const auto& request : got) {
    EXPECT_TRUE(request.verified) << "signature refused: " << request.body;
    (request.status == "firing" ? firing : resolution).push_back(request);
  }
  ASSERT_EQ(firing.size(), 2U);
  ASSERT_EQ(resolution.size(), 1U);
  EXPECT_EQ(firing[0].answered, 500);
  EXPECT_EQ(firing[1].answered, 200);
  EXPECT_EQ(firing[1].body, firing[0].body);  // the same notification, signed anew
  EXPECT_EQ(firing[1].event_id, firing[0].event_id);
  EXPECT_EQ(resolution[0].answered, 200);

  // The history shows the firing notification's two attempts, the last one accepted, once the
  // evaluator wrote them (after each judgement).
  std::string history;
  std::int64_t event_id = 0;
  EXPECT_TRUE(eventually(
      [&] {
        history = events(rule);
        simdjson::dom::parser parser;
        auto list = parse_json(parser, history)["events"].get_array().value();
        if (list.size() != 1 || list.at(0)["id"].get_int64().get(event_id) != simdjson::SUCCESS)
          return false;
        return delivery_lines(list.at(0).value()) ==
               std::vector<std::string>{"firing webhook attempts=2 ok last_status=200",
                                        "resolved webhook attempts=1 ok last_status=200"};
      },
      20s))
      << history;
  EXPECT_EQ(firing[0].event_id, std::to_string(event_id) + "-firing");
  // Attempt by attempt, the delivery log holds the refused one too.
  auto conn = db.connect();
  auto rows = conn.query(
      "SELECT transition || ' ' || attempt || ' ' || ok || ' ' || coalesce(status, 0) "
      "FROM alert_deliveries WHERE event_id = $1 ORDER BY id",
      {std::to_string(event_id)});
  ASSERT_TRUE(rows) << rows.error().message;
  std::vector<std::string> log;
  log.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i)
    log.emplace_back(rows->get(i, 0));
  EXPECT_EQ(log, (std::vector<std::string>{"firing 1 false 500", "firing 2 true 200",
                                           "resolved 1 true 200"}));
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
    const auto shown = alertmanager.alerts_named(name);
    simdjson::dom::parser parser;
    std::string_view ends;
    if (shown.empty() || parser.parse(shown[0])["endsAt"].get(ends) != simdjson::SUCCESS)
      return std::string();
    return std::string(ends.substr(0, 19));
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
