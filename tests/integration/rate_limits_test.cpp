// Rate limits and quotas (README "Rate limits and quotas") against real Redis and PostgreSQL:
// per key (the intake and the middleware in this process, with a principal set by the test until
// API keys exist), per client address and per tenant through running serve processes.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <future>
#include <regex>
#include <thread>

#include "api/api.hpp"
#include "harness.hpp"
#include "intake/intake.hpp"
#include "metrics/metrics.hpp"
#include "queue/async_client.hpp"
#include "queue/stream_appender.hpp"
#include "store/pool.hpp"

namespace logpipe::test {
namespace {

namespace asio = boost::asio;

model::Batch batch_of(std::size_t n, const std::string& tag) {
  model::Batch batch;
  batch.received_at = core::now_micros();
  for (std::size_t i = 0; i < n; ++i) {
    model::Record r;
    r.ts = batch.received_at;
    r.message = tag + "-" + std::to_string(i);
    batch.records.push_back(std::move(r));
  }
  return batch;
}

// The intake and the API context of a serve, in this process, on the shared Redis and a test
// database: for the per-key limits, whose principal the test sets.
class InProcess {
 public:
  InProcess(const std::string& database_url, const std::string& stream,
            intake::IntakeOptions options)
      : redis_(io_, queue::parse_redis_url(Services::shared().redis_url).value()),
        appender_(redis_, stream),
        pool_(database_url, 2),
        intake_(redis_, appender_, pool_, db_threads_, metrics_, with_stream(options, stream)),
        ctx_(redis_, intake_, pool_, db_threads_, metrics_),
        thread_([this] { io_.run(); }) {}
  ~InProcess() {
    redis_.close();
    work_.reset();
    thread_.join();
    db_threads_.join();
  }

  core::Result<intake::Accepted> submit(const model::Principal& principal, model::Batch batch) {
    std::promise<core::Result<intake::Accepted>> promise;
    auto answer = promise.get_future();
    intake_.submit(principal, std::move(batch), [&promise](core::Result<intake::Accepted> r) {
      promise.set_value(std::move(r));
    });
    if (answer.wait_for(10s) != std::future_status::ready)
      return core::make_error(core::Errc::timeout, "no answer in 10 s");
    return answer.get();
  }
  api::Context& ctx() { return ctx_; }
  double metric(const std::string& series) const { return test::metric(metrics_.render(), series); }

 private:
  static intake::IntakeOptions with_stream(intake::IntakeOptions o, const std::string& stream) {
    o.stream = stream;
    o.instance = "test";
    o.fallback_to_db = false;
    return o;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  queue::AsyncClient redis_;
  queue::StreamAppender appender_;
  store::Pool pool_;
  asio::thread_pool db_threads_{2};
  metrics::Metrics metrics_;
  intake::Intake intake_;
  api::Context ctx_;
  std::thread thread_;
};

class RateLimits : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  }
  long long stream_length() {
    auto redis = shared_redis();
    auto n = redis.command({"XLEN", stream});
    return n ? queue::reply_integer(**n) : -1;
  }

  TestDatabase db{"rate_limits"};
  std::string stream = unique_tag("rate") + ":stream";
};

model::Principal key(const std::string& id, std::uint32_t requests, std::uint32_t logs) {
  return {model::kDefaultTenant, "default", id, model::kAllScopes, requests, logs};
}

TEST_F(RateLimits, KeyLogsPerSecondRefusesBeforeAnythingIsAppended) {
  intake::IntakeOptions options;
  options.key_logs_per_second = 50;  // the default of keys without their own limit
  InProcess serve(db.url(), stream, options);

  // The key's own limit: 100 logs/s, a burst of 100. The refused request asks for 60: the
  // bucket refills only after 600 ms, not the 10 ms one log would give a slow machine (CI under
  // ASan took longer than that between the two calls and let a 1-log request through).
  ASSERT_TRUE(serve.submit(key("key-a", 0, 100), batch_of(100, "a")));
  auto refused = serve.submit(key("key-a", 0, 100), batch_of(60, "a-refused"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::Errc::rate_limited);
  EXPECT_GE(refused.error().retry_after_seconds, 1U);
  EXPECT_NE(refused.error().message.find("100 logs per second for key key-a"), std::string::npos)
      << refused.error().message;
  // Another key has its own bucket; the default applies without an own limit, and a request
  // bigger than the burst passes on a full bucket, leaving a debt the next one waits out.
  ASSERT_TRUE(serve.submit(key("key-b", 0, 0), batch_of(80, "b")));
  auto b = serve.submit(key("key-b", 0, 0), batch_of(1, "b-refused"));
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().retry_after_seconds, 1U);  // 31 tokens at 50/s
  // Without a key (auth = "none", the listeners): no per-key limit.
  ASSERT_TRUE(serve.submit(model::Principal::unauthenticated(), batch_of(500, "anon")));

  EXPECT_EQ(stream_length(), 3) << "a refused request appended nothing";
  EXPECT_EQ(serve.metric(R"(rate_limited_total{reason="key_logs"})"), 2);
  // The bucket refills: after a second key-a passes again.
  std::this_thread::sleep_for(1100ms);
  EXPECT_TRUE(serve.submit(key("key-a", 0, 100), batch_of(50, "a-later")));
}

TEST_F(RateLimits, KeyRequestsPerSecondOnTheHead) {
  InProcess serve(db.url(), stream, {});
  api::Context& ctx = serve.ctx();
  http::RouteSpec ingest{http::bhttp::verb::post, "/api/v1/ingest", "", model::Scope::ingest};
  http::RouteSpec es_bulk{http::bhttp::verb::post,
                          "/es/_bulk",
                          "",
                          model::Scope::ingest,
                          0,
                          false,
                          1 /* Protocol::elasticsearch */};
  http::RequestHead head;
  head.method(http::bhttp::verb::post);
  head.target("/api/v1/ingest");
  const auto ask = [&](const http::RouteSpec& route, const model::Principal& principal) {
    http::RequestContext rc;
    rc.route = &route;
    rc.principal = principal;
    rc.peer = "127.0.0.1";
    return api::limit_requests(ctx, head, rc);
  };

  // Unlimited by default.
  for (int i = 0; i < 50; ++i)
    ASSERT_FALSE(ask(ingest, key("k0", 0, 0)));
  // The key's own limit.
  for (int i = 0; i < 3; ++i)
    ASSERT_FALSE(ask(ingest, key("k1", 3, 0))) << i;
  auto refused = ask(ingest, key("k1", 3, 0));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 429);
  EXPECT_EQ((*refused)[http::bhttp::field::retry_after], "1");
  EXPECT_NE(refused->body().find(R"("rate_limited")"), std::string::npos) << refused->body();
  // The server's default for keys without one; an Elasticsearch route answers in its shape.
  ctx.key_requests_per_second = 2;
  ASSERT_FALSE(ask(es_bulk, key("k2", 0, 0)));
  ASSERT_FALSE(ask(es_bulk, key("k2", 0, 0)));
  auto es = ask(es_bulk, key("k2", 0, 0));
  ASSERT_TRUE(es);
  EXPECT_EQ(es->result_int(), 429);
  EXPECT_EQ((*es)[http::bhttp::field::retry_after], "1");
  EXPECT_NE(es->body().find(R"("root_cause")"), std::string::npos) << es->body();
  EXPECT_NE(es->body().find(R"("status":429)"), std::string::npos) << es->body();
  EXPECT_EQ(serve.metric(R"(rate_limited_total{reason="key_requests"})"), 2);
  // No key: the per-address limit, off by default.
  for (int i = 0; i < 50; ++i)
    ASSERT_FALSE(ask(ingest, model::Principal::unauthenticated()));
}

// A client without a key that floods gets 429 with Retry-After (in each protocol's shape), and
// nothing of what was refused is stored; /health/live keeps answering.
TEST_F(RateLimits, KeylessFloodPerClientAddress) {
  Logpipe run({.command = "run",
               .database_url = db.url(),
               .stream = stream,
               .extra_args = {"--ip-requests-per-second", "2"}});
  std::vector<std::string> accepted;
  int refused = 0;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) {
    const std::string message = "flood-" + std::to_string(i);
    const auto r = post_json(run.port(), "/api/v1/ingest", R"({"message":")" + message + R"("})");
    if (r.status == 202) {
      accepted.push_back(message);
      continue;
    }
    ASSERT_EQ(r.status, 429) << r.body;
    EXPECT_GE(std::stoi(r.headers.at("retry-after")), 1);
    EXPECT_NE(r.body.find(R"("rate_limited")"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("client address 127.0.0.1"), std::string::npos) << r.body;
    ++refused;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_GE(refused, 1);
  // A burst of 2, then 2 per second, whatever this busy machine took for the loop.
  EXPECT_LE(static_cast<double>(accepted.size()), 2 + 2 * seconds + 1) << seconds << " s";

  // Every protocol's refusal carries Retry-After: Elasticsearch's and HEC's error shapes.
  HttpResponse es, hec;
  ASSERT_TRUE(eventually(
      [&] {
        es = http(run.port(), {.method = "POST",
                               .target = "/es/_bulk",
                               .body = "{\"index\":{}}\n{\"message\":\"es-flood\"}\n",
                               .content_type = "application/x-ndjson"});
        return es.status == 429;
      },
      5s));
  EXPECT_NE(es.body.find(R"("root_cause")"), std::string::npos) << es.body;
  EXPECT_TRUE(es.headers.count("retry-after"));
  ASSERT_TRUE(eventually(
      [&] {
        hec = http(run.port(), {.method = "POST",
                                .target = "/services/collector/event",
                                .body = R"({"event":"hec-flood"})"});
        return hec.status == 429;
      },
      5s));
  EXPECT_NE(hec.body.find(R"("code")"), std::string::npos) << hec.body;
  EXPECT_TRUE(hec.headers.count("retry-after"));
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(get(run.port(), "/health/live").status, 200) << "/health/live is never limited";

  // What was accepted is stored, and nothing else (the ES and HEC probes may have passed: they
  // are excluded from the count).
  ASSERT_TRUE(eventually(
      [&] {
        return db.count("SELECT count(*) FROM logs WHERE message LIKE 'flood-%'") ==
               static_cast<long long>(accepted.size());
      },
      15s))
      << run.process().output();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message LIKE 'flood-%'"),
            static_cast<long long>(accepted.size()));
  for (const auto& m : accepted)
    EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = '" + m + "'"), 1) << m;
  EXPECT_GE(metric(run.port(), R"(rate_limited_total{reason="ip_requests"})"), refused + 2);
}

// Per key through a running server with auth = "keys": a key's own requests/s (--rate) and
// logs/s (--logs-rate), and key_logs_per_second for a key without its own; another key is not
// slowed by a limited one.
TEST_F(RateLimits, KeysOwnLimitsEndToEnd) {
  const auto key = [&](std::vector<std::string> more) {
    std::vector<std::string> args = {"keys", "create", "--name", "k", "--scopes", "ingest"};
    args.insert(args.end(), more.begin(), more.end());
    auto [code, out] = run_logpipe(args, {{"LOGPIPE_DATABASE_URL", db.url()}});
    std::smatch m;
    EXPECT_EQ(code, 0) << out;
    EXPECT_TRUE(std::regex_search(out, m, std::regex("lpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}"))) << out;
    return m.str();
  };
  const std::string slow = key({"--rate", "2/s"});
  const std::string few_logs = key({"--logs-rate", "10/s"});
  const std::string defaults = key({});
  Logpipe run({.command = "run",
               .database_url = db.url(),
               .stream = stream,
               .extra_args = {"--key-logs-per-second", "5"},
               .env = {{"LOGPIPE_AUTH", "keys"}}});
  const auto send = [&](const std::string& k, int logs, const std::string& tag) {
    std::string body;
    for (int i = 0; i < logs; ++i)
      body += R"({"message":")" + tag + "-" + std::to_string(i) + "\"}\n";
    return http(run.port(), {.method = "POST",
                             .target = "/api/v1/ingest",
                             .body = body,
                             .headers = {{"X-API-Key", k}},
                             .content_type = "application/x-ndjson"});
  };
  // Requests per second: a burst of 2, then refused on the head.
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    const auto r = send(slow, 1, "slow" + std::to_string(i));
    if (r.status == 429) {
      ++refused;
      EXPECT_NE(r.body.find("requests per second for key"), std::string::npos) << r.body;
      EXPECT_TRUE(r.headers.count("retry-after"));
    } else {
      EXPECT_EQ(r.status, 202) << r.body;
    }
  }
  EXPECT_GE(refused, 2);
  // Logs per second: 10 pass, the 11th waits; the default (5/s) for a key without its own.
  EXPECT_EQ(send(few_logs, 10, "few").status, 202);
  const auto over = send(few_logs, 5, "few-over");
  EXPECT_EQ(over.status, 429) << over.body;
  EXPECT_NE(over.body.find("10 logs per second for key"), std::string::npos) << over.body;
  EXPECT_EQ(send(defaults, 5, "def").status, 202);
  EXPECT_EQ(send(defaults, 5, "def-over").status, 429);
  ASSERT_TRUE(eventually(
      [&] {
        return db.count(
                   "SELECT count(*) FROM logs WHERE message LIKE 'few-%' OR message LIKE "
                   "'def-%'") == 15;
      },
      15s))
      << run.process().output();
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message LIKE '%over%'"), 0);
  const std::string metrics =
      http(run.port(), {.target = "/metrics", .headers = {{"X-API-Key", defaults}}}).body;
  EXPECT_EQ(test::metric(metrics, R"(rate_limited_total{reason="key_requests"})"), refused);
  EXPECT_EQ(test::metric(metrics, R"(rate_limited_total{reason="key_logs"})"), 2);
}

// Seconds until the next 00:00 UTC.
long long seconds_to_midnight() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const long long s = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  return 86400 - s % 86400;
}

// A tenant's logs/day across two serve instances sharing Redis: what one stored counts on the
// other once the instances have synchronised (about a second), and the quota refuses the batch
// that would go over, naming it, with Retry-After until the next UTC day.
TEST_F(RateLimits, DailyQuotaAcrossTwoServeInstances) {
  if (seconds_to_midnight() < 60) GTEST_SKIP() << "too close to 00:00 UTC, the quotas' reset";
  {
    auto c = db.connect();
    ASSERT_TRUE(c.exec("UPDATE tenants SET max_logs_per_day = 100 WHERE id = 1"));
  }
  Logpipe a({.command = "serve", .database_url = db.url(), .stream = stream});
  Logpipe b({.command = "serve", .database_url = db.url(), .stream = stream});
  Logpipe worker({.command = "worker", .database_url = db.url(), .stream = stream});
  const auto batch = [](const std::string& tag) {
    std::string body;
    for (int i = 0; i < 10; ++i)
      body += R"({"message":")" + tag + "-" + std::to_string(i) + "\"}\n";
    return body;
  };
  for (int i = 0; i < 6; ++i)
    ASSERT_EQ(ingest_ndjson(a.port(), batch("a" + std::to_string(i))).status, 202) << i;
  // A's 60 reach Redis within a second, and B reads the total within the next one.
  std::this_thread::sleep_for(2500ms);
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(ingest_ndjson(b.port(), batch("b" + std::to_string(i))).status, 202) << i;
  const auto refused = ingest_ndjson(b.port(), batch("b-over"));
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_NE(refused.body.find("daily quota of 100 logs (max_logs_per_day)"), std::string::npos)
      << refused.body;
  const long long retry_after = std::stoll(refused.headers.at("retry-after"));
  EXPECT_NEAR(static_cast<double>(retry_after), static_cast<double>(seconds_to_midnight()), 5);
  // A learns B's 40 within about two seconds and refuses too, already on the head (admit) now
  // that the day is used up.
  std::this_thread::sleep_for(2500ms);
  const auto on_a = ingest_ndjson(a.port(), R"({"message":"a-over"})");
  EXPECT_EQ(on_a.status, 429) << on_a.body;
  EXPECT_NE(on_a.body.find("max_logs_per_day"), std::string::npos) << on_a.body;

  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 100; }, 15s))
      << worker.process().output();
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 100);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message LIKE '%over%'"), 0);
  EXPECT_GE(metric(b.port(), R"(rate_limited_total{reason="quota_logs"})"), 1);
  EXPECT_GE(metric(a.port(), R"(rate_limited_total{reason="quota_logs"})"), 1);
  // The day's usage in Redis, under the stream's namespace, expiring.
  auto redis = shared_redis();
  const std::string day = core::format_date(core::now_micros());
  auto total = redis.command({"GET", stream + ":quota:1:" + day + ":logs"});
  ASSERT_TRUE(total);
  EXPECT_EQ(queue::reply_string(**total), "100");
  auto ttl = redis.command({"TTL", stream + ":quota:1:" + day + ":logs"});
  ASSERT_TRUE(ttl);
  EXPECT_GT(queue::reply_integer(**ttl), 0);
}

// Bytes per day: the stored text of the records (message, names, attrs).
TEST_F(RateLimits, DailyBytesQuota) {
  if (seconds_to_midnight() < 60) GTEST_SKIP() << "too close to 00:00 UTC, the quotas' reset";
  {
    auto c = db.connect();
    ASSERT_TRUE(c.exec("UPDATE tenants SET max_bytes_per_day = 1000 WHERE id = 1"));
  }
  Logpipe run({.command = "run", .database_url = db.url(), .stream = stream});
  const std::string message(400, 'x');  // 400 bytes of message + "{}" of attrs
  ASSERT_EQ(post_json(run.port(), "/api/v1/ingest", R"({"message":")" + message + "\"}").status,
            202);
  ASSERT_EQ(post_json(run.port(), "/api/v1/ingest", R"({"message":")" + message + "\"}").status,
            202);
  const auto over = post_json(run.port(), "/api/v1/ingest", R"({"message":")" + message + "\"}");
  ASSERT_EQ(over.status, 429) << over.body;
  EXPECT_NE(over.body.find("daily quota of 1000 bytes (max_bytes_per_day)"), std::string::npos)
      << over.body;
  EXPECT_TRUE(over.headers.count("retry-after"));
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 2; }, 15s));
  EXPECT_EQ(metric(run.port(), R"(rate_limited_total{reason="quota_bytes"})"), 1);
}

}  // namespace
}  // namespace logpipe::test
