// The audit log against real PostgreSQL and Redis: every audited action (deletes of logs and
// apps, DLQ replays and deletes, through the API and the CLI) leaves exactly one row naming who,
// what, from where and which request; a failed action leaves none; a change in PostgreSQL whose
// row cannot be written does not happen; GET /api/v1/audit pages, filters and stays in its
// tenant.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "harness.hpp"
#include "queue/redis.hpp"
#include "queue/status.hpp"
#include "queue/stream_consumer.hpp"

namespace logpipe::test {
namespace {

struct AuditRow {
  long long tenant_id = 0;
  std::optional<std::string> key_id;
  std::string action;
  std::optional<std::string> target;
  std::string detail;  // jsonb as text
  std::optional<std::string> remote_addr, request_id;
};

std::vector<AuditRow> audit_rows(const TestDatabase& db) {
  auto c = db.connect();
  auto rows = c.query(
      "SELECT tenant_id, key_id, action, target, detail::text, remote_addr, request_id"
      " FROM audit_log ORDER BY id");
  EXPECT_TRUE(rows) << rows.error().message;
  std::vector<AuditRow> out;
  if (!rows) return out;
  const auto text = [&](int r, int col) -> std::optional<std::string> {
    if (rows->is_null(r, col)) return std::nullopt;
    return std::string(rows->get(r, col));
  };
  for (int r = 0; r < rows->size(); ++r) {
    out.push_back({rows->get_int(r, 0), text(r, 1), std::string(rows->get(r, 2)), text(r, 3),
                   std::string(rows->get(r, 4)), text(r, 5), text(r, 6)});
  }
  return out;
}

HttpResponse send(unsigned short port, std::string method, std::string target,
                  const std::string& request_id, std::string body = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  if (r.body.empty()) r.content_type.reset();
  r.headers.emplace_back("X-Request-Id", request_id);
  return http(port, r);
}

// The audited row of one request: what the principal and the connection say.
void expect_who_and_where(const AuditRow& row, const std::string& request_id) {
  EXPECT_EQ(row.tenant_id, 1);
  EXPECT_FALSE(row.key_id) << "auth = none: no key";
  EXPECT_EQ(row.remote_addr, "127.0.0.1");
  EXPECT_EQ(row.request_id, request_id);
}

class Audit : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  }
  void exec(const std::string& sql) {
    auto c = db.connect();
    auto done = c.exec(sql);
    ASSERT_TRUE(done) << done.error().message;
  }

  TestDatabase db{"audit"};
  std::string stream = unique_tag("audit") + ":stream";
};

TEST_F(Audit, DeletesOfLogsAndAppsLeaveOneRowEachAndFailuresNone) {
  Logpipe lp({.command = "serve", .database_url = db.url(), .stream = stream});
  const auto port = lp.port();
  ASSERT_EQ(post_json(port, "/api/v1/apps", R"({"name":"shop"})").status, 201);
  const auto stored = post_json(port, "/data/",
                                R"([{"message":"a","source":"billing"},
                                    {"message":"b","source":"billing","level":"error"},
                                    {"message":"c","application":"shop"},
                                    {"message":"d","application":"shop"},
                                    {"message":"e","device_id":"d1"}])");
  ASSERT_EQ(stored.status, 201) << stored.body;
  simdjson::dom::parser parser;
  std::vector<std::int64_t> ids;
  for (auto item : parse_json(parser, stored.body).get_array())
    ids.push_back(item["id"].get_int64());
  ASSERT_EQ(ids.size(), 5u);

  // Failed actions: nothing changed, no row.
  EXPECT_EQ(send(port, "DELETE", "/api/v1/logs/999999999", "r-missing").status, 404);
  EXPECT_EQ(send(port, "DELETE", "/api/v1/logs", "r-nofilter").status, 422);
  EXPECT_EQ(send(port, "DELETE", "/api/v1/logs?colour=red", "r-badfilter").status, 422);
  EXPECT_EQ(send(port, "DELETE", "/api/v1/apps/nosuchapp", "r-noapp").status, 404);
  EXPECT_TRUE(audit_rows(db).empty());

  const auto one = send(port, "DELETE", "/api/v1/logs/" + std::to_string(ids[4]), "r-one");
  ASSERT_EQ(one.status, 200) << one.body;
  auto rows = audit_rows(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].action, "log.delete");
  EXPECT_EQ(rows[0].target, std::to_string(ids[4]));
  EXPECT_EQ(rows[0].detail, R"({"deleted": 1})");
  expect_who_and_where(rows[0], "r-one");

  const auto filtered = send(port, "DELETE",
                             "/api/v1/logs?service=billing&level=INFO&level=ERROR&from="
                             "2000-01-01T00:00:00Z&limit=100",
                             "r-filter");
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  EXPECT_EQ(filtered.body, R"({"deleted":2})");
  rows = audit_rows(db);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].action, "logs.delete");
  EXPECT_FALSE(rows[1].target);
  auto detail = parse_json(parser, rows[1].detail);
  EXPECT_EQ(std::string_view(detail["filter"]["service"]), "billing");
  EXPECT_EQ(simdjson::minify(detail["filter"]["level"]), R"(["INFO","ERROR"])");
  EXPECT_EQ(std::string_view(detail["from"]), "2000-01-01T00:00:00.000000Z");
  EXPECT_EQ(detail["limit"].get_int64().value(), 100);
  EXPECT_EQ(detail["deleted"].get_int64().value(), 2);
  expect_who_and_where(rows[1], "r-filter");

  const auto app = send(port, "DELETE", "/api/v1/apps/shop", "r-app");
  ASSERT_EQ(app.status, 200) << app.body;
  rows = audit_rows(db);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].action, "app.delete");
  EXPECT_EQ(rows[2].target, "shop");
  EXPECT_EQ(rows[2].detail, R"({"logs_deleted": 2})");
  expect_who_and_where(rows[2], "r-app");
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 0);

  // A request without an X-Request-Id is audited under the id the server gave it (echoed).
  ASSERT_EQ(post_json(port, "/data/", R"({"message":"f"})").status, 201);
  HttpRequest plain;
  plain.method = "DELETE";
  plain.target = "/api/v1/logs?q=f";
  plain.content_type.reset();
  const auto generated = http(port, plain);
  ASSERT_EQ(generated.status, 200) << generated.body;
  rows = audit_rows(db);
  ASSERT_EQ(rows.size(), 4u);
  ASSERT_TRUE(rows[3].request_id);
  EXPECT_EQ(*rows[3].request_id, generated.headers.at("x-request-id"));
  EXPECT_EQ(lp.process().terminate(), 0);
}

// No change in PostgreSQL without its row: when the row cannot be written (here a constraint
// refuses it), the delete is rolled back and answered as a failure, and the failure is counted.
TEST_F(Audit, ADeleteWhoseRowCannotBeWrittenDoesNotHappen) {
  exec("ALTER TABLE audit_log ADD CONSTRAINT refuse_app_delete CHECK (action <> 'app.delete')");
  Logpipe lp({.command = "serve", .database_url = db.url(), .stream = stream});
  const auto port = lp.port();
  ASSERT_EQ(post_json(port, "/api/v1/apps", R"({"name":"shop"})").status, 201);
  ASSERT_EQ(post_json(port, "/data/", R"({"message":"c","application":"shop"})").status, 201);
  const auto refused = send(port, "DELETE", "/api/v1/apps/shop", "r-app");
  EXPECT_EQ(refused.status, 500) << refused.body;
  EXPECT_NE(lp.process().output().find("audit log row not written"), std::string::npos);
  EXPECT_EQ(db.count("SELECT count(*) FROM apps WHERE name = 'shop'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM audit_log"), 0);
  EXPECT_EQ(metric(port, "audit_write_failures_total"), 1);
  EXPECT_EQ(get(port, "/api/v1/apps/shop").status, 200);
  EXPECT_EQ(lp.process().terminate(), 0);
}

// With keys: the row names the key that acted and goes to its tenant; a key of another tenant
// neither reaches the default tenant's logs (404, no row) nor sees its rows.
TEST_F(Audit, WithKeysARowNamesItsKeyAndStaysInItsTenant) {
  ASSERT_EQ(run_logpipe({"tenants", "create", "acme", "--database-url", db.url()}).first, 0);
  simdjson::dom::parser parser;
  const auto create_key = [&](const std::string& tenant, const std::string& scopes) {
    auto [code, out] = run_logpipe({"keys", "create", "--tenant", tenant, "--name", "ops",
                                    "--scopes", scopes, "--json", "--database-url", db.url()});
    EXPECT_EQ(code, 0) << out;
    const auto json = out.substr(std::min(out.find('{'), out.size()));
    auto key = parse_json(parser, json.substr(0, json.find('\n')));
    return std::pair<std::string, std::string>(std::string(std::string_view(key["id"])),
                                               std::string(std::string_view(key["key"])));
  };
  const auto [ops_id, ops] = create_key("default", "ingest,query,admin");
  const auto [acme_id, acme] = create_key("acme", "ingest,query,admin");
  const auto [reader_id, reader] = create_key("default", "query");
  ASSERT_FALSE(ops.empty());
  Logpipe lp({.command = "serve",
              .database_url = db.url(),
              .stream = stream,
              .env = {{"LOGPIPE_AUTH", "keys"}}});
  const auto port = lp.port();
  const auto as = [&](const std::string& key, std::string method, std::string target,
                      const std::string& request_id, std::string body = {}) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    if (r.body.empty()) r.content_type.reset();
    r.headers = {{"X-API-Key", key}, {"X-Request-Id", request_id}};
    return http(port, r);
  };
  const auto store_one = [&](const std::string& key) {
    const auto stored = as(key, "POST", "/data/", "r-store", R"({"message":"m"})");
    EXPECT_EQ(stored.status, 201) << stored.body;
    return std::to_string(parse_json(parser, stored.body)["id"].get_int64().value());
  };
  const auto mine = store_one(ops);
  const auto theirs = store_one(acme);

  EXPECT_EQ(as(acme, "DELETE", "/api/v1/logs/" + mine, "r-cross").status, 404);
  EXPECT_EQ(as(reader, "DELETE", "/api/v1/logs/" + mine, "r-scope").status, 403);
  EXPECT_EQ(db.count("SELECT count(*) FROM audit_log WHERE action = 'log.delete'"), 0);

  ASSERT_EQ(as(ops, "DELETE", "/api/v1/logs/" + mine, "r-ops").status, 200);
  ASSERT_EQ(as(acme, "DELETE", "/api/v1/logs/" + theirs, "r-acme").status, 200);
  const auto acme_tenant = db.count("SELECT id FROM tenants WHERE name = 'acme'");
  EXPECT_EQ(db.count("SELECT count(*) FROM audit_log WHERE action = 'log.delete' AND tenant_id = 1"
                     " AND key_id = '" +
                     ops_id + "' AND target = '" + mine + "' AND request_id = 'r-ops'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM audit_log WHERE action = 'log.delete' AND tenant_id = " +
                     std::to_string(acme_tenant) + " AND key_id = '" + acme_id +
                     "' AND target = '" + theirs + "' AND request_id = 'r-acme'"),
            1);

  // Each tenant's admin sees its own rows only; a key without the admin scope sees none.
  const auto targets_seen_by = [&](const std::string& key) {
    const auto page = as(key, "GET", "/api/v1/audit?action=log.delete", "r-list");
    EXPECT_EQ(page.status, 200) << page.body;
    std::vector<std::string> targets;
    if (page.status != 200) return targets;
    for (auto entry : parse_json(parser, page.body)["entries"].get_array())
      targets.emplace_back(std::string_view(entry["target"]));
    return targets;
  };
  EXPECT_EQ(targets_seen_by(ops), std::vector<std::string>{mine});
  EXPECT_EQ(targets_seen_by(acme), std::vector<std::string>{theirs});
  EXPECT_EQ(as(reader, "GET", "/api/v1/audit", "r-reader").status, 403);
  EXPECT_EQ(as("lpk_000000000000_nope", "GET", "/api/v1/audit", "r-nokey").status, 401);
  EXPECT_EQ(lp.process().terminate(), 0);
}

class AuditDlq : public Audit {
 protected:
  std::string add_entry() {
    auto id = redis.command({"XADD", dlq, "*", queue::field::entry, "1-0", queue::field::error,
                             "refused", queue::field::failed_at, "2026-11-24T20:33:03Z",
                             queue::field::payload, "x"});
    EXPECT_TRUE(id);
    return id ? std::string(queue::reply_string(**id)) : "";
  }
  long long dlq_length() {
    auto r = redis.command({"XLEN", dlq});
    return r ? queue::reply_integer(**r) : -1;
  }
  std::pair<int, std::string> cli(std::vector<std::string> args) {
    args.insert(args.end(), {"--stream", stream, "--redis-url", Services::shared().redis_url,
                             "--database-url", db.url()});
    return run_logpipe(args);
  }

  queue::SyncClient redis = shared_redis();
  std::string dlq = queue::dead_letter_stream(stream);
};

TEST_F(AuditDlq, ApiReplaysAndDeletesLeaveOneRowEachAndFailuresNone) {
  const auto first = add_entry();
  const auto second = add_entry();
  Logpipe lp({.command = "serve", .database_url = db.url(), .stream = stream});
  const auto port = lp.port();

  EXPECT_EQ(send(port, "DELETE", "/api/v1/dlq/not-an-id", "r-bad").status, 422);
  EXPECT_EQ(send(port, "DELETE", "/api/v1/dlq/1-1", "r-missing").status, 404);
  EXPECT_EQ(send(port, "POST", "/api/v1/dlq/replay", "r-badbody", R"({"ids":"x"})").status, 422);
  EXPECT_TRUE(audit_rows(db).empty());

  const auto replayed =
      send(port, "POST", "/api/v1/dlq/replay", "r-replay", R"({"ids":[")" + first + R"("]})");
  ASSERT_EQ(replayed.status, 200) << replayed.body;
  EXPECT_EQ(replayed.body, R"({"replayed":1,"remaining":1})");
  auto rows = audit_rows(db);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].action, "dlq.replay");
  EXPECT_EQ(rows[0].target, dlq);
  EXPECT_EQ(rows[0].detail, R"({"ids": [")" + first + R"("], "replayed": 1, "remaining": 1})");
  expect_who_and_where(rows[0], "r-replay");

  const auto deleted = send(port, "DELETE", "/api/v1/dlq/" + second, "r-delete");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  rows = audit_rows(db);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].action, "dlq.delete");
  EXPECT_EQ(rows[1].target, second);
  EXPECT_EQ(rows[1].detail, R"({"ids": [")" + second + R"("], "deleted": 1, "remaining": 0})");
  expect_who_and_where(rows[1], "r-delete");

  // Everything (the dead-letter stream is empty now: still an action that succeeded).
  ASSERT_EQ(send(port, "POST", "/api/v1/dlq/replay", "r-all", "{}").status, 200);
  rows = audit_rows(db);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[2].detail, R"({"all": true, "replayed": 0, "remaining": 0})");
  EXPECT_EQ(lp.process().terminate(), 0);
}

// The DLQ lives in Redis: a row that cannot be written after the change is logged and counted,
// and the change, which happened, is answered as done.
TEST_F(AuditDlq, ARowThatFailsAfterARedisChangeIsCountedAndTheChangeStands) {
  exec("ALTER TABLE audit_log ADD CONSTRAINT refuse_dlq_delete CHECK (action <> 'dlq.delete')");
  const auto id = add_entry();
  Logpipe lp({.command = "serve", .database_url = db.url(), .stream = stream});
  const auto deleted = send(lp.port(), "DELETE", "/api/v1/dlq/" + id, "r-delete");
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(dlq_length(), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM audit_log"), 0);
  EXPECT_EQ(metric(lp.port(), "audit_write_failures_total"), 1);
  EXPECT_NE(lp.process().output().find("audit log row not written"), std::string::npos);
  EXPECT_EQ(lp.process().terminate(), 0);
}

// Without PostgreSQL a DLQ change could not be recorded: it is refused, and Redis keeps the
// entry; once PostgreSQL is back (a fresh connection for the dead pooled one), it goes through.
TEST_F(AuditDlq, WithoutPostgresTheApiRefusesTheChange) {
  PrivateService pg("postgres");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", pg.url()}}).first, 0);
  const auto id = add_entry();
  Logpipe lp({.command = "serve", .database_url = pg.url(), .stream = stream});
  // A first change opens the pool's connection, which the restart below then kills.
  ASSERT_EQ(send(lp.port(), "POST", "/api/v1/dlq/replay", "r-warm", R"({"ids":["1-1"]})").status,
            200);
  pg.stop();
  const auto refused = send(lp.port(), "DELETE", "/api/v1/dlq/" + id, "r-down");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(dlq_length(), 1) << "changed without a way to record it";
  pg.start();
  const auto deleted = send(lp.port(), "DELETE", "/api/v1/dlq/" + id, "r-up");
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(dlq_length(), 0);
  auto c = store::Connection::open(pg.url());
  ASSERT_TRUE(c);
  auto rows = c->query("SELECT action, request_id FROM audit_log ORDER BY id");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2);
  EXPECT_EQ(rows->get(0, 1), "r-warm");
  EXPECT_EQ(rows->get(1, 0), "dlq.delete");
  EXPECT_EQ(rows->get(1, 1), "r-up");
  EXPECT_EQ(lp.process().terminate(), 0);
}

TEST_F(AuditDlq, CliReplaysAndDeletesAreAuditedAsTheCommandLine) {
  const auto first = add_entry();
  const auto second = add_entry();
  const auto third = add_entry();

  auto [bad, bad_out] = cli({"dlq", "delete", "not-an-id"});
  EXPECT_EQ(bad, 2) << bad_out;
  auto [missing, missing_out] = cli({"dlq", "delete", "1-1"});
  EXPECT_EQ(missing, 1) << missing_out;
  EXPECT_TRUE(audit_rows(db).empty()) << "nothing was deleted";

  auto [replayed, replay_out] = cli({"dlq", "replay", "--id", first});
  ASSERT_EQ(replayed, 0) << replay_out;
  auto [deleted, delete_out] = cli({"dlq", "delete", second, third});
  ASSERT_EQ(deleted, 0) << delete_out;
  const auto rows = audit_rows(db);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    EXPECT_EQ(row.tenant_id, 1);
    EXPECT_FALSE(row.key_id);
    EXPECT_EQ(row.remote_addr, "cli");
    EXPECT_FALSE(row.request_id);
  }
  EXPECT_EQ(rows[0].action, "dlq.replay");
  EXPECT_EQ(rows[0].detail, R"({"ids": [")" + first + R"("], "replayed": 1, "remaining": 2})");
  EXPECT_EQ(rows[1].action, "dlq.delete");
  EXPECT_FALSE(rows[1].target) << "several ids: they are in the detail";
  EXPECT_EQ(rows[1].detail,
            R"({"ids": [")" + second + R"(", ")" + third + R"("], "deleted": 2, "remaining": 0})");

  // Without PostgreSQL nothing changes: the change could not be recorded.
  const auto fourth = add_entry();
  auto [refused, refused_out] = run_logpipe(
      {"dlq", "delete", fourth, "--stream", stream, "--redis-url", Services::shared().redis_url,
       "--database-url", "postgresql://logpipe@127.0.0.1:1/none"});
  EXPECT_EQ(refused, 1) << refused_out;
  EXPECT_NE(refused_out.find("nothing changed"), std::string::npos) << refused_out;
  EXPECT_EQ(dlq_length(), 1);
}

TEST_F(Audit, ListPagesNewestFirstFiltersAndStaysInItsTenant) {
  // 25 rows of the default tenant a minute apart (the newest a minute ago), 5 of tenant 2.
  exec(R"sql(
    INSERT INTO audit_log (at, tenant_id, key_id, action, target, detail, remote_addr, request_id)
    SELECT now() - make_interval(mins => n), 1,
           CASE WHEN n % 2 = 0 THEN 'k1' END,
           CASE WHEN n % 3 = 0 THEN 'app.delete' ELSE 'logs.delete' END,
           't' || n, jsonb_build_object('n', n), '10.0.0.1', 'req-' || n
    FROM generate_series(1, 25) AS n;
    INSERT INTO audit_log (at, tenant_id, key_id, action, target, remote_addr)
    SELECT now() - make_interval(mins => n), 2, 'k1', 'logs.delete', 'other' || n, '10.0.0.2'
    FROM generate_series(1, 5) AS n;)sql");
  Logpipe lp({.command = "serve", .database_url = db.url(), .stream = stream});
  const auto port = lp.port();
  simdjson::dom::parser parser;

  // Every page in order: newest first, each row once, only the default tenant's.
  const auto walk = [&](const std::string& query) {
    std::vector<std::string> targets;
    std::string cursor;
    for (int pages = 0; pages < 30; ++pages) {
      const auto r =
          get(port, "/api/v1/audit?" + query + (cursor.empty() ? "" : "&cursor=" + cursor));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) break;
      auto page = parse_json(parser, r.body);
      for (auto entry : page["entries"].get_array())
        targets.emplace_back(std::string_view(entry["target"]));
      if (page["next_cursor"].is_null()) break;
      cursor = std::string(std::string_view(page["next_cursor"]));
    }
    return targets;
  };
  std::vector<std::string> all;
  for (int n = 1; n <= 25; ++n)
    all.push_back("t" + std::to_string(n));
  EXPECT_EQ(walk("limit=4"), all);
  EXPECT_EQ(walk("limit=1000"), all);

  const auto first = get(port, "/api/v1/audit?limit=1");
  ASSERT_EQ(first.status, 200) << first.body;
  auto page = parse_json(parser, first.body);
  EXPECT_EQ(page["count"].get_int64().value(), 1);
  auto entry = page["entries"].at(0);
  EXPECT_EQ(std::string_view(entry["action"]), "logs.delete");
  EXPECT_TRUE(entry["key_id"].is_null());
  EXPECT_EQ(simdjson::minify(entry["detail"]), R"({"n":1})");
  EXPECT_EQ(std::string_view(entry["remote_addr"]), "10.0.0.1");
  EXPECT_EQ(std::string_view(entry["request_id"]), "req-1");

  // Filters: action (any of), key_id, from/to (relative or RFC 3339).
  const auto targets_of = [](std::initializer_list<int> ns) {
    std::vector<std::string> out;
    for (const int n : ns)
      out.push_back("t" + std::to_string(n));
    return out;
  };
  EXPECT_EQ(walk("action=app.delete&limit=3"), targets_of({3, 6, 9, 12, 15, 18, 21, 24}));
  EXPECT_EQ(walk("action=app.delete,logs.delete"), all);
  EXPECT_EQ(walk("action=app.delete&key_id=k1"), targets_of({6, 12, 18, 24}));
  EXPECT_EQ(walk("from=330s&to=90s"), targets_of({2, 3, 4, 5}));
  EXPECT_TRUE(walk("from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z").empty());
  EXPECT_TRUE(walk("key_id=nobody").empty());

  // Refused parameters name themselves.
  for (const std::string bad : {"colour=red", "limit=0", "limit=1001", "cursor=%21%21",
                                "from=yesterday", "from=1m&to=2m", "action="}) {
    const auto r = get(port, "/api/v1/audit?" + bad);
    EXPECT_EQ(r.status, 422) << bad << ": " << r.body;
  }

  // `logpipe audit` prints the same rows, across pages.
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  auto [code, out] = run_logpipe({"audit", "--url", url, "--limit", "3", "--output", "ndjson"});
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3) << out;
  EXPECT_NE(out.find(R"("target":"t3")"), std::string::npos) << out;
  auto [table_code, table] =
      run_logpipe({"audit", "--url", url, "--action", "app.delete", "--key-id", "k1"});
  ASSERT_EQ(table_code, 0) << table;
  EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), 4) << table;
  EXPECT_NE(table.find(" app.delete t6 key=k1 from=10.0.0.1 request=req-6 {\"n\":6}\n"),
            std::string::npos)
      << table;
  auto [refused, refused_out] = run_logpipe({"audit", "--url", url, "--from", "yesterday"});
  EXPECT_EQ(refused, 1) << refused_out;
  EXPECT_NE(refused_out.find("422"), std::string::npos) << refused_out;
  EXPECT_EQ(lp.process().terminate(), 0);
}

}  // namespace
}  // namespace logpipe::test
