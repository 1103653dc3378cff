// Dependency outages: health reports them and recovers; ingest never claims success it can't
// prove. Each test has its own private Redis so stopping it can't disturb parallel tests.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "harness.hpp"

namespace logpipe::test {
namespace {

std::string health_body(unsigned short port, int& status) {
  auto r = get(port, "/health");
  status = r.status;
  return r.body;
}

// /health's body once it contains `part` (within 10 s), or the last one seen.
std::string health_once(unsigned short port, std::string_view part, int& status) {
  std::string body;
  eventually(
      [&] {
        body = health_body(port, status);
        return body.find(part) != std::string::npos;
      },
      10s);
  return body;
}

TEST(Outage, HealthIs503WhileRedisIsDownWithoutFallbackAndRecovers) {
  TestDatabase db("outage");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  PrivateService redis("redis");
  Logpipe lp({.database_url = db.url(),
              .redis_url = redis.url(),
              .stream = unique_tag("outage"),
              .extra_args = {"--fallback", "off"}});

  int status = 0;
  std::string body = health_body(lp.port(), status);
  ASSERT_EQ(status, 200) << body;
  simdjson::dom::parser parser;
  auto ok = parse_json(parser, body);
  EXPECT_EQ(std::string_view(ok["status"]), "healthy");
  EXPECT_TRUE(bool(ok["checks"]["redis"]));
  EXPECT_TRUE(bool(ok["checks"]["postgres"]));
  EXPECT_FALSE(std::string_view(ok["timestamp"]).empty());

  redis.stop();
  ASSERT_TRUE(eventually([&] { return health_body(lp.port(), status), status == 503; }, 5s));
  body = health_body(lp.port(), status);
  auto down = parse_json(parser, body);
  EXPECT_EQ(std::string_view(down["status"]), "unhealthy");
  EXPECT_FALSE(bool(down["checks"]["redis"])) << body;
  EXPECT_TRUE(bool(down["checks"]["postgres"])) << body;
  EXPECT_EQ(get(lp.port(), "/health/ready").status, 503);
  EXPECT_EQ(get(lp.port(), "/health/live").status, 200);

  // No 2xx without a durable write: with fallback off, ingest answers 503 with Retry-After.
  auto refused = post_json(lp.port(), "/api/log", R"({"device_id":"d","message":"during"})");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_FALSE(refused.headers["retry-after"].empty());

  redis.start();
  ASSERT_TRUE(eventually([&] { return health_body(lp.port(), status), status == 200; }, 10s))
      << lp.process().output();
  auto accepted = post_json(lp.port(), "/api/log", R"({"device_id":"d","message":"after"})");
  EXPECT_EQ(accepted.status, 202) << accepted.body;
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 1; }, 15s))
      << lp.process().output();
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'during'"), 0);
  EXPECT_EQ(lp.process().terminate(), 0);
}

// serve's job is ingest, and ingest goes on into the queue while PostgreSQL is away: a load
// balancer polling readiness must keep the instance in rotation exactly then.
TEST(Outage, PostgresUnreachableIsDegradedNotDown) {
  TestDatabase db("pgdown");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(), .stream = unique_tag("pgdown")});
  int status = 0;
  ASSERT_EQ((health_body(lp.port(), status), status), 200);
  {
    // Dropping the test's database is this test's "PostgreSQL outage": the shared server stays up.
    auto admin = store::Connection::open(Services::shared().database_url);
    ASSERT_TRUE(admin.ok());
    const std::string name = db.url().substr(db.url().rfind('/') + 1);
    ASSERT_TRUE(admin->exec("DROP DATABASE " + name + " WITH (FORCE)").ok());
  }
  const std::string body = health_once(lp.port(), "\"postgres\":false", status);
  EXPECT_EQ(status, 200) << body;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, body);
  EXPECT_EQ(std::string_view(doc["status"]), "degraded") << body;
  EXPECT_TRUE(bool(doc["checks"]["redis"]));
  EXPECT_FALSE(bool(doc["checks"]["postgres"]));
  EXPECT_EQ(std::string_view(doc["ingest"]), "redis");
  EXPECT_EQ(get(lp.port(), "/health/ready").status, 200);
  EXPECT_EQ(post_json(lp.port(), "/api/log", R"({"device_id":"d","message":"queued"})").status,
            202);
  EXPECT_EQ(lp.process().terminate(), 0) << lp.process().output();
}

// With the fallback on, Redis away still leaves ingest possible (into PostgreSQL): degraded.
TEST(Outage, RedisDownWithFallbackIsDegradedNotDown) {
  TestDatabase db("redisdown");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  PrivateService redis("redis");
  Logpipe lp({.database_url = db.url(), .redis_url = redis.url(), .stream = unique_tag("rdown")});
  redis.stop();
  int status = 0;
  const std::string body = health_once(lp.port(), "\"redis\":false", status);
  EXPECT_EQ(status, 200) << body;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, body);
  EXPECT_EQ(std::string_view(doc["status"]), "degraded") << body;
  EXPECT_EQ(std::string_view(doc["ingest"]), "db") << body;
  EXPECT_EQ(get(lp.port(), "/health/ready").status, 200);
  EXPECT_EQ(lp.process().terminate(), 0) << lp.process().output();
}

}  // namespace
}  // namespace logpipe::test
