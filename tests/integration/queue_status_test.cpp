// GET /api/v1/queue (and seed 001's /queue/status) against the real Redis: a backlog shows as
// length and lag while no worker runs, and drains once one does.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "harness.hpp"

namespace logpipe::test {
namespace {

TEST(QueueStatus, ShowsTheBacklogThenItDrains) {
  TestDatabase db("queue_status");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string stream = unique_tag("qs") + ":stream";
  Logpipe serve({.command = "serve", .database_url = db.url(), .stream = stream});
  for (int i = 0; i < 3; ++i) {
    // One at a time, so each is its own stream entry.
    ASSERT_EQ(post_json(serve.port(), "/api/log", R"({"device_id":"d","message":"m"})").status,
              202);
  }
  auto r = get(serve.port(), "/api/v1/queue");
  ASSERT_EQ(r.status, 200) << r.body;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, r.body);
  EXPECT_EQ(std::string_view(doc["queue_name"]), stream);
  EXPECT_EQ(int64_t(doc["length"]), 3);
  EXPECT_EQ(int64_t(doc["lag"]), 3);
  EXPECT_EQ(int64_t(doc["pending_messages"]), 0);
  EXPECT_EQ(int64_t(doc["consumers"]), 0);
  EXPECT_EQ(std::string_view(doc["dlq"]["stream"]), stream.substr(0, stream.size() - 7) + ":dlq");
  EXPECT_EQ(int64_t(doc["dlq"]["length"]), 0);
  EXPECT_FALSE(std::string_view(doc["last_message_id"]).empty());

  Logpipe worker({.command = "worker",
                  .database_url = db.url(),
                  .stream = stream,
                  .extra_args = {"--consumer", "w"}});
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 3; }, 10s));
  ASSERT_TRUE(eventually(
      [&] {
        simdjson::dom::parser p;
        auto d = parse_json(p, get(serve.port(), "/queue/status").body);
        return int64_t(d["length"]) == 0 && int64_t(d["consumers"]) == 2;
      },
      5s));
  auto after = get(serve.port(), "/queue/status");
  auto doc2 = parse_json(parser, after.body);
  EXPECT_EQ(int64_t(doc2["lag"]), 0) << after.body;
  EXPECT_EQ(std::string_view(doc2["consumer_details"].at(0)["name"]), "w-0") << after.body;
  EXPECT_EQ(std::string_view(doc2["last_delivered_id"]), std::string_view(doc["last_message_id"]));
  EXPECT_EQ(worker.process().terminate(), 0);
  EXPECT_EQ(serve.process().terminate(), 0);
}

TEST(Backpressure, AboveTheHighWaterMarkIngestAnswers429AndRecovers) {
  TestDatabase db("backpressure");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string stream = unique_tag("bp") + ":stream";
  Logpipe serve({.command = "serve",
                 .database_url = db.url(),
                 .stream = stream,
                 .extra_args = {"--max-backlog", "3"}});
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(post_json(serve.port(), "/api/log", R"({"device_id":"d","message":"queued"})").status,
              202);
  // The backlog (4 entries > 3) is seen within a refresh period (250 ms); wait for two.
  std::this_thread::sleep_for(600ms);
  auto refused = post_json(serve.port(), "/api/log", R"({"device_id":"d","message":"refused"})");
  ASSERT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.headers["retry-after"], "1");
  EXPECT_NE(refused.body.find("\"code\":\"overloaded\""), std::string::npos) << refused.body;

  Logpipe worker({.command = "worker", .database_url = db.url(), .stream = stream});
  ASSERT_TRUE(eventually(
      [&] {
        return post_json(serve.port(), "/api/log", R"({"device_id":"d","message":"after"})")
                   .status == 202;
      },
      10s));
  ASSERT_TRUE(eventually(
      [&] { return db.count("SELECT count(*) FROM logs WHERE message = 'after'") >= 1; }, 10s));
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'refused'"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'queued'"), 4);
  EXPECT_EQ(worker.process().terminate(), 0);
  EXPECT_EQ(serve.process().terminate(), 0);
}

// The byte limit trips on its own (the entry limit is off), and the refusal comes on the
// request's headers: a 5 MiB upload is answered without its body being sent.
TEST(Backpressure, AboveTheByteLimitIngestIsRefusedOnItsHeaders) {
  TestDatabase db("backpressure_bytes");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string stream = unique_tag("bpb") + ":stream";
  Logpipe serve({.command = "serve",
                 .database_url = db.url(),
                 .stream = stream,
                 .extra_args = {"--max-backlog", "0", "--max-backlog-bytes", "16384"}});
  // Incompressible text: entries are LZ4-compressed, so repeated bytes would take no room.
  std::string big;
  std::uint32_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    x = x * 1103515245 + 12345;
    big.push_back(static_cast<char>('a' + (x >> 16) % 26));
  }
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(post_json(serve.port(), "/api/v1/ingest", R"({"message":")" + big + R"("})").status,
              202);
  std::string body;
  ASSERT_TRUE(eventually(
      [&] {
        auto r = post_json(serve.port(), "/api/v1/ingest", R"({"message":"refused"})");
        body = r.body;
        return r.status == 429;
      },
      5s))
      << body;
  EXPECT_NE(body.find("bytes not yet stored (limit 16384)"), std::string::npos) << body;

  const int fd = connect_loopback(serve.port());
  ASSERT_GE(fd, 0);
  const std::string head =
      "POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 5242880\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buffer[512] = {};
  const ssize_t n = ::recv(fd, buffer, sizeof buffer - 1, 0);
  ::close(fd);
  ASSERT_GT(n, 0) << "no answer without the body";
  EXPECT_EQ(std::string(buffer, 12), "HTTP/1.1 429");
  EXPECT_EQ(serve.process().terminate(), 0);
}

TEST(WorkerStatus, MetricsAndReadinessOnMetricsAddr) {
  TestDatabase db("worker_status");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string stream = unique_tag("ws") + ":stream";
  Logpipe serve({.command = "serve", .database_url = db.url(), .stream = stream});
  const auto port = free_port();
  Logpipe worker({.command = "worker",
                  .database_url = db.url(),
                  .stream = stream,
                  .extra_args = {"--metrics-addr", "127.0.0.1:" + std::to_string(port)}});
  ASSERT_TRUE(eventually([&] { return get(port, "/health/live").status == 200; }, 10s));
  ASSERT_EQ(post_json(serve.port(), "/api/log", R"({"device_id":"d","message":"m"})").status, 202);
  ASSERT_TRUE(eventually(
      [&] {
        return get(port, "/metrics")
                   .body.find("worker_processed_logs_total{status=\"stored\"} 1") !=
               std::string::npos;
      },
      10s))
      << get(port, "/metrics").body;
  EXPECT_NE(get(port, "/metrics").body.find("worker_circuit_breaker_open 0"), std::string::npos);
  auto ready = get(port, "/health/ready");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.body, R"({"status":"ready","checks":{"worker":true}})");
  EXPECT_EQ(worker.process().terminate(), 0) << worker.process().output();
  EXPECT_EQ(serve.process().terminate(), 0);
  // A bad address is one clear line at start.
  auto [code, out] = run_logpipe({"worker", "--metrics-addr", "nonsense"});
  EXPECT_EQ(code, 2) << out;
}

}  // namespace
}  // namespace logpipe::test
