// /metrics as Prometheus itself reads it: `promtool check metrics` (Debian package prometheus)
// must find nothing to complain about, on serve after real ingest and on a standalone worker
// after it stored that ingest, so that every family has actually been rendered with samples.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "harness.hpp"

namespace logpipe::test {
namespace {

// Runs `promtool check metrics` on `exposition`; {exit code, everything it printed}.
std::pair<int, std::string> promtool_check(const std::string& exposition) {
  const std::string path = "/tmp/" + unique_tag("metrics") + ".prom";
  std::ofstream(path) << exposition;
  const std::string command = "promtool check metrics < " + path + " 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "cannot run promtool"};
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr)
    output += buffer;
  const int status = ::pclose(pipe);
  std::remove(path.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

void expect_promtool_clean(const std::string& what, const std::string& exposition) {
  ASSERT_EQ(std::system("command -v promtool >/dev/null"), 0)
      << "promtool is missing: `make deps` installs the Debian package prometheus";
  const auto [code, complaints] = promtool_check(exposition);
  EXPECT_EQ(code, 0) << what << ": promtool check metrics failed:\n" << complaints;
  // promtool exits 0 on some lint findings too; any output is a complaint.
  EXPECT_EQ(complaints, "") << what << ":\n" << exposition;
}

TEST(Metrics, ServeAndStandaloneWorkerPassPromtoolCheckMetrics) {
  TestDatabase db("metrics");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string stream = unique_tag("metrics") + ":stream";
  const unsigned short worker_port = free_port();
  Logpipe serve({.command = "serve", .database_url = db.url(), .stream = stream});
  Logpipe worker({.command = "worker",
                  .database_url = db.url(),
                  .stream = stream,
                  .extra_args = {"--metrics-addr", "127.0.0.1:" + std::to_string(worker_port)}});

  // Accepted ingest of several levels, and refused ingest, so that labelled counters and
  // histograms have samples.
  ASSERT_EQ(post_json(serve.port(), "/api/logs/batch",
                      R"({"logs":[{"device_id":"d1","log_level":"INFO","message":"a"},)"
                      R"({"device_id":"d2","log_level":"ERROR","message":"b"}]})")
                .status,
            202);
  ASSERT_EQ(post_json(serve.port(), "/api/log", R"({"device_id":"d1","message":"c"})").status, 202);
  EXPECT_EQ(post_json(serve.port(), "/api/log", R"({"device_id":)").status, 400);
  EXPECT_EQ(get(serve.port(), "/no/such/route").status, 404);
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 3; }, 15s))
      << worker.process().output();

  const auto served = get(serve.port(), "/metrics");
  ASSERT_EQ(served.status, 200);
  EXPECT_NE(served.body.find("# TYPE process_cpu_seconds_total counter"), std::string::npos)
      << served.body;
  expect_promtool_clean("serve /metrics", served.body);

  HttpResponse worked;
  ASSERT_TRUE(eventually(
      [&] {
        worked = get(worker_port, "/metrics");
        return worked.body.find("worker_processed_logs_total{status=\"stored\"} 3") !=
               std::string::npos;
      },
      10s))
      << worked.body;
  expect_promtool_clean("worker /metrics", worked.body);

  EXPECT_EQ(worker.process().terminate(), 0);
  EXPECT_EQ(serve.process().terminate(), 0);
}

// The e2e lag and the consumers' pending entries as serve's /metrics reports them, against the
// real Redis: an entry read by a consumer that does not acknowledge it (pending) and one nobody
// read (undelivered) make the oldest entry's age grow scrape after scrape; once a worker stores
// them it is back to 0.
TEST(Metrics, E2eLagGrowsWhileNothingIsStoredAndFallsBackOnceAWorkerStores) {
  TestDatabase db("metrics_lag");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string stream = unique_tag("lag") + ":stream";
  Logpipe serve({.command = "serve", .database_url = db.url(), .stream = stream});
  auto redis = shared_redis();

  const auto scrape = [&] { return get(serve.port(), "/metrics").body; };
  auto text = scrape();
  EXPECT_EQ(metric(text, "redis_up"), 1) << text;
  EXPECT_EQ(metric(text, "postgres_up"), 1) << text;
  EXPECT_EQ(metric(text, "stream_oldest_entry_age_seconds"), 0) << text;
  EXPECT_NE(text.find("\nlogpipe_build_info{"), std::string::npos) << text;

  ASSERT_EQ(post_json(serve.port(), "/api/log", R"({"device_id":"d","message":"one"})").status,
            202);
  // A consumer of the workers' group takes the first entry and never acknowledges it.
  // (serve creates the group at start; BUSYGROUP then, which is fine).
  (void)redis.command({"XGROUP", "CREATE", stream, "log_workers", "0", "MKSTREAM"});
  ASSERT_TRUE(redis.command(
      {"XREADGROUP", "GROUP", "log_workers", "stuck", "COUNT", "1", "STREAMS", stream, ">"}));
  ASSERT_EQ(post_json(serve.port(), "/api/log", R"({"device_id":"d","message":"two"})").status,
            202);

  std::this_thread::sleep_for(2s);
  text = scrape();
  const double first_age = metric(text, "stream_oldest_entry_age_seconds");
  EXPECT_GE(first_age, 1.9) << text;
  EXPECT_LT(first_age, 60) << text;
  EXPECT_EQ(metric(text, "stream_pending_entries{consumer=\"stuck\"}"), 1) << text;
  EXPECT_EQ(metric(text, "stream_undelivered_entries"), 1) << text;
  EXPECT_EQ(metric(text, "dlq_entries"), 0) << text;
  std::this_thread::sleep_for(1s);
  text = scrape();
  EXPECT_GE(metric(text, "stream_oldest_entry_age_seconds"), first_age + 0.9) << text;

  // The stuck consumer leaves (its pending entry with it) and the group starts over, so that a
  // worker reads both entries now rather than after its claim timeout.
  ASSERT_TRUE(redis.command({"XGROUP", "DELCONSUMER", stream, "log_workers", "stuck"}));
  ASSERT_TRUE(redis.command({"XGROUP", "SETID", stream, "log_workers", "0"}));
  Logpipe worker({.command = "worker",
                  .database_url = db.url(),
                  .stream = stream,
                  .extra_args = {"--consumer", "w"}});
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 2; }, 15s))
      << worker.process().output();
  ASSERT_TRUE(eventually(
      [&] {
        text = scrape();
        return metric(text, "stream_oldest_entry_age_seconds") == 0 &&
               text.find("stream_pending_entries{consumer=\"w-0\"} 0") != std::string::npos;
      },
      10s))
      << text;
  EXPECT_EQ(text.find("consumer=\"stuck\""), std::string::npos) << text;
  EXPECT_EQ(metric(text, "stream_undelivered_entries"), 0) << text;
  EXPECT_EQ(worker.process().terminate(), 0);
  EXPECT_EQ(serve.process().terminate(), 0);
}

}  // namespace
}  // namespace logpipe::test
