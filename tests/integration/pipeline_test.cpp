// End to end: HTTP → Redis stream → worker → PostgreSQL → query, against the real services.
#include <gtest/gtest.h>

#include <thread>

#include "harness.hpp"

namespace logpipe::test {
namespace {

std::string minified(simdjson::dom::element e) {
  return simdjson::to_string(e);
}

TEST(Pipeline, SingleLogComesBackIntactWithinTwoSeconds) {
  TestDatabase db("single");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(), .stream = unique_tag("single")});

  const std::string message = "Température élevée: 42 °C — 警告 🔥 \"quoted\" \\ back";
  const std::string body =
      R"({"device_id":"device_001","log_level":"warn","message":")" +
      std::string("Température élevée: 42 °C — 警告 🔥 \\\"quoted\\\" \\\\ back") +
      R"(","log_data":{"sensor":{"id":7,"readings":[1.5,2,null,true],"unit":"°C"},"tags":["a","b"]}})";
  const auto sent_at = std::chrono::steady_clock::now();
  auto r = post_json(lp.port(), "/api/log", body);
  ASSERT_EQ(r.status, 202) << r.body;
  simdjson::dom::parser parser;
  auto accepted = parse_json(parser, r.body);
  EXPECT_EQ(std::string_view(accepted["status"]), "queued");
  EXPECT_FALSE(std::string_view(accepted["message_id"]).empty());
  EXPECT_FALSE(std::string_view(accepted["received_at"]).empty());

  std::string found;
  const bool stored = eventually(
      [&] {
        auto q = get(lp.port(), "/api/logs/device_001?limit=10");
        if (q.status != 200 || q.body.find("\"total\":1") == std::string::npos) return false;
        found = q.body;
        return true;
      },
      2s);
  ASSERT_TRUE(stored)
      << "not queryable within 2 s after "
      << std::chrono::duration<double>(std::chrono::steady_clock::now() - sent_at).count() << " s\n"
      << lp.process().output();
  simdjson::dom::parser p2;
  auto doc = parse_json(p2, found);
  EXPECT_EQ(std::string_view(doc["source"]), "database");
  auto row = doc["data"].at(0);
  EXPECT_EQ(std::string_view(row["device_id"]), "device_001");
  EXPECT_EQ(std::string_view(row["log_level"]), "WARNING");
  EXPECT_EQ(std::string_view(row["message"]), message);
  simdjson::dom::parser p3;
  auto original = parse_json(p3, body);
  // jsonb may reorder keys; compare each member exactly.
  EXPECT_EQ(minified(row["log_data"]["sensor"]["readings"]), "[1.5,2,null,true]");
  EXPECT_EQ(std::string_view(row["log_data"]["sensor"]["unit"]), "°C");
  EXPECT_EQ(int64_t(row["log_data"]["sensor"]["id"]), 7);
  EXPECT_EQ(minified(row["log_data"]["tags"]), minified(original["log_data"]["tags"]));
  EXPECT_GT(int64_t(row["id"]), 0);
  EXPECT_FALSE(std::string_view(row["created_at"]).empty());
}

TEST(Pipeline, BatchOfThousandGivesExactlyThousandRowsWithSeparateServeAndWorker) {
  TestDatabase db("batch");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string stream = unique_tag("batch");
  Logpipe serve({.command = "serve", .database_url = db.url(), .stream = stream});
  Logpipe worker({.command = "worker", .database_url = db.url(), .stream = stream});

  std::string body = R"({"logs":[)";
  for (int i = 0; i < 1000; ++i) {
    if (i) body += ",";
    body += R"({"device_id":"dev_)" + std::to_string(i % 10) + R"(","log_level":")" +
            (i % 3 ? "INFO" : "ERROR") + R"(","message":"event )" + std::to_string(i) +
            R"(","log_data":{"seq":)" + std::to_string(i) + "}}";
  }
  body += "]}";
  auto r = post_json(serve.port(), "/api/logs/batch", body);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_NE(r.body.find("\"count\":1000"), std::string::npos) << r.body;

  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") >= 1000; }, 10s))
      << worker.process().output();
  std::this_thread::sleep_for(500ms);  // nothing more may arrive
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 1000);
  EXPECT_EQ(db.count("SELECT count(DISTINCT attrs->>'seq') FROM logs"), 1000);
  EXPECT_EQ(db.count("SELECT count(*) FROM ingest_batches"), 1) << "one request = one entry";
  EXPECT_EQ(db.count("SELECT sum(log_count) FROM devices"), 1000);
  EXPECT_EQ(db.count("SELECT count(DISTINCT device_id) FROM devices"), 10);
  EXPECT_EQ(db.count("SELECT sum(count) FROM log_counts"), 1000);
  EXPECT_EQ(db.count("SELECT sum(count) FROM log_counts WHERE level = 'ERROR'"), 334);

  auto q = get(serve.port(), "/api/logs/dev_3?limit=5");
  ASSERT_EQ(q.status, 200);
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, q.body);
  EXPECT_EQ(int64_t(doc["total"]), 5);

  EXPECT_EQ(worker.process().terminate(), 0) << worker.process().output();
  EXPECT_EQ(serve.process().terminate(), 0) << serve.process().output();
}

TEST(Pipeline, NdjsonArrayAndObjectIngest) {
  TestDatabase db("ingest");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(), .stream = unique_tag("ingest")});

  HttpRequest nd;
  nd.method = "POST";
  nd.target = "/api/v1/ingest";
  nd.content_type = "application/x-ndjson";
  nd.body =
      "{\"level\":\"INFO\",\"message\":\"one\",\"service\":\"svc\",\"app\":\"demo\"}\r\n"
      "\n"
      "{\"level\":\"ERROR\",\"message\":\"two\",\"service\":\"svc\",\"app\":\"demo\"}\n"
      "{\"severity\":3,\"msg\":\"three\",\"source\":\"svc\",\"application\":\"demo\",\"extra\":1}"
      "\n";
  auto r1 = http(lp.port(), nd);
  ASSERT_EQ(r1.status, 202) << r1.body;
  EXPECT_EQ(r1.body, R"({"enqueued":3,"backend":"redis"})");

  auto r2 = post_json(lp.port(), "/api/v1/ingest",
                      R"([{"level":"debug","message":"four","service":"svc"},)"
                      R"({"level":"WARN","message":"five","timestamp":"2024-11-14T10:30:00Z"}])");
  ASSERT_EQ(r2.status, 202) << r2.body;
  EXPECT_EQ(r2.body, R"({"enqueued":2,"backend":"redis"})");

  auto r3 = post_json(lp.port(), "/api/v1/ingest", R"({"message":"six"})");
  ASSERT_EQ(r3.status, 202) << r3.body;
  EXPECT_EQ(r3.body, R"({"enqueued":1,"backend":"redis"})");

  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 6; }, 10s))
      << lp.process().output();
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE service = 'svc'"), 4);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'three' AND level = 'ERROR'"
                     " AND app = 'demo' AND attrs->>'extra' = '1'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'five' AND level = 'WARNING'"
                     " AND ts = '2024-11-14T10:30:00Z'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'six' AND level = 'INFO'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM ingest_batches"), 3);
}

TEST(Pipeline, MetricsAndOpenApi) {
  TestDatabase db("metrics");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(), .stream = unique_tag("metrics")});
  ASSERT_EQ(
      post_json(lp.port(), "/api/log", R"({"device_id":"d","message":"m","log_level":"ERROR"})")
          .status,
      202);
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 1; }, 10s));
  ASSERT_TRUE(eventually(
      [&] {
        return get(lp.port(), "/metrics")
                   .body.find("worker_processed_logs_total{status=\"stored\"} 1") !=
               std::string::npos;
      },
      5s));
  auto m = get(lp.port(), "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.headers["content-type"].find("text/plain"), std::string::npos);
  for (const char* name :
       {"http_requests_total{", "http_request_duration_seconds_bucket{",
        "logs_received_total{level=\"ERROR\"} 1", "redis_stream_size",
        "batch_processing_duration_seconds_count", "process_resident_memory_bytes",
        "route=\"/api/log\"", "status=\"202\""}) {
    EXPECT_NE(m.body.find(name), std::string::npos) << name << "\n" << m.body;
  }
  auto doc = get(lp.port(), "/openapi.json");
  ASSERT_EQ(doc.status, 200);
  simdjson::dom::parser parser;
  auto api = parse_json(parser, doc.body);
  EXPECT_EQ(std::string_view(api["openapi"]).substr(0, 2), "3.");
  EXPECT_FALSE(api["paths"]["/api/v1/ingest"]["post"].is_null());
  auto root = get(lp.port(), "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_NE(root.body.find("logpipe"), std::string::npos);
}

}  // namespace
}  // namespace logpipe::test
