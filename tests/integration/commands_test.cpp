// The command line as a user meets it: migrations, start-up errors, help, graceful shutdown.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <thread>

#include "harness.hpp"
#include "store/migrations.hpp"

namespace logpipe::test {
namespace {

TEST(Commands, MigrateTwiceAndConcurrentlyIsSafe) {
  TestDatabase db("migrate");
  const std::map<std::string, std::string> env{{"LOGPIPE_DATABASE_URL", db.url()}};
  std::pair<int, std::string> a, b;
  std::thread t1([&] { a = run_logpipe({"migrate"}, env); });
  std::thread t2([&] { b = run_logpipe({"migrate"}, env); });
  t1.join();
  t2.join();
  EXPECT_EQ(a.first, 0) << a.second;
  EXPECT_EQ(b.first, 0) << b.second;
  auto again = run_logpipe({"migrate"}, env);
  EXPECT_EQ(again.first, 0) << again.second;
  EXPECT_NE(again.second.find("up to date"), std::string::npos) << again.second;
  EXPECT_EQ(db.count("SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(store::migrations().size()));
  EXPECT_GE(db.count("SELECT count(*) FROM pg_inherits WHERE inhparent = 'logs'::regclass"), 4)
      << "default partition and daily partitions ahead";
  for (const char* table : {"logs", "ingest_batches", "devices", "log_counts", "log_counts_hourly",
                            "log_counts_daily", "apps", "daily_log_summary", "tenants"}) {
    EXPECT_EQ(
        db.count(std::string("SELECT count(*) FROM pg_class WHERE relname = '") + table + "'"), 1)
        << table;
  }
}

TEST(Commands, UnreachableDependencyIsOneClearLine) {
  const std::string dead_pg =
      "postgresql://logpipe@127.0.0.1:" + std::to_string(free_port()) + "/x";
  auto [code, out] = run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", dead_pg}});
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;

  TestDatabase db("deadredis");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string dead_redis = "redis://127.0.0.1:" + std::to_string(free_port()) + "/0";
  auto [code2, out2] =
      run_logpipe({"run", "--http-addr", "127.0.0.1:" + std::to_string(free_port())},
                  {{"LOGPIPE_DATABASE_URL", db.url()}, {"LOGPIPE_REDIS_URL", dead_redis}});
  EXPECT_EQ(code2, 1);
  EXPECT_NE(out2.find("redis"), std::string::npos) << out2;
  EXPECT_EQ(std::count(out2.begin(), out2.end(), '\n'), 1) << out2;
}

TEST(Commands, InvalidOptionsExitNonZeroWithOneLine) {
  auto [code, out] = run_logpipe({"serve", "--batch-size", "5"});
  EXPECT_EQ(code, 2) << "serve has no --batch-size\n" << out;
  auto [code2, out2] = run_logpipe({"worker", "--batch-size", "zero"});
  EXPECT_EQ(code2, 2);
  EXPECT_NE(out2.find("batch_size"), std::string::npos) << out2;
  EXPECT_EQ(std::count(out2.begin(), out2.end(), '\n'), 1) << out2;
  auto [code3, out3] = run_logpipe({"serve"}, {{"LOGPIPE_HTTP_ADDR", "nowhere"}});
  EXPECT_EQ(code3, 2);
  EXPECT_NE(out3.find("LOGPIPE_HTTP_ADDR"), std::string::npos) << out3;
}

TEST(Commands, HelpListsEveryOptionWithDefault) {
  auto [code, out] = run_logpipe({"--help"});
  EXPECT_EQ(code, 0);
  for (const char* c : {"run", "serve", "worker", "migrate"})
    EXPECT_NE(out.find(c), std::string::npos);
  auto [rcode, run_help] = run_logpipe({"run", "--help"});
  EXPECT_EQ(rcode, 0);
  for (const char* opt : {"--http-addr", "LOGPIPE_HTTP_ADDR", "127.0.0.1:8080", "--redis-url",
                          "--database-url", "--stream", "--group", "--batch-size", "1000",
                          "--max-wait-ms", "--threads", "--max-body-bytes", "--config"}) {
    EXPECT_NE(run_help.find(opt), std::string::npos) << opt << "\n" << run_help;
  }
}

TEST(Commands, SigtermFinishesInFlightAndExitsZero) {
  TestDatabase db("sigterm");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string stream = unique_tag("sigterm");
  Logpipe lp({.database_url = db.url(), .stream = stream});
  std::vector<std::thread> clients;
  std::atomic<int> accepted{0};
  std::mutex mutex;
  std::map<int, int> other_statuses;  // refused (0) once the listener closed; never 5xx
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto r = post_json(lp.port(), "/api/log", R"({"device_id":"s","message":"m"})");
        if (r.status == 202) {
          ++accepted;
        } else {
          std::lock_guard lock(mutex);
          ++other_statuses[r.status];
        }
      }
    });
  }
  std::this_thread::sleep_for(100ms);
  auto code = lp.process().terminate(20s);
  for (auto& t : clients)
    t.join();
  ASSERT_TRUE(code.has_value()) << "did not exit";
  EXPECT_EQ(*code, 0) << lp.process().output();
  EXPECT_GT(accepted.load(), 0);
  // Every acknowledged log was stored by the in-process worker or is still queued: a fresh
  // worker must bring the table to exactly the acknowledged count, no more, no less.
  Logpipe worker({.command = "worker", .database_url = db.url(), .stream = stream});
  EXPECT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") >= accepted; }, 10s));
  std::this_thread::sleep_for(300ms);
  std::string statuses;
  for (const auto& [status, n] : other_statuses)
    statuses += std::to_string(status) + "×" + std::to_string(n) + " ";
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), accepted.load())
      << "other answers: " << statuses << "\n"
      << lp.process().output();
  EXPECT_EQ(worker.process().terminate(), 0) << worker.process().output();
}

}  // namespace
}  // namespace logpipe::test
