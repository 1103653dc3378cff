// Alert rules and their history against a real serve (auth = keys, two tenants) and PostgreSQL:
// the CRUD round trip, 422s naming the field, 409 for a name taken, 404 for another tenant's
// rule, the secret shown once and never by a read, an audit row per change; episodes and
// deliveries written through the store functions the evaluator uses, listed newest first in
// keyset pages with their deliveries; and `logpipe alerts` driving the same API.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <tuple>

#include "alerts/store.hpp"
#include "core/time.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

constexpr std::string_view kErrorBurst =
    R"({"name":"error burst","kind":"threshold","filter":{"level":"ERROR"},"threshold":10,)"
    R"("window_seconds":60,"notify":[{"type":"webhook","url":"http://127.0.0.1:9/hook"}]})";

class Alerts : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(cli({"migrate"}).first, 0);
    ASSERT_EQ(cli({"tenants", "create", "acme"}).first, 0);
    admin = key("default", "admin,query");
    reader = key("default", "query");
    acme = key("acme", "admin,query");
    lp = std::make_unique<Logpipe>(
        LogpipeOptions{.database_url = db.url(),
                       .stream = unique_tag("alerts") + ":stream",
                       .env = {{"LOGPIPE_AUTH", "keys"}, {"LOGPIPE_AUTH_REFRESH", "200ms"}}});
  }
  std::pair<int, std::string> cli(const std::vector<std::string>& args) const {
    return run_logpipe(args, {{"LOGPIPE_DATABASE_URL", db.url()}});
  }
  std::string key(const std::string& tenant, const std::string& scopes) const {
    auto [code, out] =
        cli({"keys", "create", "--tenant", tenant, "--name", "alerts", "--scopes", scopes});
    std::smatch m;
    if (code != 0 || !std::regex_search(out, m, std::regex("lpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")))
      throw std::runtime_error("keys create: " + out);
    return m.str();
  }
  HttpResponse as(const std::string& key, const std::string& method, const std::string& target,
                  std::string body = "") const {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.body = std::move(body);
    if (r.body.empty()) r.content_type.reset();
    r.headers = {{"X-API-Key", key}};
    return http(lp->port(), r);
  }
  std::string stored_secret(std::int64_t id) const {
    auto c = db.connect();
    auto rows = c.query("SELECT secret FROM alert_rules WHERE id = $1", {std::to_string(id)});
    EXPECT_TRUE(rows && rows->size() == 1);
    return rows && rows->size() == 1 ? std::string(rows->get(0, 0)) : "";
  }
  // The field the 422 names (its first detail's).
  std::string refused_field(const HttpResponse& r) {
    EXPECT_EQ(r.status, 422) << r.body;
    simdjson::dom::element field;
    if (parse_json(parser, r.body)["error"]["details"].at(0)["field"].get(field) !=
        simdjson::SUCCESS)
      return "";
    return std::string(field.get_string().value());
  }

  TestDatabase db{"alerts"};
  std::string admin, reader, acme;
  std::unique_ptr<Logpipe> lp;
  simdjson::dom::parser parser;
};

TEST_F(Alerts, RulesCrudRoundTripWithAuditAndAWriteOnlySecret) {
  auto created = as(admin, "POST", "/api/v1/alerts/rules", std::string(kErrorBurst));
  ASSERT_EQ(created.status, 201) << created.body;
  auto rule = parse_json(parser, created.body);
  const std::int64_t id = rule["id"].get_int64().value();
  const std::string secret(rule["secret"].get_string().value());
  EXPECT_EQ(secret.size(), 43U);
  EXPECT_EQ(secret, stored_secret(id));
  EXPECT_EQ(std::string(rule["kind"].get_string().value()), "threshold");
  EXPECT_EQ(rule["threshold"].get_int64().value(), 10);
  EXPECT_EQ(rule["cooldown_seconds"].get_int64().value(), 300);
  EXPECT_EQ(simdjson::minify(rule["filter"]), R"({"level":"ERROR"})");
  const std::string path = "/api/v1/alerts/rules/" + std::to_string(id);

  // Reads never show the secret; a query key may read.
  for (const auto& target : {std::string("/api/v1/alerts/rules"), path}) {
    auto read = as(reader, "GET", target);
    ASSERT_EQ(read.status, 200) << target << ": " << read.body;
    EXPECT_EQ(read.body.find("secret"), std::string::npos) << read.body;
    EXPECT_EQ(read.body.find(secret), std::string::npos);
    EXPECT_NE(read.body.find("\"error burst\""), std::string::npos);
  }
  EXPECT_EQ(as(reader, "POST", "/api/v1/alerts/rules", std::string(kErrorBurst)).status, 403);
  EXPECT_EQ(as(reader, "DELETE", path).status, 403);

  // 409, and 422s naming the field; none of them writes an audit row.
  auto taken = as(admin, "POST", "/api/v1/alerts/rules", std::string(kErrorBurst));
  EXPECT_EQ(taken.status, 409) << taken.body;
  EXPECT_EQ(refused_field(as(admin, "POST", "/api/v1/alerts/rules",
                             R"({"name":"x","kind":"threshold","filter":{"level":"LOUD"},)"
                             R"("threshold":1})")),
            "filter.level");
  EXPECT_EQ(refused_field(
                as(admin, "POST", "/api/v1/alerts/rules", R"({"name":"x","kind":"threshold"})")),
            "threshold");
  EXPECT_EQ(refused_field(as(admin, "POST", "/api/v1/alerts/rules",
                             R"({"name":"x","kind":"match","window_seconds":0})")),
            "window_seconds");
  EXPECT_EQ(refused_field(as(admin, "POST", "/api/v1/alerts/rules",
                             R"({"name":"x","kind":"match","notify":[{"type":"webhook",)"
                             R"("url":"gopher://x"}]})")),
            "notify[0].url");
  EXPECT_EQ(refused_field(as(admin, "POST", "/api/v1/alerts/rules",
                             R"({"name":"x","kind":"match","colour":"red"})")),
            "colour");
  EXPECT_EQ(as(admin, "POST", "/api/v1/alerts/rules", "{\"name\":").status, 400);
  EXPECT_EQ(refused_field(as(admin, "GET", "/api/v1/alerts/rules/abc")), "id");
  EXPECT_EQ(as(admin, "GET", "/api/v1/alerts/rules/999999").status, 404);

  // PUT replaces the rule; the secret stays unless the body changes it.
  auto replaced = as(admin, "PUT", path,
                     R"({"name":"error burst","kind":"threshold","filter":{"level":["ERROR",)"
                     R"("FATAL"]},"threshold":20,"group_by":["service"],)"
                     R"("labels":{"severity":"critical"}})");
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(replaced.body.find("secret"), std::string::npos);
  auto after = parse_json(parser, replaced.body);
  EXPECT_EQ(after["threshold"].get_int64().value(), 20);
  EXPECT_EQ(after["notify"].get_array().size(), 0U);
  EXPECT_EQ(simdjson::minify(after["labels"]), R"({"severity":"critical"})");
  EXPECT_EQ(stored_secret(id), secret);
  auto rotated = as(admin, "PUT", path, R"({"name":"errors","kind":"absence","secret":null})");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string new_secret(parse_json(parser, rotated.body)["secret"].get_string().value());
  EXPECT_NE(new_secret, secret);
  EXPECT_EQ(stored_secret(id), new_secret);
  EXPECT_EQ(parse_json(parser, rotated.body)["window_seconds"].get_int64().value(), 300);

  // Another tenant's rule does not exist for acme.
  EXPECT_EQ(as(acme, "GET", path).status, 404);
  EXPECT_EQ(as(acme, "PUT", path, R"({"name":"mine","kind":"match"})").status, 404);
  EXPECT_EQ(as(acme, "DELETE", path).status, 404);
  auto acme_list = as(acme, "GET", "/api/v1/alerts/rules");
  EXPECT_EQ(acme_list.body, R"({"rules":[],"count":0})");
  // … and its names are its own.
  EXPECT_EQ(as(acme, "POST", "/api/v1/alerts/rules", R"({"name":"errors","kind":"match"})").status,
            201);
  auto other = as(admin, "POST", "/api/v1/alerts/rules", R"({"name":"other","kind":"match"})");
  ASSERT_EQ(other.status, 201);
  EXPECT_EQ(as(admin, "PUT", path, R"({"name":"other","kind":"match"})").status, 409);

  auto deleted = as(admin, "DELETE", path);
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(as(admin, "GET", path).status, 404);
  EXPECT_EQ(as(admin, "DELETE", path).status, 404);

  // One audit row per change, naming the rule, never its secret.
  auto c = db.connect();
  auto rows = c.query(
      "SELECT action, target, detail::text, key_id FROM audit_log WHERE tenant_id = 1 AND "
      "action LIKE 'alert_rule.%' ORDER BY id");
  ASSERT_TRUE(rows);
  std::vector<std::string> actions;
  for (int i = 0; i < rows->size(); ++i) {
    actions.emplace_back(rows->get(i, 0));
    const std::string detail(rows->get(i, 2));
    EXPECT_EQ(detail.find(secret), std::string::npos);
    EXPECT_EQ(detail.find(new_secret), std::string::npos);
    EXPECT_EQ(std::string(rows->get(i, 3)), admin.substr(4, 12));
  }
  EXPECT_EQ(actions,
            (std::vector<std::string>{"alert_rule.create", "alert_rule.update", "alert_rule.update",
                                      "alert_rule.create", "alert_rule.delete"}));
  EXPECT_EQ(std::string(rows->get(0, 1)), std::to_string(id));
  EXPECT_NE(std::string(rows->get(2, 2)).find("\"secret_rotated\": true"), std::string::npos)
      << rows->get(2, 2);
}

TEST_F(Alerts, EventsListTheEpisodesNewestFirstWithTheirDeliveries) {
  auto created = as(admin, "POST", "/api/v1/alerts/rules",
                    R"({"name":"silent","kind":"absence","group_by":["device_id"],)"
                    R"("notify":[{"type":"webhook","url":"http://127.0.0.1:9/hook"}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::int64_t id = parse_json(parser, created.body)["id"].get_int64().value();
  ASSERT_EQ(as(acme, "POST", "/api/v1/alerts/rules", R"({"name":"acme","kind":"match"})").status,
            201);

  // What the evaluator does, through its store functions.
  auto c = db.connect();
  auto rules = alerts::list_enabled_rules(c);
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_EQ(rules->size(), 2U);  // both tenants'
  const alerts::Rule& rule = rules->front().id == id ? rules->front() : rules->back();
  ASSERT_EQ(rule.id, id);
  EXPECT_FALSE(rule.secret.empty());
  const core::Micros t0 = core::now_micros() - 60'000'000;
  auto first = alerts::open_event(c, rule, R"({"device_id":"d1"})", 0, std::nullopt, t0);
  ASSERT_TRUE(first) << first.error().message;
  auto twice = alerts::open_event(c, rule, R"({"device_id":"d1"})", 0);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, core::Errc::conflict);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    alerts::Delivery d;
    d.event_id = first->id;
    d.target_url = "http://127.0.0.1:9/hook";
    d.attempt = attempt;
    d.ok = attempt == 3;
    d.status = attempt == 3 ? 200 : 500;
    if (attempt < 3) d.error = "500 Internal Server Error";
    ASSERT_TRUE(alerts::append_delivery(c, d));
  }
  ASSERT_TRUE(alerts::mark_notified(c, first->id));
  ASSERT_TRUE(alerts::update_event_count(c, first->id, 3));
  auto resolved = alerts::resolve_event(c, first->id, t0 + 30'000'000);
  ASSERT_TRUE(resolved) << resolved.error().message;
  EXPECT_EQ(resolved->state, alerts::State::resolved);
  EXPECT_EQ(resolved->resolved_at, t0 + 30'000'000);
  EXPECT_EQ(alerts::resolve_event(c, first->id).error().code, core::Errc::not_found);
  auto second =
      alerts::open_event(c, rule, R"({"device_id":"d2"})", 0, std::nullopt, t0 + 40'000'000);
  ASSERT_TRUE(second);
  auto third =
      alerts::open_event(c, rule, R"({"device_id":"d1"})", 0, std::nullopt, t0 + 50'000'000);
  ASSERT_TRUE(third) << "d1 resolved: a new episode may open";
  auto open = alerts::open_events(c);
  ASSERT_TRUE(open);
  EXPECT_EQ(open->size(), 2U);
  auto last = alerts::last_event(c, id, R"({"device_id":"d1"})");
  ASSERT_TRUE(last && *last);
  EXPECT_EQ((*last)->id, third->id);

  auto all = as(reader, "GET", "/api/v1/alerts/events");
  ASSERT_EQ(all.status, 200) << all.body;
  auto page = parse_json(parser, all.body);
  auto events = page["events"].get_array().value();
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(events.at(0)["id"].get_int64().value(), third->id);
  EXPECT_EQ(events.at(2)["id"].get_int64().value(), first->id);
  auto oldest = events.at(2);
  EXPECT_EQ(std::string(oldest["state"].get_string().value()), "resolved");
  EXPECT_EQ(std::string(oldest["rule_name"].get_string().value()), "silent");
  EXPECT_EQ(simdjson::minify(oldest["group"]), R"({"device_id":"d1"})");
  EXPECT_EQ(oldest["count"].get_int64().value(), 3);
  EXPECT_FALSE(oldest["last_notified_at"].is_null());
  auto deliveries = oldest["deliveries"].get_array().value();
  ASSERT_EQ(deliveries.size(), 1U);
  EXPECT_EQ(deliveries.at(0)["attempts"].get_int64().value(), 3);
  EXPECT_TRUE(deliveries.at(0)["ok"].get_bool().value());
  EXPECT_EQ(deliveries.at(0)["last_status"].get_int64().value(), 200);
  EXPECT_TRUE(deliveries.at(0)["last_error"].is_null());
  EXPECT_EQ(std::string(deliveries.at(0)["transition"].get_string().value()), "firing");
  EXPECT_EQ(events.at(0)["deliveries"].get_array().size(), 0U);
  EXPECT_TRUE(events.at(0)["resolved_at"].is_null());

  // Keyset pages of one.
  std::vector<std::int64_t> paged;
  std::string cursor;
  for (int i = 0; i < 5; ++i) {
    auto r = as(reader, "GET",
                "/api/v1/alerts/events?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    auto p = parse_json(parser, r.body);
    simdjson::dom::array page_events = p["events"].get_array().value();
    for (auto e : page_events)
      paged.push_back(e["id"].get_int64().value());
    std::string_view next;
    if (p["next_cursor"].get_string().get(next) != simdjson::SUCCESS) break;
    cursor = std::string(next);
  }
  EXPECT_EQ(paged, (std::vector<std::int64_t>{third->id, second->id, first->id}));

  auto firing =
      as(reader, "GET", "/api/v1/alerts/events?state=firing&rule_id=" + std::to_string(id));
  ASSERT_EQ(firing.status, 200);
  EXPECT_EQ(parse_json(parser, firing.body)["count"].get_int64().value(), 2);
  EXPECT_EQ(refused_field(as(reader, "GET", "/api/v1/alerts/events?state=open")), "state");
  EXPECT_EQ(refused_field(as(reader, "GET", "/api/v1/alerts/events?rule=1")), "rule");
  EXPECT_EQ(as(acme, "GET", "/api/v1/alerts/events").body,
            R"({"events":[],"count":0,"next_cursor":null})");

  // Deleting the rule resolves its open episodes and keeps the history.
  ASSERT_EQ(as(admin, "DELETE", "/api/v1/alerts/rules/" + std::to_string(id)).status, 200);
  auto kept = as(reader, "GET", "/api/v1/alerts/events");
  simdjson::dom::array kept_events = parse_json(parser, kept.body)["events"].get_array().value();
  ASSERT_EQ(kept_events.size(), 3U);
  for (auto e : kept_events) {
    EXPECT_TRUE(e["rule_id"].is_null());
    EXPECT_EQ(std::string(e["state"].get_string().value()), "resolved");
  }
  auto still_open = alerts::open_events(c);
  ASSERT_TRUE(still_open);
  EXPECT_TRUE(still_open->empty());
}

TEST_F(Alerts, CliManagesRulesAndPrintsTheHistory) {
  const std::string url = "http://127.0.0.1:" + std::to_string(lp->port());
  const auto cli_alerts = [&](std::vector<std::string> args, const std::string& key) {
    args.insert(args.begin(), {"alerts"});
    args.insert(args.begin() + 2, {"--url", url, "--api-key", key});
    return run_logpipe(args, {});
  };
  // Seed 002's two rules.
  auto [code, out] =
      cli_alerts({"create", "--name", "error burst", "--kind", "threshold", "--filter",
                  "level=ERROR", "--threshold", "10", "--window", "60s", "--cooldown", "5m",
                  "--webhook", "http://127.0.0.1:9/hook", "--label", "severity=critical"},
                 admin);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("threshold error burst enabled window=60s threshold=10"), std::string::npos)
      << out;
  EXPECT_NE(out.find("filter={\"level\":\"ERROR\"} notify=webhook"), std::string::npos) << out;
  EXPECT_NE(out.find("secret "), std::string::npos) << out;
  std::tie(code, out) =
      cli_alerts({"create", "--name", "payment-service burst", "--kind", "threshold", "--filter",
                  "service=payment-service", "--threshold", "5", "--window", "1m", "--group-by",
                  "host", "--slack", "https://hooks.slack.com/services/T0/B0/x", "--alertmanager",
                  "http://127.0.0.1:9093", "--output", "json"},
                 admin);
  ASSERT_EQ(code, 0) << out;
  auto created = parse_json(parser, out);
  const std::int64_t id = created["id"].get_int64().value();
  EXPECT_EQ(created["window_seconds"].get_int64().value(), 60);
  EXPECT_EQ(created["notify"].get_array().size(), 2U);
  EXPECT_FALSE(std::string(created["secret"].get_string().value()).empty());

  std::tie(code, out) = cli_alerts({"list"}, reader);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_EQ(out.find("secret"), std::string::npos) << out;
  EXPECT_NE(out.find("group_by=host"), std::string::npos) << out;
  std::tie(code, out) = cli_alerts({"list", "--output", "json"}, reader);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(parse_json(parser, out).get_array().size(), 2U);
  std::tie(code, out) = cli_alerts({"get", std::to_string(id)}, reader);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out.rfind(std::to_string(id) + " threshold payment-service burst", 0), 0U) << out;

  std::tie(code, out) =
      cli_alerts({"update", std::to_string(id), "--name", "payment-service burst", "--kind",
                  "threshold", "--filter", "service=payment-service", "--filter", "level=ERROR",
                  "--filter", "level=FATAL", "--threshold", "7"},
                 admin);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("threshold=7"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("level":["ERROR","FATAL"])"), std::string::npos) << out;
  EXPECT_EQ(out.find("secret"), std::string::npos) << out;
  std::tie(code, out) = cli_alerts({"update", std::to_string(id), "--name", "payment-service burst",
                                    "--kind", "match", "--rotate-secret"},
                                   admin);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("secret "), std::string::npos) << out;

  // The rule as a file, the API's body.
  const std::string file = ::testing::TempDir() + unique_tag("rule") + ".json";
  {
    std::ofstream(file) << R"({"name":"silent devices","kind":"absence","group_by":["device_id"]})";
  }
  std::tie(code, out) = cli_alerts({"create", "--file", file}, admin);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("absence silent devices enabled window=300s group_by=device_id"),
            std::string::npos)
      << out;
  std::tie(code, out) = cli_alerts({"create", "--file", file, "--name", "x"}, admin);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("--file"), std::string::npos) << out;
  std::remove(file.c_str());

  // Refusals name the field; scopes hold.
  std::tie(code, out) = cli_alerts({"create", "--name", "x", "--kind", "threshold", "--threshold",
                                    "1", "--filter", "level=LOUD"},
                                   admin);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("422 invalid_field: filter.level"), std::string::npos) << out;
  std::tie(code, out) = cli_alerts({"create", "--name", "x", "--kind", "match"}, reader);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("403"), std::string::npos) << out;
  std::tie(code, out) = cli_alerts({"get", std::to_string(id)}, acme);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("404"), std::string::npos) << out;

  // The history, with a delivery.
  {
    auto c = db.connect();
    auto rule = alerts::find_rule(c, 1, id);
    ASSERT_TRUE(rule);
    auto event = alerts::open_event(c, *rule, "{}", 12);
    ASSERT_TRUE(event);
    alerts::Delivery d;
    d.event_id = event->id;
    d.target_type = alerts::TargetType::slack;
    d.target_url = "https://hooks.slack.com/services/T0/B0/x";
    d.ok = false;
    d.error = "connection refused";
    ASSERT_TRUE(alerts::append_delivery(c, d));
  }
  std::tie(code, out) = cli_alerts({"events"}, reader);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find(" firing payment-service burst #" + std::to_string(id) +
                     " group={} count=12 resolved=- [firing slack "
                     "https://hooks.slack.com/services/T0/B0/x 1x failed connection refused]"),
            std::string::npos)
      << out;
  std::tie(code, out) = cli_alerts({"events", "--state", "resolved", "--output", "json"}, reader);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out, "[]\n");

  std::tie(code, out) = cli_alerts({"delete", std::to_string(id)}, admin);
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(out, "deleted alert rule " + std::to_string(id) + "\n");
  std::tie(code, out) = cli_alerts({"list"}, reader);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
}

}  // namespace
}  // namespace logpipe::test
