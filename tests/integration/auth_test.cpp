// API keys and tenants against a real serve (auth = keys): the route table walked for 401 and
// 403, two tenants writing through every ingest endpoint and reading through every read
// endpoint without seeing each other, the keys' lifecycle (CLI and API, revoke, expiry), real
// clients sending their own credentials, no raw key anywhere in the database or the logs, and
// dead letters kept apart by tenant.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <regex>

#include "api/api.hpp"
#include "core/base64.hpp"
#include "core/time.hpp"
#include "harness.hpp"
#include "queue/status.hpp"
#include "queue/stream_consumer.hpp"

namespace logpipe::test {
namespace {

// A database with tenants and keys made by the CLI, and `logpipe run` with auth = keys.
struct AuthServer {
  explicit AuthServer(const std::string& tag) : db(tag), stream(unique_tag(tag)) {
    if (cli({"migrate"}).first != 0) throw std::runtime_error("migrate failed");
  }
  std::pair<int, std::string> cli(std::vector<std::string> args) const {
    return run_logpipe(args, {{"LOGPIPE_DATABASE_URL", db.url()}});
  }
  void tenant(const std::string& name) const {
    auto [code, out] = cli({"tenants", "create", name});
    if (code != 0) throw std::runtime_error(out);
  }
  // The key that `logpipe keys create` prints.
  std::string key(const std::string& tenant, const std::string& scopes,
                  std::vector<std::string> more = {}) const {
    std::vector<std::string> args = {"keys",   "create",   "--tenant", tenant,
                                     "--name", "test key", "--scopes", scopes};
    args.insert(args.end(), more.begin(), more.end());
    auto [code, out] = cli(args);
    std::smatch m;
    if (code != 0 || !std::regex_search(out, m, std::regex("lpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")))
      throw std::runtime_error("keys create: " + out);
    return m.str();
  }
  void start(std::vector<std::string> extra = {}) {
    lp = std::make_unique<Logpipe>(
        LogpipeOptions{.database_url = db.url(),
                       .stream = stream,
                       .extra_args = std::move(extra),
                       .env = {{"LOGPIPE_AUTH", "keys"}, {"LOGPIPE_AUTH_REFRESH", "200ms"}}});
  }
  HttpResponse request(const std::string& method, const std::string& target,
                       std::vector<std::pair<std::string, std::string>> headers,
                       std::string body = "",
                       std::optional<std::string> type = "application/json") const {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.headers = std::move(headers);
    r.body = std::move(body);
    r.content_type = std::move(type);
    return http(lp->port(), r);
  }
  HttpResponse as(const std::string& key, const std::string& method, const std::string& target,
                  std::string body = "") const {
    return request(method, target, {{"X-API-Key", key}}, std::move(body));
  }
  long long count(const std::string& where) const {
    return db.count("SELECT count(*) FROM logs WHERE " + where);
  }

  TestDatabase db;
  std::string stream;
  std::unique_ptr<Logpipe> lp;
};

// A route's pattern with its parameters filled in.
std::string concrete(const std::string& pattern) {
  return std::regex_replace(pattern, std::regex("\\{[a-z_]+\\}"), "x1");
}

TEST(Auth, EveryRouteRefusesNoKeyWith401AndAMissingScopeWith403) {
  AuthServer s("auth_walk");
  const std::string ingest = s.key("default", "ingest");
  const std::string query = s.key("default", "query");
  const std::string admin = s.key("default", "admin");
  const std::string revoked = s.key("default", "ingest,query,admin");
  s.start();
  const auto revoke = s.as(admin, "DELETE", "/api/v1/keys/" + revoked.substr(4, 12));
  ASSERT_EQ(revoke.status, 200) << revoke.body;
  const auto other_than = [&](model::Scope needed) {
    return needed == model::Scope::ingest ? query : ingest;
  };
  const auto with = [&](model::Scope needed) {
    return needed == model::Scope::ingest ? ingest : needed == model::Scope::query ? query : admin;
  };
  int routes = 0, scoped = 0;
  for (const auto& spec : api::route_specs()) {
    if (spec.websocket) continue;
    ++routes;
    const std::string method(http::bhttp::to_string(spec.method));
    const std::string target = concrete(spec.pattern);
    const std::string what = method + " " + target;
    const auto bare = s.request(method, target, {});
    if (spec.keyless) {  // answered without a key (x1 is no file of the UI: 404, not 401)
      EXPECT_NE(bare.status, 401) << what;
      EXPECT_NE(bare.status, 403) << what;
      EXPECT_NE(bare.status, 0) << what;
      continue;
    }
    EXPECT_EQ(bare.status, 401) << what << ": " << bare.body;
    EXPECT_TRUE(bare.headers.count("www-authenticate")) << what;
    EXPECT_EQ(s.as(revoked, method, target).status, 401) << what;
    EXPECT_EQ(s.as("lpk_000000000000_" + std::string(43, 'A'), method, target).status, 401) << what;
    if (spec.scope == model::Scope::none) {
      const auto any = s.as(query, method, target);
      EXPECT_NE(any.status, 401) << what;
      EXPECT_NE(any.status, 403) << what;
      continue;
    }
    ++scoped;
    const auto wrong = s.as(other_than(spec.scope), method, target);
    EXPECT_EQ(wrong.status, 403) << what << ": " << wrong.body;
    const auto right = s.as(with(spec.scope), method, target);
    EXPECT_NE(right.status, 401) << what;
    EXPECT_NE(right.status, 403) << what << ": " << right.body;
  }
  EXPECT_GE(routes, 60);
  EXPECT_GE(scoped, 35);
  // /health/live needed nothing; everything else was refused before its handler ran.
  const auto m = get(s.lp->port(), "/health/live");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

TEST(Auth, AnAddressGuessingKeysIsHeldBackWith429AndValidKeysStillPass) {
  AuthServer s("auth_guess");
  const std::string key = s.key("default", "query");
  // 2 failures a second with a burst of 20.
  s.start({"--ip-auth-failures-per-second", "2"});
  const std::string wrong = "lpk_000000000000_" + std::string(43, 'A');
  // The bucket starts full: the first 20 failures are answered 401. However slow the machine,
  // 200 more are sent faster than 2 a second refill it, so 429s must come.
  int unauthorized = 0, limited = 0;
  HttpResponse last_limited;
  for (int i = 0; i < 220 && limited < 5; ++i) {
    const auto r = s.as(i % 2 == 0 ? wrong : "", "GET", "/api/v1/logs");
    if (i < 20) {
      EXPECT_EQ(r.status, 401) << "failure " << i << ": " << r.body;
    }
    if (r.status == 401) ++unauthorized;
    if (r.status == 429) {
      ++limited;
      last_limited = r;
    }
  }
  ASSERT_GE(limited, 5) << unauthorized << " answered 401";
  EXPECT_NE(last_limited.body.find("rate_limited"), std::string::npos) << last_limited.body;
  ASSERT_TRUE(last_limited.headers.count("retry-after"));
  EXPECT_GE(std::stoi(last_limited.headers.at("retry-after")), 1);
  // A valid key from the same address is not held back.
  EXPECT_EQ(s.as(key, "GET", "/api/v1/logs").status, 200);
  const auto metrics = s.as(key, "GET", "/metrics").body;
  EXPECT_GE(metric(metrics, R"(rate_limited_total{reason="ip_auth_failures"})"), 5);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

TEST(Auth, LifecycleCreateUseRevokeExpireThroughTheCliAndTheApi) {
  AuthServer s("auth_lifecycle");
  s.tenant("acme");
  const std::string op = s.key("default", "admin,query");
  const std::string shipper = s.key("acme", "ingest", {"--rate", "5000/s"});
  const std::string short_lived = s.key("acme", "ingest", {"--expires", "3s"});
  s.start();
  EXPECT_EQ(s.as(shipper, "POST", "/api/v1/ingest", R"({"message":"one"})").status, 202);
  EXPECT_EQ(s.as(short_lived, "POST", "/api/v1/ingest", R"({"message":"two"})").status, 202);
  EXPECT_EQ(s.as(shipper, "GET", "/api/v1/logs").status, 403);  // an ingest-only key

  // A key created by the CLI while serve runs works within auth_refresh.
  const std::string late = s.key("acme", "query");
  EXPECT_TRUE(eventually([&] { return s.as(late, "GET", "/api/v1/logs").status == 200; }, 5s));
  // Revoked by the CLI: refused within auth_refresh.
  auto [code, out] = s.cli({"keys", "revoke", late.substr(4, 12)});
  ASSERT_EQ(code, 0) << out;
  EXPECT_TRUE(eventually([&] { return s.as(late, "GET", "/api/v1/logs").status == 401; }, 5s));
  // Expired: refused from its expiry on.
  EXPECT_TRUE(eventually(
      [&] {
        return s.as(short_lived, "POST", "/api/v1/ingest", R"({"message":"late"})").status == 401;
      },
      10s));

  // Through the API: the operator creates a key for acme; it works at once, and stops at once.
  const auto created =
      s.as(op, "POST", "/api/v1/keys", R"({"name":"api key","scopes":["query"],"tenant":"acme"})");
  ASSERT_EQ(created.status, 201) << created.body;
  simdjson::dom::parser parser;
  const auto doc = parse_json(parser, created.body);
  const std::string api_key(doc["key"].get_string().value());
  const std::string api_id(doc["id"].get_string().value());
  EXPECT_EQ(std::string(doc["tenant"].get_string().value()), "acme");
  EXPECT_EQ(s.as(api_key, "GET", "/api/v1/logs").status, 200);
  EXPECT_EQ(s.as(op, "DELETE", "/api/v1/keys/" + api_id).status, 200);
  EXPECT_EQ(s.as(api_key, "GET", "/api/v1/logs").status, 401);
  // The list never shows a key, only ids.
  const auto list = s.as(op, "GET", "/api/v1/keys");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find("lpk_"), std::string::npos);
  EXPECT_NE(list.body.find(api_id), std::string::npos);

  // A tenant's admin manages only its own keys and no tenants.
  const std::string acme_admin = s.key("acme", "admin");
  EXPECT_TRUE(
      eventually([&] { return s.as(acme_admin, "GET", "/api/v1/keys").status == 200; }, 5s));
  const auto acme_list = s.as(acme_admin, "GET", "/api/v1/keys");
  EXPECT_EQ(acme_list.body.find("\"tenant\":\"default\""), std::string::npos) << acme_list.body;
  EXPECT_EQ(s.as(acme_admin, "GET", "/api/v1/tenants").status, 403);
  EXPECT_EQ(s.as(acme_admin, "POST", "/api/v1/keys",
                 R"({"name":"x","scopes":"admin","tenant":"default"})")
                .status,
            403);
  EXPECT_EQ(s.as(acme_admin, "DELETE", "/api/v1/keys/" + op.substr(4, 12)).status, 404);
  // Bad bodies name their field.
  const auto bad = s.as(op, "POST", "/api/v1/keys", R"({"name":"x","scopes":["root"]})");
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("\"field\":\"scopes\""), std::string::npos) << bad.body;
  const auto tenant = s.as(op, "POST", "/api/v1/tenants", R"({"name":"Bad Name"})");
  EXPECT_EQ(tenant.status, 422) << tenant.body;
  EXPECT_EQ(s.as(op, "POST", "/api/v1/tenants", R"({"name":"acme"})").status, 409);

  const auto m = s.as(op, "GET", "/metrics").body;
  EXPECT_GE(metric(m, R"(auth_failures_total{reason="revoked"})"), 2);
  EXPECT_GE(metric(m, R"(auth_failures_total{reason="expired"})"), 1);
  EXPECT_GE(metric(m, R"(auth_failures_total{reason="scope"})"), 1);
  EXPECT_EQ(s.count("tenant_id = 1"), 0);  // acme's records are acme's
  // Every key and tenant change has its audit row: who (the key, or the command line), what.
  const auto audited = [&](const std::string& where) {
    return s.db.count("SELECT count(*) FROM audit_log WHERE " + where);
  };
  const auto audit_rows = [&] {
    auto c = s.db.connect();
    auto rows = c.query("SELECT string_agg(a::text, E'\\n') FROM audit_log a");
    return rows && rows->size() == 1 ? std::string(rows->get(0, 0)) : std::string();
  };
  EXPECT_EQ(audited("action = 'key.create' AND target = '" + api_id + "' AND key_id = '" +
                    op.substr(4, 12) + "' AND detail->>'tenant' = 'acme'"),
            1)
      << audit_rows();
  EXPECT_EQ(audited("action = 'key.revoke' AND target = '" + api_id + "'"), 1);
  EXPECT_EQ(audited("action = 'key.revoke' AND target = '" + late.substr(4, 12) +
                    "' AND remote_addr = 'cli' AND key_id IS NULL"),
            1);
  EXPECT_EQ(audited("action = 'tenant.create' AND target = 'acme' AND remote_addr = 'cli'"), 1);
  EXPECT_EQ(audited("detail::text LIKE '%lpk_%'"), 0);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

TEST(Auth, NoRawKeyInTheDatabaseOrTheLogs) {
  AuthServer s("auth_secret");
  s.tenant("acme");
  const std::string op = s.key("default", "admin,ingest,query");
  s.start();
  const auto created =
      s.as(op, "POST", "/api/v1/keys", R"({"name":"k","scopes":"ingest","tenant":"acme"})");
  ASSERT_EQ(created.status, 201);
  simdjson::dom::parser parser;
  const std::string api_key(parse_json(parser, created.body)["key"].get_string().value());
  ASSERT_EQ(s.as(api_key, "POST", "/api/v1/ingest", R"({"message":"with the key"})").status, 202);
  // A client that sends its key in the wrong place: it must not end up stored either.
  ASSERT_EQ(s.as(op, "POST", "/api/v1/ingest", R"({"message":"x","note":"y"})").status, 202);
  ASSERT_TRUE(eventually([&] { return s.count("true") == 2; }, 20s));
  EXPECT_EQ(s.as(api_key + "x", "GET", "/api/v1/logs").status, 401);
  ASSERT_EQ(s.lp->process().terminate(), 0);

  auto c = s.db.connect();
  auto tables = c.query(
      "SELECT format('%I', tablename) FROM pg_tables WHERE schemaname = 'public' "
      "AND tablename NOT LIKE 'logs\\_%'");  // partitions are scanned through logs
  ASSERT_TRUE(tables);
  ASSERT_GE(tables->size(), 5);
  for (const std::string& key : {op, api_key}) {
    const std::string secret = key.substr(17);
    for (int i = 0; i < tables->size(); ++i) {
      const std::string table(tables->get(i, 0));
      auto found = c.query("SELECT count(*) FROM " + table +
                               " t WHERE strpos(t::text, $1) > 0 OR strpos(t::text, $2) > 0",
                           {key, secret});
      ASSERT_TRUE(found) << table;
      EXPECT_EQ(found->get_int(0, 0), 0) << "a key in table " << table;
    }
    EXPECT_EQ(s.lp->process().output().find(secret), std::string::npos);
  }
  // What is stored is the SHA-256 of the key.
  EXPECT_EQ(
      s.db.count("SELECT count(*) FROM api_keys WHERE hash = sha256('" + api_key + "'::bytea)"), 1);
}

// One record through every ingest endpoint, each with the credentials its clients send. Every
// record carries "<tenant> " at the start of its message and names the tenant's device, service
// and app; the JSON ones also claim another tenant, which must not matter.
int ingest_everywhere(const AuthServer& s, const std::string& t, const std::string& key) {
  const std::string id = key.substr(4, 12);
  const std::vector<std::pair<std::string, std::string>> bearer = {
      {"Authorization", "Bearer " + key}};
  const std::vector<std::pair<std::string, std::string>> x_api_key = {{"X-API-Key", key}};
  struct Case {
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string type = "application/json";
  };
  const std::string claim = R"("tenant_id":99,"tenant":"default")";
  const std::vector<Case> cases = {
      {"/api/v1/ingest", bearer,
       R"({"message":")" + t + R"( ingest","device_id":"dev-)" + t + R"(","service":"svc-)" + t +
           R"(","app":"app-)" + t + R"(",)" + claim + "}"},
      {"/api/v1/ingest/raw?format=plain&service=svc-" + t, x_api_key, t + " raw line\n",
       "text/plain"},
      {"/parse/auto", x_api_key, t + " parse auto line\n", "text/plain"},
      {"/api/log", bearer,
       R"({"device_id":"dev-)" + t + R"(","message":")" + t + R"( api log",)" + claim + "}"},
      {"/api/logs/batch", bearer,
       R"({"logs":[{"device_id":"dev-)" + t + R"(","message":")" + t + R"( batch",)" + claim +
           "}]}"},
      {"/data/fast", bearer,
       R"({"level":"INFO","source":"svc-)" + t + R"(","application":"app-)" + t +
           R"(","message":")" + t + R"( data fast"})"},
      {"/data/", bearer,
       R"({"level":"INFO","source":"svc-)" + t + R"(","application":"app-)" + t +
           R"(","message":")" + t + R"( data stored"})"},
      {"/gelf", x_api_key,
       R"({"version":"1.1","host":"h-)" + t + R"(","short_message":")" + t + R"( gelf"})"},
      {"/loki/api/v1/push",
       {{"Authorization", "Basic " + core::base64_encode("promtail:" + key)}, {"X-Scope-OrgID", t}},
       R"({"streams":[{"stream":{"service_name":"svc-)" + t + R"("},"values":[[")" +
           std::to_string(core::now_micros() * 1000) + R"(",")" + t + R"( loki"]]}]})"},
      {"/v1/logs", x_api_key,
       R"({"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc-)" +
           t + R"("}}]},"scopeLogs":[{"logRecords":[{"body":{"stringValue":")" + t +
           R"( otlp"}}]}]}]})"},
      {"/es/_bulk",
       {{"Authorization", "ApiKey " + core::base64_encode(id + ":" + key)}},
       R"({"index":{"_index":"app-)" + t + "\"}}\n" + R"({"message":")" + t + R"( es bulk"})" +
           "\n",
       "application/x-ndjson"},
      {"/services/collector/event",
       {{"Authorization", "Splunk " + key}},
       R"({"event":")" + t + R"( hec event"})"},
      {"/services/collector/raw",
       {{"Authorization", "Splunk " + key}},
       t + " hec raw\n",
       "text/plain"},
  };
  for (const auto& c : cases) {
    const auto r = s.request("POST", c.target, c.headers, c.body, c.type);
    EXPECT_GE(r.status, 200) << t << " " << c.target << ": " << r.body;
    EXPECT_LT(r.status, 300) << t << " " << c.target << ": " << r.body;
  }
  return static_cast<int>(cases.size());
}

TEST(Auth, TenantsSeeNothingOfEachOtherThroughAnyEndpoint) {
  AuthServer s("auth_isolation");
  s.tenant("alpha");
  s.tenant("beta");
  const std::map<std::string, std::string> keys = {{"alpha", s.key("alpha", "ingest,query,admin")},
                                                   {"beta", s.key("beta", "ingest,query,admin")}};
  s.start();
  int each = 0;
  for (const auto& [tenant, key] : keys)
    each = ingest_everywhere(s, tenant, key);
  const auto tenant_id = [&](const std::string& name) {
    return s.db.count("SELECT id FROM tenants WHERE name = '" + name + "'");
  };
  for (const auto& [tenant, key] : keys) {
    const std::string mine = "message LIKE '" + tenant + " %'";
    ASSERT_TRUE(eventually([&] { return s.count(mine) == each; }, 30s))
        << tenant << ": " << s.count(mine) << " of " << each;
    // Stamped with the key's tenant, whatever the body claimed.
    EXPECT_EQ(s.count(mine + " AND tenant_id = " + std::to_string(tenant_id(tenant))), each);
  }
  EXPECT_EQ(s.count("tenant_id = 1"), 0);
  // The rollups the stats read are written by the worker after the rows.
  for (const auto& [tenant, key] : keys) {
    const std::string other = tenant == "alpha" ? "beta" : "alpha";
    const auto read = [&](const std::string& method, const std::string& target) {
      return s.as(key, method, target);
    };
    const auto sees_other = [&](const HttpResponse& r) {
      return r.body.find("\"" + other + " ") != std::string::npos ||
             r.body.find("-" + other + "\"") != std::string::npos ||
             r.body.find("\"tenant\":\"" + other + "\"") != std::string::npos;
    };
    for (const std::string& target : std::vector<std::string>{
             "/api/v1/logs?limit=1000", "/api/v1/logs/filter?limit=1000",
             "/api/v1/logs/export?format=ndjson", "/api/v1/devices", "/api/v1/services",
             "/api/v1/apps", "/api/logs/dev-" + other, "/api/v1/keys"}) {
      const auto r = read("GET", target);
      EXPECT_EQ(r.status, 200) << tenant << " " << target << ": " << r.body;
      EXPECT_FALSE(sees_other(r)) << tenant << " " << target << ": " << r.body;
    }
    const auto logs = read("GET", "/api/v1/logs?limit=1000");
    simdjson::dom::parser parser;
    EXPECT_EQ(parse_json(parser, logs.body)["count"].get_int64().value(), each) << logs.body;
    EXPECT_TRUE(eventually(
        [&] {
          const auto stats = read("GET", "/api/v1/stats?from=1h");
          simdjson::dom::parser p;
          return stats.status == 200 &&
                 parse_json(p, stats.body)["total_logs"].get_int64().value() == each;
        },
        20s))
        << read("GET", "/api/v1/stats?from=1h").body;
    EXPECT_FALSE(sees_other(read("GET", "/api/stats?from=1h")));
    // The other tenant's rows are not there to read, nor to delete.
    const std::string theirs = std::to_string(s.db.count(
        "SELECT min(id) FROM logs WHERE tenant_id = " + std::to_string(tenant_id(other))));
    EXPECT_EQ(read("GET", "/api/v1/logs/" + theirs).status, 404);
    EXPECT_EQ(read("DELETE", "/api/v1/logs/" + theirs).status, 404);
    EXPECT_EQ(read("GET", "/api/v1/apps/app-" + other).status, 404);
    const auto deleted = read("DELETE", "/api/v1/logs?service=svc-" + other);
    EXPECT_EQ(deleted.status, 200) << deleted.body;
    EXPECT_EQ(read("DELETE", "/api/v1/apps/app-" + other).status, 404);
    EXPECT_EQ(s.count("message LIKE '" + other + " %'"), each);
    // Loki's tenant header may name only the key's own tenant.
    const auto loki = s.request("POST", "/loki/api/v1/push",
                                {{"Authorization", "Bearer " + key}, {"X-Scope-OrgID", other}},
                                R"({"streams":[]})");
    EXPECT_EQ(loki.status, 403) << loki.body;
  }
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

// Dead letters are their tenant's. alpha gets two (records PostgreSQL refuses), beta one; the
// default tenant holds an entry from before tenants were recorded (no tenant field) and one the
// worker could not decode (whose it is cannot be read). A tenant's admin key lists, replays and
// deletes only its own, another tenant's id answered exactly like an unknown one; the operator
// sees them all and may list one tenant's; the queue, every tenant's, is the operator's alone.
TEST(Auth, DeadLettersStayWithTheirTenantAndTheQueueWithTheOperator) {
  AuthServer s("auth_dlq");
  s.tenant("alpha");
  s.tenant("beta");
  const std::string alpha = s.key("alpha", "ingest,admin");
  const std::string beta = s.key("beta", "ingest,admin");
  const std::string op = s.key("default", "admin");
  ASSERT_TRUE(s.db.connect().exec(
      "ALTER TABLE logs ADD CONSTRAINT no_poison CHECK (message NOT LIKE 'poison%')"));
  auto redis = shared_redis();
  const std::string dlq = queue::dead_letter_stream(s.stream);
  auto legacy =
      redis.command({"XADD", dlq, "*", queue::field::entry, "1-0", queue::field::error, "refused",
                     queue::field::failed_at, "2026-11-24T20:33:03Z", queue::field::payload, "x"});
  ASSERT_TRUE(legacy);
  const std::string legacy_id(queue::reply_string(**legacy));
  s.start({"--max-retries", "2"});
  for (const auto& [key, message] : std::vector<std::pair<std::string, std::string>>{
           {alpha, "poison a1"}, {alpha, "poison a2"}, {beta, "poison b1"}}) {
    const auto sent = s.as(key, "POST", "/api/v1/ingest", R"({"message":")" + message + R"("})");
    ASSERT_EQ(sent.status, 202) << sent.body;
  }
  ASSERT_TRUE(redis.command({"XADD", s.stream, "*", queue::field::payload, "not a batch"}));

  simdjson::dom::parser parser;
  struct Listed {
    int status = 0;
    long long length = -1;
    std::vector<std::string> ids, messages;
    std::set<long long> tenants;
  };
  const auto list = [&](const std::string& key, const std::string& query = "") {
    const auto r = s.as(key, "GET", "/api/v1/dlq" + query);
    Listed l{r.status};
    if (r.status != 200) return l;
    const auto doc = parse_json(parser, r.body);
    l.length = doc["length"].get_int64().value();
    for (auto e : doc["entries"].get_array()) {
      l.ids.emplace_back(e["id"].get_string().value());
      l.tenants.insert(e["tenant_id"].get_int64().value());
      simdjson::dom::array records;  // null for an undecodable entry
      if (e["records"].get(records) != simdjson::SUCCESS) continue;
      for (auto record : records)
        l.messages.emplace_back(record["message"].get_string().value());
    }
    std::sort(l.messages.begin(), l.messages.end());  // the worker sets them aside in any order
    return l;
  };
  ASSERT_TRUE(eventually([&] { return list(op).length == 5; }, 30s))
      << s.as(op, "GET", "/api/v1/dlq").body << "\n"
      << s.lp->process().output();
  const auto tenant_id = [&](const std::string& name) {
    return s.db.count("SELECT id FROM tenants WHERE name = '" + name + "'");
  };

  // Each key sees its own tenant's, counted as its own.
  const auto of_alpha = list(alpha);
  EXPECT_EQ(of_alpha.status, 200);
  EXPECT_EQ(of_alpha.length, 2);
  EXPECT_EQ(of_alpha.messages, (std::vector<std::string>{"poison a1", "poison a2"}));
  EXPECT_EQ(of_alpha.tenants, std::set<long long>{tenant_id("alpha")});
  const auto of_beta = list(beta);
  EXPECT_EQ(of_beta.length, 1);
  EXPECT_EQ(of_beta.messages, std::vector<std::string>{"poison b1"});
  ASSERT_EQ(of_beta.ids.size(), 1u);
  const std::string beta_id = of_beta.ids[0];
  EXPECT_EQ(list(alpha, "?limit=1").ids, std::vector<std::string>{of_alpha.ids[0]});
  EXPECT_EQ(list(alpha, "?limit=1").length, 2);
  EXPECT_EQ(list(alpha, "?tenant=alpha").ids, of_alpha.ids);
  const auto naming_beta = s.as(alpha, "GET", "/api/v1/dlq?tenant=beta");
  EXPECT_EQ(naming_beta.status, 403) << naming_beta.body;
  EXPECT_NE(naming_beta.body.find("operator"), std::string::npos) << naming_beta.body;

  // The operator sees every tenant's, or the one it names; the command line every tenant's.
  EXPECT_EQ(list(op, "?tenant=beta").ids, of_beta.ids);
  const auto of_default = list(op, "?tenant=default");
  EXPECT_EQ(of_default.length, 2);
  EXPECT_EQ(of_default.ids.front(), legacy_id);
  EXPECT_EQ(of_default.tenants, std::set<long long>{1});
  EXPECT_EQ(list(op, "?tenant=nobody").status, 404);
  auto [listed, listed_out] = run_logpipe(
      {"dlq", "list", "--stream", s.stream, "--redis-url", Services::shared().redis_url});
  EXPECT_EQ(listed, 0) << listed_out;
  EXPECT_NE(listed_out.find(": 5 entries"), std::string::npos) << listed_out;
  for (const auto& id : {legacy_id, beta_id, of_alpha.ids[1]})
    EXPECT_NE(listed_out.find(id), std::string::npos) << id << "\n" << listed_out;

  // beta's entry is not there for alpha: its delete and replay are answered as for an unknown id.
  const auto unknown = s.as(alpha, "DELETE", "/api/v1/dlq/1-1");
  const auto theirs = s.as(alpha, "DELETE", "/api/v1/dlq/" + beta_id);
  EXPECT_EQ(theirs.status, 404) << theirs.body;
  EXPECT_EQ(std::regex_replace(theirs.body, std::regex(beta_id), "1-1"), unknown.body);
  const auto replay_unknown = s.as(alpha, "POST", "/api/v1/dlq/replay", R"({"ids":["1-1"]})");
  const auto replay_theirs =
      s.as(alpha, "POST", "/api/v1/dlq/replay", R"({"ids":[")" + beta_id + R"("]})");
  EXPECT_EQ(replay_theirs.status, 200) << replay_theirs.body;
  EXPECT_EQ(replay_theirs.body, R"({"replayed":0,"remaining":2})");
  EXPECT_EQ(replay_theirs.body, replay_unknown.body);
  EXPECT_EQ(list(op, "?tenant=beta").ids, of_beta.ids) << "alpha changed beta's dead letters";

  // The cause fixed, alpha's replay of everything moves alpha's two, and only those.
  ASSERT_TRUE(s.db.connect().exec("ALTER TABLE logs DROP CONSTRAINT no_poison"));
  const auto replayed = s.as(alpha, "POST", "/api/v1/dlq/replay", "{}");
  EXPECT_EQ(replayed.status, 200) << replayed.body;
  EXPECT_EQ(replayed.body, R"({"replayed":2,"remaining":0})");
  EXPECT_TRUE(eventually([&] { return s.count("message LIKE 'poison%'") == 2; }, 20s));
  EXPECT_EQ(
      s.count("message LIKE 'poison a%' AND tenant_id = " + std::to_string(tenant_id("alpha"))), 2);
  EXPECT_EQ(list(alpha).length, 0);
  EXPECT_EQ(list(op).length, 3);
  EXPECT_EQ(list(op, "?tenant=beta").ids, of_beta.ids);
  // beta deletes its own: its count, not the stream's.
  const auto deleted = s.as(beta, "DELETE", "/api/v1/dlq/" + beta_id);
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.body, R"({"deleted":1,"remaining":0})");
  EXPECT_EQ(list(op).ids, of_default.ids);
  // The audit rows carry the tenant's counts; the refused delete left none.
  EXPECT_EQ(s.db.count("SELECT count(*) FROM audit_log WHERE action = 'dlq.replay' AND "
                       "detail::text = '{\"all\": true, \"replayed\": 2, \"remaining\": 0}' "
                       "AND tenant_id = " +
                       std::to_string(tenant_id("alpha"))),
            1);
  EXPECT_EQ(s.db.count("SELECT count(*) FROM audit_log WHERE action = 'dlq.delete'"), 1);
  EXPECT_EQ(s.db.count("SELECT count(*) FROM audit_log WHERE action = 'dlq.delete' AND "
                       "detail::text = '{\"ids\": [\"" +
                       beta_id + "\"], \"deleted\": 1, \"remaining\": 0}'"),
            1);

  // The queue is every tenant's pipeline: the operator's only.
  for (const std::string target : {"/api/v1/queue", "/queue/status"}) {
    const auto refused = s.as(alpha, "GET", target);
    EXPECT_EQ(refused.status, 403) << target << ": " << refused.body;
    EXPECT_NE(refused.body.find("\"code\":\"forbidden\""), std::string::npos) << refused.body;
    EXPECT_NE(refused.body.find("operator"), std::string::npos) << refused.body;
    const auto shown = s.as(op, "GET", target);
    EXPECT_EQ(shown.status, 200) << target << ": " << shown.body;
    EXPECT_NE(shown.body.find("\"dlq\":{\"stream\":\"" + dlq + "\",\"length\":2}"),
              std::string::npos)
        << shown.body;
  }
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

// The shippers' own ways of sending a key, with their real clients: the Elasticsearch client's
// apiKey and basic auth, the OpenTelemetry exporter's OTEL_EXPORTER_OTLP_HEADERS, Promtail's
// basic_auth with tenant_id; and the syslog listener's configured tenant.
TEST(Auth, RealClientsSendTheirKeysTheirWay) {
  AuthServer s("auth_clients");
  s.tenant("shop");
  const std::string key = s.key("shop", "ingest");
  const unsigned short syslog_port = free_port();
  s.start(
      {"--syslog-udp-addr", "127.0.0.1:" + std::to_string(syslog_port), "--syslog-tenant", "shop"});
  const std::string base = "http://127.0.0.1:" + std::to_string(s.lp->port());
  auto r = run_node("es_client.js", {"bulk", base + "/es", "orders", "40"}, {{"ES_API_KEY", key}});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  r = run_node("es_client.js", {"bulk", base + "/es", "orders", "20"}, {{"ES_PASSWORD", key}});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  r = run_node("es_client.js", {"info", base + "/es"}, {{"ES_API_KEY", "lpk_wrong"}});
  EXPECT_NE(r.exit_code, 0) << describe(r);
  const std::string tag = unique_tag("otel");
  r = run_node("otel_logs.js", {base + "/v1/logs", "proto", "10", tag},
               {{"OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=" + key}});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  r = run_node("loki_push.js", {base + "/loki/api/v1/push", "20", tag},
               {{"LOKI_BASIC_AUTH", "promtail:" + key}, {"LOKI_ORG_ID", "shop"}});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  r = run_node("loki_push.js", {base + "/loki/api/v1/push", "20", tag + "x"},
               {{"LOKI_BASIC_AUTH", "promtail:" + key}, {"LOKI_ORG_ID", "default"}});
  EXPECT_NE(r.exit_code, 0) << describe(r);
  ASSERT_TRUE(send_udp(syslog_port, "<13>1 - router-1 sshd - - - accepted key"));
  const long long shop = s.db.count("SELECT id FROM tenants WHERE name = 'shop'");
  const long long expected = 40 + 20 + 10 + 20 + 1;
  EXPECT_TRUE(eventually([&] { return s.count("true") == expected; }, 30s))
      << s.count("true") << " of " << expected;
  EXPECT_EQ(s.count("tenant_id = " + std::to_string(shop)), expected);
  EXPECT_EQ(s.count("host = 'router-1' AND source_format = 'syslog'"), 1);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

}  // namespace
}  // namespace logpipe::test
