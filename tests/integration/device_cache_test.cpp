// GET /api/logs/{device_id} through the Redis cache: a repeated question is answered from the
// cache, a stored log of the device makes the next answer fresh (the worker drops the cached
// answers when it acknowledges), each limit is its own answer, and the cache can be turned off.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace logpipe::test {
namespace {

struct DeviceAnswer {
  std::string source;
  long long total = -1;
};

DeviceAnswer ask(unsigned short port, const std::string& target) {
  auto r = get(port, target);
  EXPECT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, r.body);
  return {std::string(std::string_view(doc["source"].get_string())), doc["total"].get_int64()};
}

void send_logs(unsigned short port, const std::string& device, int n) {
  std::string body;
  for (int i = 0; i < n; ++i)
    body += R"({"device_id":")" + device + R"(","message":"m)" + std::to_string(i) + "\"}\n";
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/v1/ingest";
  r.content_type = "application/x-ndjson";
  r.body = body;
  ASSERT_EQ(http(port, r).status, 202);
}

long long cache_counter(unsigned short port, const std::string& result) {
  const auto text = get(port, "/metrics").body;
  const std::string name = "device_cache_requests_total{result=\"" + result + "\"} ";
  const auto at = text.find(name);
  return at == std::string::npos ? 0 : std::stoll(text.substr(at + name.size()));
}

TEST(DeviceCache, RepeatsComeFromTheCacheAndNewLogsInvalidateIt) {
  TestDatabase db("devcache");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(), .stream = unique_tag("devcache")});
  const std::string device = unique_tag("dev");
  send_logs(lp.port(), device, 3);
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 3; }, 30s));
  // The worker acknowledges (and drops cached answers) right after its commit.
  ASSERT_TRUE(eventually(
      [&] { return ask(lp.port(), "/api/logs/" + device + "?limit=10").total == 3; }, 5s));

  const auto hits = cache_counter(lp.port(), "hit");
  auto again = ask(lp.port(), "/api/logs/" + device + "?limit=10");
  EXPECT_EQ(again.source, "cache");
  EXPECT_EQ(again.total, 3);
  EXPECT_EQ(cache_counter(lp.port(), "hit"), hits + 1);

  // Another limit is another answer.
  auto two = ask(lp.port(), "/api/logs/" + device + "?limit=2");
  EXPECT_EQ(two.source, "database");
  EXPECT_EQ(two.total, 2);
  EXPECT_EQ(ask(lp.port(), "/api/logs/" + device + "?limit=2").source, "cache");

  // A new log of the device: once stored, the answer is fresh within a second.
  send_logs(lp.port(), device, 1);
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 4; }, 30s));
  const auto stored_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(eventually(
      [&] { return ask(lp.port(), "/api/logs/" + device + "?limit=10").total == 4; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - stored_at, 1s) << "staler than a second";
  EXPECT_EQ(ask(lp.port(), "/api/logs/" + device + "?limit=2").source, "database")
      << "every limit of the device was dropped";

  // A delete through the API drops the device's answers before it answers.
  EXPECT_EQ(ask(lp.port(), "/api/logs/" + device + "?limit=10").source, "cache");
  HttpRequest del;
  del.method = "DELETE";
  del.target = "/api/v1/logs?device_id=" + device + "&limit=1";
  ASSERT_EQ(http(lp.port(), del).status, 200);
  auto after = ask(lp.port(), "/api/logs/" + device + "?limit=10");
  EXPECT_EQ(after.total, 3);
  EXPECT_EQ(after.source, "database");
}

TEST(DeviceCache, TurnedOffEveryAnswerComesFromTheDatabase) {
  TestDatabase db("devcache_off");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(),
              .stream = unique_tag("devcache_off"),
              .extra_args = {"--device-cache-ttl", "0"}});
  const std::string device = unique_tag("dev");
  send_logs(lp.port(), device, 2);
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 2; }, 30s));
  for (int i = 0; i < 3; ++i) {
    auto a = ask(lp.port(), "/api/logs/" + device);
    EXPECT_EQ(a.source, "database");
    EXPECT_EQ(a.total, 2);
  }
  EXPECT_EQ(cache_counter(lp.port(), "hit"), 0);
}

}  // namespace
}  // namespace logpipe::test
