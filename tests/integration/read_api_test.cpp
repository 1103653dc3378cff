// The read side beyond the search: statistics against count(*) over the same data (ranges,
// filters, histograms), devices, services, apps (CRUD and the cascade of a delete), one log by id,
// and deletes, which must keep the statistics equal to count(*).
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "core/time.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

using Counts = std::map<std::string, long long>;

const std::vector<std::string> kLevels{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
const std::vector<std::string> kServices{"api", "db", "web", ""};  // "": none given
const std::vector<std::string> kApps{"shop", "blog", ""};

Counts counts_of(simdjson::dom::element object) {
  Counts out;
  for (auto [key, value] : object.get_object())
    out[std::string(key)] = value.get_int64();
  return out;
}

std::string q(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

class ReadApi : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
    lp.emplace(LogpipeOptions{.database_url = db.url(), .stream = unique_tag("read")});
    std::mt19937 rng(5);
    // ~3 days back to now, at random microseconds: ranges cut through days, hours and minutes.
    const core::Micros span = 3LL * 86'400'000'000;
    start = core::now_micros() - span;
    std::string body;
    for (int n = 0; n < kLogs; ++n) {
      const core::Micros ts =
          start + static_cast<core::Micros>(rng() % static_cast<unsigned>(span / 1000)) * 1000;
      const auto& service = kServices[rng() % kServices.size()];
      const auto& app = kApps[rng() % kApps.size()];
      body += R"({"ts":")" + core::format_rfc3339(ts) + R"(","message":"m)" + std::to_string(n) +
              R"(","device_id":"dev-)" + std::to_string(rng() % 7) + R"(","level":")" +
              kLevels[rng() % kLevels.size()] + "\"" +
              (service.empty() ? "" : R"(,"service":")" + service + "\"") +
              (app.empty() ? "" : R"(,"app":")" + app + "\"") + "}\n";
      if ((n + 1) % 250 == 0) {
        HttpRequest r;
        r.method = "POST";
        r.target = "/api/v1/ingest";
        r.content_type = "application/x-ndjson";
        r.body = std::move(body);
        body.clear();
        ASSERT_EQ(http(lp->port(), r).status, 202);
      }
    }
    ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == kLogs; }, 30s));
    // The rollups commit with the rows, in the same transaction.
  }

  // /api/v1/stats must equal count(*) over logs with `where` (and ts in the range).
  void expect_stats_match(const std::string& params, const std::string& where) {
    SCOPED_TRACE(params);
    auto r = get(lp->port(), "/api/v1/stats?" + params);
    ASSERT_EQ(r.status, 200) << r.body;
    simdjson::dom::parser parser;
    auto doc = parse_json(parser, r.body);
    const std::string from(std::string_view(doc["from"].get_string()));
    const std::string to(std::string_view(doc["to"].get_string()));
    const std::string range = where + " AND ts >= " + q(from) + " AND ts < " + q(to);
    EXPECT_EQ(doc["total_logs"].get_int64().value(),
              db.count("SELECT count(*) FROM logs WHERE " + range));
    const auto by = [&](const char* key, const char* column) {
      Counts expected;
      for (const auto& [name, list] : std::map<std::string, std::vector<std::string>>{
               {"level", kLevels}, {"service", kServices}, {"app", kApps}}) {
        if (name != column) continue;
        for (const auto& v : list) {
          const auto n = db.count("SELECT count(*) FROM logs WHERE " + range + " AND coalesce(" +
                                  name + ", '') = " + q(v));
          if (n) expected[v] = n;
        }
      }
      EXPECT_EQ(counts_of(doc[key]), expected) << key;
    };
    by("by_level", "level");
    by("by_service", "service");
    by("by_app", "app");
    // Each histogram bucket against the rows of its interval (and of the range).
    const std::string interval(std::string_view(doc["interval"].get_string()));
    const std::map<std::string, std::string> sql_interval{
        {"1m", "1 minute"}, {"5m", "5 minutes"}, {"1h", "1 hour"}, {"1d", "1 day"}};
    long long buckets_total = 0, nonempty = 0;
    for (auto bucket : doc["histogram"].get_array()) {
      const std::string start_text(std::string_view(bucket["start"].get_string()));
      const long long n = bucket["total"].get_int64();
      buckets_total += n;
      if (n == 0) continue;
      if (++nonempty > 12) continue;  // a sample is enough: each is a query
      EXPECT_EQ(n, db.count("SELECT count(*) FROM logs WHERE " + range + " AND date_bin('" +
                            sql_interval.at(interval) +
                            "', ts, timestamptz '2000-01-01Z') = " + q(start_text)))
          << start_text;
    }
    EXPECT_EQ(buckets_total, doc["total_logs"].get_int64().value());
  }

  static constexpr int kLogs = 2000;
  TestDatabase db{"read"};
  std::optional<Logpipe> lp;
  core::Micros start = 0;
};

TEST_F(ReadApi, StatsEqualCountOverRangesFiltersAndIntervals) {
  expect_stats_match("", "true");
  expect_stats_match("service=api", "service = 'api'");
  expect_stats_match("app=shop&interval=1h", "app = 'shop'");
  std::mt19937 rng(9);
  const core::Micros span = core::now_micros() - start;
  for (int i = 0; i < 12; ++i) {
    core::Micros a = start + static_cast<core::Micros>(rng() % 1000) * (span / 1000);
    core::Micros b = start + static_cast<core::Micros>(rng() % 1000) * (span / 1000);
    if (a > b) std::swap(a, b);
    const char* intervals[] = {"", "&interval=1h", "&interval=5m", "&interval=1d"};
    std::string interval = intervals[i % 4];
    if (interval == "&interval=5m" && b - a > 86'400'000'000LL) interval = "&interval=1h";
    expect_stats_match(
        "from=" + core::format_rfc3339(a) + "&to=" + core::format_rfc3339(b) + interval, "true");
  }
  expect_stats_match("from=2h", "true");  // relative, within one day: minutes and hours
}

TEST_F(ReadApi, StatsRejectBadParameters) {
  for (const char* bad : {"interval=2m", "from=yesterday", "devices=-1", "colour=red",
                          "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"}) {
    auto r = get(lp->port(), std::string("/api/v1/stats?") + bad);
    EXPECT_EQ(r.status, 422) << bad << " " << r.body;
  }
  auto r = get(lp->port(), "/api/v1/stats?from=30d&interval=1m");
  EXPECT_EQ(r.status, 422) << "43,200 buckets: " << r.body;
  EXPECT_NE(r.body.find("interval"), std::string::npos);
  EXPECT_EQ(get(lp->port(), "/api/stats").status, 200);
}

TEST_F(ReadApi, DevicesAndServicesMatchTheLogs) {
  auto r = get(lp->port(), "/api/v1/devices?sort=device_id");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, r.body);
  int seen = 0;
  for (auto d : doc["devices"].get_array()) {
    const std::string id(std::string_view(d["device_id"].get_string()));
    EXPECT_EQ(d["log_count"].get_int64().value(),
              db.count("SELECT count(*) FROM logs WHERE device_id = " + q(id)))
        << id;
    ++seen;
  }
  EXPECT_EQ(seen, db.count("SELECT count(DISTINCT device_id) FROM logs"));
  doc = parse_json(parser, get(lp->port(), "/api/v1/devices?prefix=dev-3").body);
  EXPECT_EQ(doc["count"].get_int64().value(), 1);
  // Its logs span three days: fewer than asked in the last day, so the whole table is read.
  doc = parse_json(parser, get(lp->port(), "/api/logs/dev-3?limit=1000").body);
  EXPECT_EQ(doc["total"].get_int64().value(),
            db.count("SELECT count(*) FROM logs WHERE device_id = 'dev-3'"));
  doc = parse_json(parser, get(lp->port(), "/api/logs/dev-3?limit=5").body);
  EXPECT_EQ(doc["data"].at(0)["id"].get_int64().value(),
            db.count("SELECT id FROM logs WHERE device_id = 'dev-3' ORDER BY ts DESC, id DESC "
                     "LIMIT 1"));
  // Every device logged within the last three days: none has been silent for four.
  doc = parse_json(parser, get(lp->port(), "/api/v1/devices?silent_for=4d").body);
  EXPECT_EQ(doc["count"].get_int64().value(), 0);
  EXPECT_EQ(get(lp->port(), "/api/v1/devices?silent_for=soon").status, 422);

  doc = parse_json(parser, get(lp->port(), "/api/v1/services").body);
  long long total = 0;
  for (auto s : doc["services"].get_array()) {
    const std::string name(std::string_view(s["service"].get_string()));
    EXPECT_EQ(s["log_count"].get_int64().value(),
              db.count("SELECT count(*) FROM logs WHERE coalesce(service, '') = " + q(name)));
    total += s["log_count"].get_int64().value();
  }
  EXPECT_EQ(total, kLogs);
}

TEST_F(ReadApi, AppsCrudAndDeleteCascades) {
  simdjson::dom::parser parser;
  // Ingest named "shop" and "blog": they exist without being registered.
  auto doc = parse_json(parser, get(lp->port(), "/api/v1/apps").body);
  EXPECT_EQ(doc["count"].get_int64().value(), 2);

  auto created = post_json(lp->port(), "/api/v1/apps", R"({"name":"crm","description":"sales"})");
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(post_json(lp->port(), "/api/v1/apps", R"({"name":"crm"})").status, 409);
  EXPECT_EQ(post_json(lp->port(), "/api/v1/apps", R"({"description":"x"})").status, 422);
  EXPECT_EQ(post_json(lp->port(), "/api/v1/apps", R"({"name":7})").status, 422);
  EXPECT_EQ(post_json(lp->port(), "/api/v1/apps", R"({"name":"a","owner":"me"})").status, 422);
  EXPECT_EQ(post_json(lp->port(), "/api/v1/apps", "{nope").status, 400);
  HttpRequest put;
  put.method = "PUT";
  put.target = "/api/v1/apps/crm";
  put.body = R"({"description":"sales and support"})";
  auto changed = http(lp->port(), put);
  ASSERT_EQ(changed.status, 200) << changed.body;
  doc = parse_json(parser, get(lp->port(), "/api/v1/apps/crm").body);
  EXPECT_EQ(std::string_view(doc["description"].get_string()), "sales and support");
  put.target = "/api/v1/apps/nothing";
  EXPECT_EQ(http(lp->port(), put).status, 404);
  EXPECT_EQ(get(lp->port(), "/api/v1/apps/nothing").status, 404);

  const long long shop = db.count("SELECT count(*) FROM logs WHERE app = 'shop'");
  ASSERT_GT(shop, 0);
  HttpRequest del;
  del.method = "DELETE";
  del.target = "/api/v1/apps/shop";
  auto deleted = http(lp->port(), del);
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  doc = parse_json(parser, deleted.body);
  EXPECT_EQ(doc["logs_deleted"].get_int64().value(), shop);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE app = 'shop'"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), kLogs - shop);
  EXPECT_EQ(http(lp->port(), del).status, 404);
  expect_stats_match("", "true");
  // Device counts are corrected too.
  doc = parse_json(parser, get(lp->port(), "/api/v1/devices?prefix=dev-1").body);
  EXPECT_EQ(doc["devices"].at(0)["log_count"].get_int64().value(),
            db.count("SELECT count(*) FROM logs WHERE device_id = 'dev-1'"));
}

TEST_F(ReadApi, OneLogByIdAndDeletes) {
  const long long id = db.count("SELECT min(id) FROM logs");
  auto r = get(lp->port(), "/api/v1/logs/" + std::to_string(id));
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, r.body);
  EXPECT_EQ(doc["id"].get_int64().value(), id);
  EXPECT_EQ(get(lp->port(), "/api/v1/logs/abc").status, 422);
  EXPECT_EQ(get(lp->port(), "/api/v1/logs/999999999").status, 404);

  HttpRequest del;
  del.method = "DELETE";
  del.target = "/api/v1/logs/" + std::to_string(id);
  EXPECT_EQ(http(lp->port(), del).status, 200);
  EXPECT_EQ(http(lp->port(), del).status, 404);
  EXPECT_EQ(get(lp->port(), "/api/v1/logs/" + std::to_string(id)).status, 404);

  del.target = "/api/v1/logs";
  EXPECT_EQ(http(lp->port(), del).status, 422) << "a delete needs a filter";
  del.target = "/api/v1/logs?service=api&cursor=x";
  EXPECT_EQ(http(lp->port(), del).status, 422);
  const long long errors = db.count("SELECT count(*) FROM logs WHERE level = 'ERROR'");
  ASSERT_GT(errors, 10);
  del.target = "/api/v1/logs?level=error&limit=10";
  r = http(lp->port(), del);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(parse_json(parser, r.body)["deleted"].get_int64().value(), 10);
  del.target = "/api/v1/logs?level=error";
  r = http(lp->port(), del);
  EXPECT_EQ(parse_json(parser, r.body)["deleted"].get_int64().value(), errors - 10);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE level = 'ERROR'"), 0);
  expect_stats_match("", "true");
  expect_stats_match("from=1d&interval=1h", "true");
}

}  // namespace
}  // namespace logpipe::test
