// Storage maintenance as `logpipe maintenance` runs it against data stored through the pipeline:
// retention drops exactly the partitions of expired days (archived first), moves waiting rows out
// of logs_default, builds the search index on closed days only, keeps statistics equal to
// count(*); `logpipe import` brings an archive back, once.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/time.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

constexpr core::Micros kDay = 86'400'000'000;

std::string partition_of(core::Micros day) {
  const std::string d = core::format_rfc3339(day).substr(0, 10);
  return "logs_" + d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2);
}

class Maintenance : public ::testing::Test {
 protected:
  void SetUp() override {
    env = {{"LOGPIPE_DATABASE_URL", db.url()}};
    ASSERT_EQ(run_logpipe({"migrate"}, env).first, 0);
    const core::Micros now = core::now_micros();
    today = now - now % kDay;
    // Today's records are at 00:00:01 … 00:05:00 UTC: not all in the past yet just after midnight
    // (GET /api/v1/stats then leaves the future ones out).
    if (now - today < 10 * 60 * core::kSecond) GTEST_SKIP() << "too close after midnight UTC";
    // Two expired days with partitions of their own (as if created back then).
    for (const int back : {40, 35}) {
      ASSERT_EQ(db.count("SELECT count(*) FROM (SELECT logpipe_ensure_partition(date '" +
                         core::format_rfc3339(today - back * kDay).substr(0, 10) + "')) p"),
                1);
    }
    lp.emplace(LogpipeOptions{.database_url = db.url(),
                              .stream = unique_tag("maint"),
                              .extra_args = {"--maintenance-interval", "0"}});
    // 50 days back: no partition, expired. 10 days back: no partition, inside the window.
    std::string body;
    int n = 0;
    for (const int back : {50, 40, 35, 10, 1, 0}) {
      for (int i = 0; i < kPerDay; ++i) {
        const core::Micros ts = today - back * kDay + (i + 1) * 1'000'000;
        body += R"({"ts":")" + core::format_rfc3339(ts) + R"(","message":"disk full )" +
                std::to_string(n++) + R"(","device_id":"dev-)" + std::to_string(i % 3) +
                R"(","service":"api","level":"error"})" + "\n";
      }
    }
    ASSERT_EQ(ingest_ndjson(lp->port(), body).status, 202);
    ASSERT_TRUE(
        eventually([&] { return db.count("SELECT count(*) FROM logs") == 6 * kPerDay; }, 30s));
    archive_dir = std::filesystem::temp_directory_path() / unique_tag("archive");
    std::filesystem::create_directories(archive_dir);
  }
  void TearDown() override { std::filesystem::remove_all(archive_dir); }

  bool has_partition(core::Micros day) {
    return db.count("SELECT count(*) FROM pg_class WHERE relname = '" + partition_of(day) + "'") ==
           1;
  }
  void expect_rollups_equal_rows() {
    EXPECT_EQ(db.count("SELECT coalesce(sum(count), 0) FROM log_counts"),
              db.count("SELECT count(*) FROM logs"));
    EXPECT_EQ(db.count("SELECT coalesce(sum(count), 0) FROM log_counts_hourly"),
              db.count("SELECT count(*) FROM logs"));
    EXPECT_EQ(db.count("SELECT coalesce(sum(count), 0) FROM log_counts_daily"),
              db.count("SELECT count(*) FROM logs"));
    EXPECT_EQ(db.count("SELECT coalesce(sum(log_count), 0) FROM devices WHERE device_id = 'dev-1'"),
              db.count("SELECT count(*) FROM logs WHERE device_id = 'dev-1'"));
    simdjson::dom::parser parser;
    auto stats = parse_json(parser, get(lp->port(), "/api/v1/stats").body);
    EXPECT_EQ(stats["total_logs"].get_int64().value(), db.count("SELECT count(*) FROM logs"));
  }

  static constexpr int kPerDay = 300;
  TestDatabase db{"maint"};
  std::map<std::string, std::string> env;
  std::optional<Logpipe> lp;
  core::Micros today = 0;
  std::filesystem::path archive_dir;
};

TEST_F(Maintenance, RetentionDropsExactlyTheExpiredDaysAndImportBringsThemBack) {
  if (core::now_micros() - today > kDay - 120'000'000) GTEST_SKIP() << "too close to midnight UTC";
  ASSERT_EQ(db.count("SELECT count(*) FROM logs_default"), 2 * kPerDay) << "days 50 and 10 wait";
  auto [code, out] = run_logpipe({"maintenance", "--retention-days", "30", "--archive-dir",
                                  archive_dir.string(), "--partitions-ahead", "2"},
                                 env);
  ASSERT_EQ(code, 0) << out;

  EXPECT_FALSE(has_partition(today - 40 * kDay));
  EXPECT_FALSE(has_partition(today - 35 * kDay));
  EXPECT_TRUE(has_partition(today - 10 * kDay)) << "created for the rows waiting in the default";
  EXPECT_TRUE(has_partition(today + 2 * kDay)) << "ahead";
  EXPECT_EQ(db.count("SELECT count(*) FROM logs_default"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM " + partition_of(today - 10 * kDay)), kPerDay);
  EXPECT_EQ(db.count("SELECT count(*) FROM " + partition_of(today)), kPerDay) << "today untouched";
  EXPECT_EQ(db.count("SELECT count(*) FROM " + partition_of(today - kDay)), kPerDay);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 3 * kPerDay);
  expect_rollups_equal_rows();
  EXPECT_EQ(db.count("SELECT count(*) FROM log_counts_daily WHERE day < (now() AT TIME ZONE "
                     "'UTC')::date AND shard <> 0"),
            0)
      << "closed days folded into shard 0";
  EXPECT_GT(db.count("SELECT count(*) FROM log_counts_daily WHERE shard = 0"), 0);

  // The search index: on closed days, not on today's partition.
  const auto indexed = [&](core::Micros day) {
    return db.count("SELECT count(*) FROM pg_indexes WHERE indexname = '" + partition_of(day) +
                    "_message_trgm'") == 1;
  };
  EXPECT_TRUE(indexed(today - kDay));
  EXPECT_TRUE(indexed(today - 10 * kDay));
  EXPECT_FALSE(indexed(today));
  auto found = get(lp->port(), "/api/v1/logs?q=full&from=2d&limit=1000");
  ASSERT_EQ(found.status, 200);
  simdjson::dom::parser parser;
  EXPECT_EQ(parse_json(parser, found.body)["count"].get_int64().value(), 2 * kPerDay);

  // Both expired partitions were archived before the drop; one comes back, exactly once.
  const auto file = archive_dir / (partition_of(today - 35 * kDay) + ".ndjson.zst");
  ASSERT_TRUE(std::filesystem::exists(file));
  ASSERT_TRUE(
      std::filesystem::exists(archive_dir / (partition_of(today - 40 * kDay) + ".ndjson.zst")));
  for (int i = 0; i < 2; ++i) {
    auto [imported, text] = run_logpipe({"import", file.string()}, env);
    ASSERT_EQ(imported, 0) << text;
  }
  EXPECT_EQ(db.count("SELECT count(*) FROM " + partition_of(today - 35 * kDay)), kPerDay);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'disk full " +
                     std::to_string(2 * kPerDay) + "'"),
            1)
      << "the first record of day -35, as it was";
  expect_rollups_equal_rows();

  // A second round finds nothing to do but drops the re-imported day again: retention holds.
  auto again = run_logpipe({"maintenance", "--retention-days", "30"}, env);
  ASSERT_EQ(again.first, 0) << again.second;
  EXPECT_FALSE(has_partition(today - 35 * kDay));
  expect_rollups_equal_rows();
}

TEST_F(Maintenance, ConcurrentRoundsAreSafeAndRetentionZeroKeepsEverything) {
  std::pair<int, std::string> a, b;
  std::thread t1([&] { a = run_logpipe({"maintenance", "--retention-days", "0"}, env); });
  std::thread t2([&] { b = run_logpipe({"maintenance", "--retention-days", "0"}, env); });
  t1.join();
  t2.join();
  EXPECT_EQ(a.first, 0) << a.second;
  EXPECT_EQ(b.first, 0) << b.second;
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 6 * kPerDay);
  EXPECT_TRUE(has_partition(today - 40 * kDay));
  EXPECT_NE(run_logpipe({"import", "/nonexistent.ndjson.zst"}, env).first, 0);
}

// A search running while maintenance moves a day's waiting rows out of logs_default sees them
// before the move or after it, never neither. It used to miss them all when it had listed the
// partitions before the move and taken its snapshot after it (migration 0007).
TEST_F(Maintenance, ASearchDuringAMoveOutOfTheDefaultPartitionMissesNoRow) {
  const core::Micros day = today - 10 * kDay;
  constexpr core::Micros kApart = 500'000;
  {
    // Enough rows that the move takes a while; written directly, as the test needs only rows.
    auto c = db.connect();
    ASSERT_TRUE(
        c.query("INSERT INTO logs (ts, received_at, service, level, message)"
                " SELECT $1::timestamptz + g * interval '500 ms', now(), 'bulk', 'INFO',"
                " 'bulk ' || g FROM generate_series(0, 172799) g",
                {core::format_rfc3339(day)}));
  }
  const core::Micros noon = day + kDay / 2;
  const std::string target = "/api/v1/logs?service=bulk&limit=3&to=" + core::format_rfc3339(noon);
  std::atomic<bool> moved{false};
  std::atomic<int> answered_during{0};
  std::mutex m;
  std::vector<std::string> wrong;
  const auto search_until_moved = [&] {
    for (int after = 0; after < 5;) {
      const bool during = !moved;
      const auto r = get(lp->port(), target);
      simdjson::dom::parser parser;
      std::string got = std::to_string(r.status) + " " + r.body.substr(0, 300);
      if (r.status == 200) {
        auto logs = parse_json(parser, r.body)["logs"].get_array();
        if (logs.size() == 3) {
          const auto ts = core::parse_rfc3339(std::string_view(logs.at(0)["ts"].get_string()));
          if (ts && *ts == noon - kApart) got.clear();
        }
      }
      if (!got.empty()) {
        std::lock_guard lock(m);
        wrong.push_back(got);
      }
      if (during) ++answered_during;
      if (moved) ++after;
    }
  };
  // A long read of `logs` (an export, say) in progress: the move waits for it to end, and the
  // searches begun meanwhile wait with the move.
  auto export_in_progress = db.connect();
  ASSERT_TRUE(export_in_progress.exec("BEGIN"));
  ASSERT_TRUE(export_in_progress.query("SELECT count(*) FROM logs WHERE service = 'bulk'"));
  std::vector<std::thread> searchers;
  for (int i = 0; i < 3; ++i)
    searchers.emplace_back(search_until_moved);
  std::thread export_ends([&] {
    std::this_thread::sleep_for(1500ms);
    (void)export_in_progress.exec("COMMIT");
  });
  auto [code, out] = run_logpipe({"maintenance", "--retention-days", "0"}, env);
  moved = true;
  export_ends.join();
  for (auto& t : searchers)
    t.join();
  ASSERT_EQ(code, 0) << out;
  ASSERT_TRUE(has_partition(day)) << out;
  EXPECT_EQ(db.count("SELECT count(*) FROM " + partition_of(day) + " WHERE service = 'bulk'"),
            172'800)
      << "a day at two a second";
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " wrong answers, the first: " << wrong.front();
  EXPECT_GT(answered_during, 10) << "searches ran while maintenance did";
}

// Per-tenant retention (tenants.retention_days): partitions go only once every tenant's retention
// has passed them; the rows of tenants with a shorter retention (their own or the setting's) go by
// batched deletes, with the statistics corrected.
TEST_F(Maintenance, TenantRetentionOverridesTheSetting) {
  if (core::now_micros() - today > kDay - 120'000'000) GTEST_SKIP() << "too close to midnight UTC";
  const auto maintain = [&] {
    auto [code, out] = run_logpipe({"maintenance", "--retention-days", "30"}, env);
    EXPECT_EQ(code, 0) << out;
    return out;
  };
  const auto rows_back = [&](int back) {
    return db.count("SELECT count(*) FROM logs WHERE ts >= '" +
                    core::format_rfc3339(today - back * kDay) + "' AND ts < '" +
                    core::format_rfc3339(today - (back - 1) * kDay) + "'");
  };
  {
    auto c = db.connect();
    // Another tenant keeps 45 days: the partitions of days 40 and 35 must stay for it, though
    // the default tenant's rows there (30 days, the setting's) go.
    ASSERT_TRUE(c.exec("INSERT INTO tenants (name, retention_days) VALUES ('long', 45)"));
  }
  auto out = maintain();
  EXPECT_TRUE(has_partition(today - 40 * kDay)) << out;
  EXPECT_TRUE(has_partition(today - 35 * kDay));
  EXPECT_EQ(rows_back(50), 0) << "older than every retention";
  EXPECT_EQ(rows_back(40), 0) << "the default tenant's rows past the setting's 30 days";
  EXPECT_EQ(rows_back(35), 0);
  EXPECT_EQ(rows_back(10), kPerDay);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 3 * kPerDay);
  EXPECT_NE(out.find("rows past their tenant's retention deleted: " + std::to_string(2 * kPerDay)),
            std::string::npos)
      << out;
  expect_rollups_equal_rows();

  // The default tenant's own retention, shorter than the setting: day 10 goes, by deletes.
  {
    auto c = db.connect();
    ASSERT_TRUE(c.exec("UPDATE tenants SET retention_days = 5 WHERE id = 1"));
  }
  maintain();
  EXPECT_EQ(rows_back(10), 0);
  EXPECT_TRUE(has_partition(today - 10 * kDay)) << "kept for the other tenants";
  EXPECT_EQ(rows_back(1), kPerDay);
  EXPECT_EQ(rows_back(0), kPerDay);
  expect_rollups_equal_rows();
  // A round with nothing left to delete deletes nothing.
  out = maintain();
  EXPECT_EQ(out.find("rows past their tenant's retention"), std::string::npos) << out;

  // Without the longer retention, the setting's 30 days drop the old partitions again.
  {
    auto c = db.connect();
    ASSERT_TRUE(c.exec("UPDATE tenants SET retention_days = NULL WHERE name = 'long'"));
  }
  maintain();
  EXPECT_FALSE(has_partition(today - 40 * kDay));
  EXPECT_FALSE(has_partition(today - 35 * kDay));
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 2 * kPerDay);
  expect_rollups_equal_rows();
}

}  // namespace
}  // namespace logpipe::test
