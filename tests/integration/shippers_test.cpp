// Real shippers' clients against logpipe's Elasticsearch and Splunk HEC endpoints: the official
// Elasticsearch JavaScript client (info() and helpers.bulk), pino with pino-elasticsearch, and a
// HEC batch posted by Node's fetch. Each checks what arrived in PostgreSQL, field by field. The
// clients are tests/clients/*.js at the versions of its lockfile (`make clients`).
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "harness.hpp"

namespace logpipe::test {
namespace {

struct Server {
  explicit Server(const std::string& tag, std::vector<std::string> extra_args = {})
      : db(tag),
        migrated(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first == 0),
        lp({.database_url = db.url(), .stream = unique_tag(tag), .extra_args = extra_args}) {}
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(lp.port()) + path;
  }
  TestDatabase db;
  bool migrated;
  Logpipe lp;
};

// The one JSON line a client script prints.
simdjson::dom::element output(simdjson::dom::parser& parser, const NodeResult& r) {
  return parse_json(parser, r.out);
}

bool stored(const TestDatabase& db, const std::string& where, long long n) {
  return eventually([&] { return db.count("SELECT count(*) FROM logs WHERE " + where) == n; }, 30s);
}

// The first `columns` columns of the one row `sql` selects, as text (NULL → "").
std::vector<std::string> row(const TestDatabase& db, const std::string& sql, int columns = 7) {
  auto c = db.connect();
  auto rows = c.query(sql);
  EXPECT_TRUE(rows.ok()) << sql;
  std::vector<std::string> out;
  if (!rows || rows->size() != 1) return out;
  for (int i = 0; i < columns; ++i)
    out.emplace_back(rows->get(0, i));
  return out;
}

TEST(Elasticsearch, ClientInfoPassesTheProductCheck) {
  Server s("es_info");
  ASSERT_TRUE(s.migrated);
  const auto r = run_node("es_client.js", {"info", s.url("/es")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  simdjson::dom::parser parser;
  const auto info = output(parser, r);
  EXPECT_EQ(std::string_view(info["cluster_name"]), "logpipe");
  EXPECT_EQ(std::string_view(info["version"]).substr(0, 2), "8.");
  EXPECT_EQ(std::string_view(info["tagline"]), "You Know, for Search");
}

TEST(Elasticsearch, HelpersBulkOfFiveThousandDocumentsStoresEachWithItsFields) {
  Server s("es_bulk");
  ASSERT_TRUE(s.migrated);
  const auto r = run_node("es_client.js", {"bulk", s.url("/es"), "shop", "5000"}, {}, 90s);
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  simdjson::dom::parser parser;
  const auto stats = output(parser, r);
  EXPECT_EQ(int64_t(stats["total"]), 5000);
  EXPECT_EQ(int64_t(stats["successful"]), 5000);
  EXPECT_EQ(int64_t(stats["failed"]), 0);

  ASSERT_TRUE(stored(s.db, "app = 'shop'", 5000)) << s.lp.process().output();
  EXPECT_EQ(s.db.count("SELECT count(DISTINCT attrs->>'seq') FROM logs"), 5000);
  EXPECT_EQ(
      s.db.count("SELECT count(*) FROM logs WHERE source_format = 'es_bulk' AND "
                 "service = 'checkout' AND message = 'order ' || (attrs->>'seq') || ' placed'"),
      5000);
  // log.level: info, warn, error, debug in turn.
  EXPECT_EQ(s.db.count("SELECT count(*) FROM logs WHERE level = CASE (attrs->>'seq')::int % 4 "
                       "WHEN 0 THEN 'INFO' WHEN 1 THEN 'WARNING' WHEN 2 THEN 'ERROR' "
                       "ELSE 'DEBUG' END"),
            5000);
  EXPECT_EQ(s.db.count("SELECT count(*) FROM logs WHERE host = 'web-' || "
                       "((attrs->>'seq')::int % 3)"),
            5000);
  // @timestamp → ts, to the millisecond; what is not a record field stays in attrs.
  const auto doc = row(s.db,
                       "SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS'), "
                       "level, message, host, service, app, attrs::text FROM logs "
                       "WHERE attrs->>'seq' = '4321'");
  ASSERT_EQ(doc.size(), 7u);
  EXPECT_EQ(doc[0], "2024-01-15T12:00:04.321");
  EXPECT_EQ(doc[1], "WARNING");
  EXPECT_EQ(doc[2], "order 4321 placed");
  EXPECT_EQ(doc[3], "web-1");
  EXPECT_EQ(doc[4], "checkout");
  EXPECT_EQ(doc[5], "shop");
  EXPECT_EQ(doc[6], R"({"log": {"logger": "orders"}, "seq": 4321, "user": {"id": "u1"}, )"
                    R"("service": {"version": "1.4.2"}})");
}

TEST(Elasticsearch, BadItemsAreReportedAloneAndTheOthersStored) {
  Server s("es_bad");
  ASSERT_TRUE(s.migrated);
  const auto r = run_node("es_client.js", {"bad", s.url("/es"), "mixed"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  simdjson::dom::parser parser;
  const auto stats = output(parser, r);
  EXPECT_EQ(int64_t(stats["total"]), 8);
  EXPECT_EQ(int64_t(stats["successful"]), 6);
  EXPECT_EQ(int64_t(stats["failed"]), 2);
  std::set<int64_t> dropped;
  for (auto d : stats["dropped"].get_array()) {
    dropped.insert(int64_t(d["seq"]));
    EXPECT_EQ(int64_t(d["status"]), 400);
    EXPECT_EQ(std::string_view(d["type"]), "mapper_parsing_exception");
  }
  EXPECT_EQ(dropped, (std::set<int64_t>{1, 3}));
  ASSERT_TRUE(stored(s.db, "app = 'mixed'", 6)) << s.lp.process().output();
  EXPECT_EQ(s.db.count("SELECT count(*) FROM logs WHERE attrs->>'seq' IN ('1', '3')"), 0);
}

TEST(Elasticsearch, PinoElasticsearchLinesArriveWithPinoLevels) {
  Server s("es_pino");
  ASSERT_TRUE(s.migrated);
  const auto r = run_node("pino_elasticsearch.js", {s.url("/es"), "pino-app", "200"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  ASSERT_TRUE(stored(s.db, "app = 'pino-app'", 200)) << s.lp.process().output();
  // pino's numeric 30 → INFO, 50 → ERROR; msg → message; hostname → host; pid stays in attrs.
  EXPECT_EQ(
      s.db.count("SELECT count(*) FROM logs WHERE level = 'INFO' AND "
                 "message = 'cart updated ' || (attrs->>'seq') AND attrs->>'route' = '/cart'"),
      100);
  EXPECT_EQ(s.db.count("SELECT count(*) FROM logs WHERE level = 'ERROR' AND "
                       "message = 'payment failed ' || (attrs->>'seq')"),
            100);
  EXPECT_EQ(s.db.count("SELECT count(*) FROM logs WHERE host <> '' AND attrs ? 'pid' AND "
                       "NOT attrs ? 'level' AND NOT attrs ? 'msg' AND NOT attrs ? 'time' "
                       "AND source_format = 'es_bulk' AND ts > now() - interval '10 minutes'"),
            200);
}

TEST(Elasticsearch, ServedAtTheRootTooWhenEnabled) {
  Server s("es_root", {"--es-at-root", "true", "--es-prefix", "/compat/es"});
  ASSERT_TRUE(s.migrated);
  // The client's product check at / (logpipe's own answer, with Elasticsearch's members) …
  const auto info = run_node("es_client.js", {"info", s.url("")});
  ASSERT_EQ(info.exit_code, 0) << describe(info);
  // … and at the configured prefix; both take bulk.
  ASSERT_EQ(run_node("es_client.js", {"info", s.url("/compat/es")}).exit_code, 0);
  const auto root = run_node("es_client.js", {"bulk", s.url(""), "at-root", "10"});
  ASSERT_EQ(root.exit_code, 0) << describe(root);
  const auto prefixed = run_node("es_client.js", {"bulk", s.url("/compat/es"), "prefixed", "10"});
  ASSERT_EQ(prefixed.exit_code, 0) << describe(prefixed);
  ASSERT_TRUE(stored(s.db, "app IN ('at-root', 'prefixed')", 20)) << s.lp.process().output();
  // logpipe's own GET / still lists its endpoints.
  const auto r = get(s.lp.port(), "/");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"endpoints\""), std::string::npos);
  EXPECT_NE(r.body.find("\"POST /compat/es/_bulk\""), std::string::npos);
  EXPECT_EQ(r.headers.at("x-elastic-product"), "Elasticsearch");
}

TEST(Elasticsearch, EveryReplyUnderThePrefixNamesTheProduct) {
  Server s("es_header");
  ASSERT_TRUE(s.migrated);
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/es"},
                                                        {"HEAD", "/es/"},
                                                        {"GET", "/es/_license"},
                                                        {"GET", "/es/_cluster/health"},
                                                        {"POST", "/es/logs/_refresh"},
                                                        {"GET", "/es/no_such_api"},
                                                        {"DELETE", "/es/_bulk"},
                                                        {"POST", "/es/_bulk"}}) {
    const auto r = http(s.lp.port(), {.method = method, .target = target, .body = ""});
    ASSERT_NE(r.status, 0) << method << " " << target;
    EXPECT_EQ(r.headers.count("x-elastic-product"), 1u) << method << " " << target;
  }
  EXPECT_EQ(get(s.lp.port(), "/health/live").headers.count("x-elastic-product"), 0u);
  // Not NDJSON at all: 400 in Elasticsearch's shape.
  const auto bad = http(s.lp.port(), {.method = "POST", .target = "/es/_bulk", .body = "hello"});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("\"root_cause\""), std::string::npos) << bad.body;
}

TEST(SplunkHec, BatchesFromFetchArriveWithTheirFields) {
  Server s("hec");
  ASSERT_TRUE(s.migrated);
  for (const char* encoding : {"identity", "gzip"}) {
    const auto r = run_node("splunk_hec.js", {s.url("/services/collector/event"), "50", encoding});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    simdjson::dom::parser parser;
    const auto answer = output(parser, r);
    EXPECT_EQ(int64_t(answer["status"]), 200) << r.out;
    EXPECT_EQ(std::string_view(answer["body"]["text"]), "Success");
    EXPECT_EQ(int64_t(answer["body"]["code"]), 0);
  }
  ASSERT_TRUE(stored(s.db, "source_format = 'splunk_hec'", 100)) << s.lp.process().output();
  // event string → message; event object → its message and level, its other members in attrs;
  // time (epoch seconds) → ts; host, source → service, index → app; sourcetype, fields → attrs.
  const auto text = row(s.db,
                        "SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS'), "
                        "level, message, host, service, app, attrs::text FROM logs "
                        "WHERE message = 'GET /cart/4 200' LIMIT 1");
  ASSERT_EQ(text.size(), 7u);
  EXPECT_EQ(text[0], "2024-01-15T12:00:04.250");
  EXPECT_EQ(text[1], "INFO");
  EXPECT_EQ(text[3], "pos-0");
  EXPECT_EQ(text[4], "till");
  EXPECT_EQ(text[5], "retail");
  EXPECT_EQ(text[6], R"({"lane": 0, "store": "north", "sourcetype": "pos:json"})");
  EXPECT_EQ(s.db.count("SELECT count(*) FROM logs WHERE level = 'ERROR' AND "
                       "message = 'payment failed ' || (attrs->>'order') AND host = 'pos-1'"),
            50);
}

TEST(SplunkHec, RawLinesAndBadBatchesAnswerAsHec) {
  Server s("hec_raw");
  ASSERT_TRUE(s.migrated);
  const auto raw = http(s.lp.port(), {.method = "POST",
                                      .target = "/services/collector/raw?host=fw1&source=edge"
                                                "&sourcetype=syslog&index=net",
                                      .body = "deny tcp 10.0.0.1\r\nallow udp 10.0.0.2\n\n",
                                      .headers = {{"Authorization", "Splunk any-token"}},
                                      .content_type = "text/plain"});
  ASSERT_EQ(raw.status, 200) << raw.body;
  EXPECT_EQ(raw.body, R"({"text":"Success","code":0})");
  ASSERT_TRUE(stored(s.db,
                     "app = 'net' AND host = 'fw1' AND service = 'edge' AND "
                     "attrs->>'sourcetype' = 'syslog'",
                     2))
      << s.lp.process().output();
  // The second event has no "event": the batch is refused whole and names it.
  const auto bad = post_json(s.lp.port(), "/services/collector/event",
                             R"({"event":"kept?"}{"time":1705320000})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, R"({"text":"Event field is required","code":12,"invalid-event-number":1})");
  const auto health = get(s.lp.port(), "/services/collector/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"text":"HEC is healthy","code":17})");
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(s.db.count("SELECT count(*) FROM logs WHERE message = 'kept?'"), 0);
}

}  // namespace
}  // namespace logpipe::test
