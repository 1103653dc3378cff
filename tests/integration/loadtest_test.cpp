// `logpipe loadtest` against a real logpipe: a short run whose verification must find every
// acknowledged log exactly once, an open-loop run, and a run that must FAIL verification
// (nothing consumes the stream), so the check is known to be able to fail.
#include <gtest/gtest.h>

#include <filesystem>

#include "../common/certificate.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

// The --json report line of a loadtest's output.
std::string report_line(const std::string& output) {
  const auto start = output.find("{\"run_id\"");
  if (start == std::string::npos) return "";
  return output.substr(start, output.find('\n', start) - start);
}

std::pair<int, std::string> loadtest(unsigned short port, const std::string& database_url,
                                     std::vector<std::string> args) {
  std::vector<std::string> full{
      "loadtest",       "--http-addr", "127.0.0.1:" + std::to_string(port),
      "--database-url", database_url,  "--json"};
  full.insert(full.end(), args.begin(), args.end());
  return run_logpipe(full, {}, 60s);
}

TEST(Loadtest, ShortRunFindsEveryAcknowledgedLogOnce) {
  TestDatabase db("loadtest_closed");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(), .stream = unique_tag("lt") + ":stream"});

  auto [code, out] = loadtest(
      lp.port(), db.url(),
      {"--devices", "20", "--logs-per-device", "500", "--batch-size", "10", "--concurrency", "20"});
  EXPECT_EQ(code, 0) << out;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, report_line(out));
  EXPECT_EQ(uint64_t(doc["requests_sent"]), 1000u);
  EXPECT_EQ(uint64_t(doc["records_acked"]), 10000u);
  EXPECT_EQ(uint64_t(doc["statuses"]["202"]), 1000u);
  EXPECT_TRUE(bool(doc["verify"]["ok"])) << out;
  EXPECT_EQ(uint64_t(doc["verify"]["found"]), 10000u);
  EXPECT_EQ(uint64_t(doc["verify"]["duplicates"]), 0u);
  // The database agrees with the report, independently of the loadtest's own query.
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 10000);
  EXPECT_EQ(db.count("SELECT count(DISTINCT device_id) FROM logs"), 20);
  EXPECT_GT(double(doc["latency_ms"]["p99"]), 0.0);
  EXPECT_EQ(lp.process().terminate(), 0);
}

TEST(Loadtest, OpenLoopSingleAndNdjsonRuns) {
  TestDatabase db("loadtest_open");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(), .stream = unique_tag("lt") + ":stream"});

  auto [code, out] =
      loadtest(lp.port(), db.url(),
               {"--api", "single", "--rate", "400/s", "--duration", "2s", "--concurrency", "8"});
  EXPECT_EQ(code, 0) << out;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, report_line(out));
  EXPECT_EQ(std::string_view(doc["mode"]), "open");
  EXPECT_EQ(uint64_t(doc["requests_sent"]), 800u);
  EXPECT_EQ(uint64_t(doc["records_acked"]), 800u);
  EXPECT_TRUE(bool(doc["verify"]["ok"])) << out;
  // Sending at 400/s for 2 s takes about 2 s, whatever the server's speed.
  EXPECT_GT(double(doc["seconds"]), 1.8);

  auto [code2, out2] = loadtest(lp.port(), db.url(),
                                {"--api", "ingest", "--devices", "5", "--logs-per-device", "40",
                                 "--batch-size", "25", "--concurrency", "4"});
  EXPECT_EQ(code2, 0) << out2;
  simdjson::dom::parser parser2;
  auto doc2 = parse_json(parser2, report_line(out2));
  EXPECT_EQ(uint64_t(doc2["verify"]["found"]), 200u);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 1000);
  EXPECT_EQ(lp.process().terminate(), 0);
}

TEST(Loadtest, FailsWhenAcknowledgedLogsAreNotStored) {
  TestDatabase db("loadtest_missing");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  // serve only: the logs are queued and acknowledged, but no worker stores them.
  Logpipe lp(
      {.command = "serve", .database_url = db.url(), .stream = unique_tag("lt") + ":stream"});

  auto [code, out] = loadtest(
      lp.port(), db.url(), {"--devices", "2", "--logs-per-device", "10", "--verify-timeout", "2"});
  EXPECT_EQ(code, 1) << out;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, report_line(out));
  EXPECT_EQ(uint64_t(doc["records_acked"]), 20u);
  EXPECT_EQ(uint64_t(doc["verify"]["found"]), 0u);
  EXPECT_FALSE(bool(doc["verify"]["ok"]));
  EXPECT_TRUE(bool(doc["verify"]["timed_out"]));
  EXPECT_EQ(lp.process().terminate(), 0);
}

TEST(Loadtest, OverHttpsTrustingAPrivateCa) {
  const auto dir = std::filesystem::temp_directory_path() / unique_tag("loadtest_https");
  std::filesystem::create_directories(dir);
  const auto ca = make_ca(dir.string(), "ca", "logpipe test CA");
  const auto served =
      make_certificate(dir.string(), "server", "127.0.0.1", CertificateUse::server, &ca);
  TestDatabase db("loadtest_https");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(),
              .stream = unique_tag("lt") + ":stream",
              .extra_args = {"--tls-cert", served.cert, "--tls-key", served.key},
              .https = true});

  auto [code, out] =
      loadtest(lp.port(), db.url(),
               {"--https", "--cacert", ca.cert, "--devices", "10", "--logs-per-device", "100",
                "--batch-size", "10", "--concurrency", "10"});
  EXPECT_EQ(code, 0) << out;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, report_line(out));
  EXPECT_TRUE(bool(doc["https"]));
  EXPECT_EQ(uint64_t(doc["records_acked"]), 1000u);
  EXPECT_TRUE(bool(doc["verify"]["ok"])) << out;
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 1000);

  // Without the CA: refused once, before any load, in logpipe query's words.
  std::tie(code, out) = loadtest(lp.port(), db.url(), {"--https", "--no-verify"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("is not trusted"), std::string::npos) << out;
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 1000);
  EXPECT_EQ(lp.process().terminate(), 0);
  std::filesystem::remove_all(dir);
}

TEST(Loadtest, UnreachableTargetAndBadOptions) {
  const auto port = free_port();
  auto [code, out] =
      run_logpipe({"loadtest", "--http-addr", "127.0.0.1:" + std::to_string(port), "--no-verify"});
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("cannot connect"), std::string::npos) << out;
  EXPECT_EQ(run_logpipe({"loadtest", "--rate", "100"}).first, 2) << "--rate needs --duration";
  EXPECT_EQ(run_logpipe({"loadtest", "--api", "bulk"}).first, 2);
  EXPECT_EQ(run_logpipe({"loadtest", "--rate", "100/s", "--duration", "soon"}).first, 2);
  EXPECT_EQ(run_logpipe({"loadtest", "--protocol", "syslog-tcp", "--https"}).first, 2);
}

}  // namespace
}  // namespace logpipe::test
