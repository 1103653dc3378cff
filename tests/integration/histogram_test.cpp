// GET /api/v1/logs/histogram against real PostgreSQL: every bucket of every filter equals a count
// written here in plain SQL, buckets are aligned and contiguous, the rollups and a scan of `logs`
// give the same answer (after deletes too), another tenant's logs are never counted, and a scan
// that outlives its statement timeout is an error, not a wait.
#include "query/histogram.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <random>
#include <regex>
#include <thread>

#include "core/time.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

using core::kDay;
using core::kHour;
using core::kMinute;
using core::kSecond;

const std::vector<std::string> kDevices{"dev-a", "dev-b", "dev-c"};
const std::vector<std::string> kServices{"api", "db", "web", ""};  // "": no service
const std::vector<std::string> kApps{"shop", "blog"};
const std::vector<std::string> kHosts{"h1", "h2"};
const std::vector<std::string> kLevels{"TRACE",   "DEBUG", "INFO",     "NOTICE",
                                       "WARNING", "ERROR", "CRITICAL", "FATAL"};
const std::vector<std::string> kWords{"disk", "full", "timeout", "login"};

// (bucket start, level) → count: the non-empty cells of a histogram.
using Cells = std::map<std::pair<core::Micros, std::string>, long long>;

struct Answer {
  int status = 0;
  std::string body;
  core::Micros from = 0, to = 0, length = 0;
  std::string interval, source;
  long long total = 0;
  std::vector<core::Micros> starts;
  std::vector<long long> totals;
  Cells cells;
};

core::Micros time_of(std::string_view text) {
  auto t = core::parse_rfc3339(text);
  EXPECT_TRUE(t.ok()) << text;
  return t.ok() ? *t : 0;
}

Answer read_answer(const HttpResponse& r) {
  Answer a;
  a.status = r.status;
  a.body = r.body;
  if (r.status != 200) return a;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, r.body);
  a.from = time_of(doc["from"].get_string().value());
  a.to = time_of(doc["to"].get_string().value());
  a.interval = std::string(doc["interval"].get_string().value());
  a.length = doc["interval_seconds"].get_int64().value() * kSecond;
  a.total = doc["total"].get_int64().value();
  a.source = std::string(doc["source"].get_string().value());
  for (auto b : doc["buckets"].get_array()) {
    const auto start = time_of(b["start"].get_string().value());
    a.starts.push_back(start);
    a.totals.push_back(b["total"].get_int64().value());
    for (auto [level, n] : b["by_level"].get_object())
      a.cells[{start, std::string(level)}] = n.get_int64().value();
  }
  return a;
}

Cells cells_of(const query::Histogram& h) {
  Cells out;
  for (const auto& b : h.buckets) {
    for (const auto& [level, n] : b.by_level)
      out[{b.start, level}] = n;
  }
  return out;
}

std::string escaped(const std::string& v) {
  std::string out;
  for (const char c : v)
    out += c == ' ' ? std::string("%20") : c == '"' ? std::string("%22") : std::string(1, c);
  return out;
}

class Histogram : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(cli({"migrate"}).first, 0);
    ASSERT_EQ(cli({"tenants", "create", "acme"}).first, 0);
    key_ = key("default", "ingest,query,admin");
    acme_key_ = key("acme", "ingest,query");
    ingest_only_ = key("default", "ingest");
    lp_.emplace(LogpipeOptions{.database_url = db_.url(),
                               .stream = unique_tag("histogram"),
                               .env = {{"LOGPIPE_AUTH", "keys"}}});
    acme_ = db_.count("SELECT id FROM tenants WHERE name = 'acme'");
    std::mt19937 rng(5);
    now_ = core::now_micros();
    start_ = now_ - 3 * kDay;
    std::string body, acme_body;
    int n = 0;
    const auto record = [&](core::Micros ts) {
      std::string words;
      for (const auto& w : kWords) {
        if (rng() % 3 == 0) words += " " + w;
      }
      const auto& service = kServices[rng() % kServices.size()];
      std::string line =
          R"({"ts":")" + core::format_rfc3339(ts) + R"(","message":"rec)" + std::to_string(n++) +
          words + R"(","device_id":")" + kDevices[rng() % kDevices.size()] + R"(","app":")" +
          kApps[rng() % kApps.size()] + R"(","host":")" + kHosts[rng() % kHosts.size()] +
          R"(","level":")" + kLevels[rng() % kLevels.size()] + R"(","attrs":{"k":)" +
          std::to_string(rng() % 4) + "}";
      if (!service.empty()) line += R"(,"service":")" + service + "\"";
      return line + "}\n";
    };
    // Three days, ~7 minutes apart, and a burst of 150 in ten minutes for the fine intervals.
    for (int i = 0; i < 600; ++i)
      body += record(start_ + i * 431'000'000LL);
    burst_ = now_ - 2 * kHour;
    for (int i = 0; i < 150; ++i)
      body += record(burst_ + static_cast<core::Micros>(rng() % 600'000'000));
    // acme's logs: the same times, services and levels; never in the default tenant's counts.
    for (int i = 0; i < 300; ++i)
      acme_body += record(start_ + i * 863'000'000LL);
    ingest(key_, body);
    ingest(acme_key_, acme_body);
    ASSERT_TRUE(eventually(
        [&] {
          return db_.count("SELECT count(*) FROM logs WHERE tenant_id = 1") == 750 &&
                 db_.count("SELECT count(*) FROM logs WHERE tenant_id = " +
                           std::to_string(acme_)) == 300;
        },
        60s));
  }

  std::pair<int, std::string> cli(const std::vector<std::string>& args) const {
    return run_logpipe(args, {{"LOGPIPE_DATABASE_URL", db_.url()}});
  }
  std::string key(const std::string& tenant, const std::string& scopes) const {
    auto [code, out] =
        cli({"keys", "create", "--tenant", tenant, "--name", "histogram test", "--scopes", scopes});
    std::smatch m;
    if (code != 0 || !std::regex_search(out, m, std::regex("lpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")))
      throw std::runtime_error("keys create: " + out);
    return m.str();
  }
  HttpResponse as(const std::string& key, const std::string& method,
                  const std::string& target) const {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.headers = {{"X-API-Key", key}};
    return http(lp_->port(), r, 30s);
  }
  void ingest(const std::string& key, const std::string& ndjson) const {
    HttpRequest r;
    r.method = "POST";
    r.target = "/api/v1/ingest";
    r.content_type = "application/x-ndjson";
    r.headers = {{"X-API-Key", key}};
    r.body = ndjson;
    const auto answer = http(lp_->port(), r);
    ASSERT_EQ(answer.status, 202) << answer.body;
  }
  static std::string target(const query::Params& params) {
    std::string t = "/api/v1/logs/histogram";
    for (std::size_t i = 0; i < params.size(); ++i)
      t += (i ? "&" : "?") + params[i].first + "=" + escaped(params[i].second);
    return t;
  }
  Answer histogram(const query::Params& params, const std::string& key = "") const {
    return read_answer(as(key.empty() ? key_ : key, "GET", target(params)));
  }

  // The counts of `predicate` (SQL over logs, written independently of the query module) in
  // buckets of `length` over [from, to).
  Cells expected(const std::string& predicate, core::Micros from, core::Micros to,
                 core::Micros length, int tenant = 1) const {
    auto c = db_.connect();
    const auto seconds = std::to_string(length / kSecond);
    auto rows =
        c.query("SELECT (floor(extract(epoch FROM ts) / " + seconds + ") * " + seconds +
                    ")::bigint * 1000000, level, count(*) FROM logs WHERE tenant_id = " +
                    std::to_string(tenant) + " AND (" + predicate + ") AND ts >= $1::timestamptz" +
                    " AND ts < $2::timestamptz GROUP BY 1, 2",
                {core::format_rfc3339(from), core::format_rfc3339(to)});
    EXPECT_TRUE(rows.ok()) << (rows.ok() ? "" : rows.error().message);
    Cells out;
    if (!rows) return out;
    for (int i = 0; i < rows->size(); ++i)
      out[{rows->get_int(i, 0), std::string(rows->get(i, 1))}] = rows->get_int(i, 2);
    return out;
  }

  // Aligned, contiguous, covering [from, to), totals adding up.
  static void check_shape(const Answer& a) {
    ASSERT_GT(a.length, 0);
    EXPECT_EQ(core::floor_to(a.from, a.length), a.from) << a.body;
    ASSERT_FALSE(a.starts.empty());
    EXPECT_EQ(a.starts.front(), a.from);
    for (std::size_t i = 1; i < a.starts.size(); ++i)
      ASSERT_EQ(a.starts[i] - a.starts[i - 1], a.length) << i;
    EXPECT_EQ(a.starts.back() + a.length, a.to);
    long long sum = 0;
    for (const auto t : a.totals)
      sum += t;
    EXPECT_EQ(sum, a.total);
    long long cells = 0;
    for (const auto& [cell, n] : a.cells)
      cells += n;
    EXPECT_EQ(cells, a.total);
  }

  TestDatabase db_{"histogram"};
  std::optional<Logpipe> lp_;
  std::string key_, acme_key_, ingest_only_;
  long long acme_ = 0;
  core::Micros now_ = 0, start_ = 0, burst_ = 0;
};

struct Case {
  query::Params params;
  std::string predicate;  // the same filter in SQL
  std::string source;     // which counts answer
};

TEST_F(Histogram, EveryBucketEqualsADirectCountForEachFilter) {
  const auto from = core::format_rfc3339(start_ - kHour);
  const auto to = core::format_rfc3339(now_ + kHour);
  const auto burst_from = core::format_rfc3339(burst_ - 17 * kSecond);
  const auto burst_to = core::format_rfc3339(burst_ + 10 * kMinute + 3 * kSecond);
  const auto six_hours = core::format_rfc3339(now_ - 6 * kHour);
  const std::vector<Case> cases{
      {{{"from", from}, {"to", to}, {"interval", "1h"}}, "true", "rollup"},
      {{{"from", from}, {"to", to}}, "true", "rollup"},  // 30m chosen
      {{{"from", from}, {"to", to}, {"interval", "1d"}, {"level", "ERROR"}, {"level", "FATAL"}},
       "level IN ('ERROR', 'FATAL')",
       "rollup"},
      {{{"from", from},
        {"to", to},
        {"interval", "3h"},
        {"service", "api"},
        {"min_level", "WARNING"}},
       "service = 'api' AND level IN ('WARNING', 'ERROR', 'CRITICAL', 'FATAL')",
       "rollup"},
      {{{"from", six_hours}, {"interval", "1m"}, {"app", "shop"}}, "app = 'shop'", "rollup"},
      {{{"from", from}, {"to", to}, {"interval", "5m"}, {"q", "disk full"}},
       "message ILIKE '%disk%' AND message ILIKE '%full%'",
       "logs"},
      {{{"from", from}, {"to", to}, {"interval", "1h"}, {"device_id", "dev-a"}},
       "device_id = 'dev-a'",
       "logs"},
      {{{"from", from}, {"to", to}, {"interval", "6h"}, {"attrs.k", "2"}, {"min_level", "INFO"}},
       "attrs->>'k' = '2' AND level NOT IN ('TRACE', 'DEBUG')",
       "logs"},
      {{{"from", six_hours}, {"interval", "30s"}, {"host", "h1"}}, "host = 'h1'", "logs"},
      {{{"from", burst_from}, {"to", burst_to}, {"interval", "1s"}}, "true", "logs"},
      {{{"from", burst_from}, {"to", burst_to}, {"interval", "10s"}, {"min_level", "ERROR"}},
       "level IN ('ERROR', 'CRITICAL', 'FATAL')",
       "logs"},
      {{{"from", burst_from}, {"to", burst_to}, {"interval", "5m"}}, "true", "rollup"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(target(c.params));
    const auto a = histogram(c.params);
    ASSERT_EQ(a.status, 200) << a.body;
    check_shape(a);
    EXPECT_EQ(a.source, c.source);
    const auto want = expected(c.predicate, a.from, a.to, a.length);
    EXPECT_EQ(a.cells, want);
    EXPECT_GT(a.total, 0);  // the comparison bites
  }
}

TEST_F(Histogram, TheRollupsAndTheLogsGiveTheSameAnswer) {
  auto c = db_.connect();
  const auto compare = [&](const query::Params& params) {
    SCOPED_TRACE(target(params));
    auto q = query::parse_histogram_query(params, 1, core::now_micros());
    ASSERT_TRUE(q.ok()) << q.error().message;
    ASSERT_TRUE(query::rollups_answer(*q));
    auto rolled = query::read_histogram(c, *q);
    auto scanned = query::read_histogram(c, *q, true);
    ASSERT_TRUE(rolled.ok()) << rolled.error().message;
    ASSERT_TRUE(scanned.ok()) << scanned.error().message;
    EXPECT_EQ(rolled->source, query::HistogramSource::rollup);
    EXPECT_EQ(scanned->source, query::HistogramSource::logs);
    EXPECT_EQ(rolled->total, scanned->total);
    EXPECT_GT(rolled->total, 0);
    EXPECT_EQ(rolled->buckets.size(), scanned->buckets.size());
    EXPECT_EQ(cells_of(*rolled), cells_of(*scanned));
  };
  const auto every = [&] {
    for (const auto& interval : {"1m", "5m", "15m", "30m", "1h", "3h", "6h", "12h", "1d"}) {
      const std::string from = std::string_view(interval).ends_with('m') ? "1d" : "4d";
      compare({{"from", from}, {"interval", interval}});
      compare({{"from", from}, {"interval", interval}, {"service", "db"}, {"app", "blog"}});
      compare({{"from", from}, {"interval", interval}, {"min_level", "ERROR"}});
    }
  };
  every();
  // Deletes correct the rollups: both still agree, and the deleted logs are gone from both.
  const auto before = histogram({{"from", "4d"}, {"interval", "1d"}, {"service", "db"}});
  ASSERT_EQ(before.status, 200);
  const auto gone = as(key_, "DELETE", "/api/v1/logs?service=db&level=ERROR&limit=100000");
  ASSERT_EQ(gone.status, 200) << gone.body;
  every();
  const auto after = histogram({{"from", "4d"}, {"interval", "1d"}, {"service", "db"}});
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(after.source, "rollup");
  EXPECT_LT(after.total, before.total);
  EXPECT_EQ(after.total,
            db_.count("SELECT count(*) FROM logs WHERE tenant_id = 1 AND service = 'db'"));
  for (const auto& [cell, n] : after.cells)
    EXPECT_NE(cell.second, "ERROR");
}

TEST_F(Histogram, AnotherTenantsLogsAreNeverCounted) {
  const auto from = core::format_rfc3339(start_ - kHour);
  const auto to = core::format_rfc3339(now_ + kHour);
  for (const bool with_q : {false, true}) {
    query::Params params{{"from", from}, {"to", to}, {"interval", "1h"}};
    if (with_q) params.emplace_back("q", "rec1");  // the logs' path; without it the rollups'
    const std::string predicate = with_q ? "message ILIKE '%rec1%'" : "true";
    const auto mine = histogram(params);
    const auto theirs = histogram(params, acme_key_);
    ASSERT_EQ(mine.status, 200) << mine.body;
    ASSERT_EQ(theirs.status, 200) << theirs.body;
    EXPECT_EQ(mine.source, with_q ? "logs" : "rollup");
    EXPECT_EQ(mine.cells, expected(predicate, mine.from, mine.to, mine.length, 1));
    EXPECT_EQ(theirs.cells,
              expected(predicate, theirs.from, theirs.to, theirs.length, static_cast<int>(acme_)));
    if (!with_q) {
      EXPECT_EQ(mine.total, 750);
      EXPECT_EQ(theirs.total, 300);
    }
  }
}

TEST_F(Histogram, BadParametersAre422NamingThem) {
  const auto named = [&](const std::string& query) {
    const auto r = as(key_, "GET", "/api/v1/logs/histogram?" + query);
    EXPECT_EQ(r.status, 422) << query << ": " << r.body;
    const auto at = r.body.find("\"field\":\"");
    if (at == std::string::npos) return std::string();
    const auto start = at + 9;
    return r.body.substr(start, r.body.find('"', start) - start);
  };
  EXPECT_EQ(named("interval=7m"), "interval");
  EXPECT_EQ(named("from=1h&interval=1s"), "interval");
  EXPECT_EQ(named("from=1h&to=2h"), "from");
  EXPECT_EQ(named("sevrice=api"), "sevrice");
  EXPECT_EQ(named("order=asc"), "order");
  EXPECT_EQ(named("min_level=loud"), "min_level");
  // The literal segment wins over /api/v1/logs/{id}; a query key is enough.
  EXPECT_EQ(as(key_, "GET", "/api/v1/logs/histogram").status, 200);
  EXPECT_EQ(as(ingest_only_, "GET", "/api/v1/logs/histogram").status, 403);
}

TEST_F(Histogram, AScanPastItsStatementTimeoutIsATimeoutError) {
  // A lock held elsewhere keeps the scan waiting, as a slow one would.
  auto locker = db_.connect();
  ASSERT_TRUE(locker.exec("BEGIN; LOCK TABLE logs IN ACCESS EXCLUSIVE MODE").ok());
  auto c = db_.connect();
  auto q = query::parse_histogram_query({{"q", "disk"}}, 1, core::now_micros());
  ASSERT_TRUE(q.ok());
  const auto started = std::chrono::steady_clock::now();
  auto h = query::read_histogram(c, *q, false, 300ms);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().code, core::Errc::timeout) << h.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  ASSERT_TRUE(locker.exec("ROLLBACK").ok());
  // The connection serves the next request: the timeout was the transaction's alone.
  auto again = query::read_histogram(c, *q);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_GT(again->total, 0);
}

}  // namespace
}  // namespace logpipe::test
