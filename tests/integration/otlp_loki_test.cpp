// Real shipping clients against the real pipeline: the OpenTelemetry JS logs SDK with its
// OTLP/HTTP exporters (JSON and protobuf), a Loki push in snappy protobuf built with protobufjs
// and snappyjs (the wire format of Promtail and Alloy), and a JSON Loki push with curl. Each
// record must arrive in PostgreSQL with the fields the endpoint maps.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace logpipe::test {
namespace {

class Shippers : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
    lp = std::make_unique<Logpipe>(LogpipeOptions{.database_url = db.url(), .stream = stream});
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(lp->port()) + path;
  }

  // Waits until `n` rows match `where`; on failure says how many did.
  void expect_rows(const std::string& where, long long n) {
    const std::string sql = "SELECT count(*) FROM logs WHERE " + where;
    const bool arrived = eventually([&] { return db.count(sql) >= n; }, 20s);
    EXPECT_TRUE(arrived) << where << ": " << db.count(sql) << " of " << n << "\n"
                         << lp->process().output();
    EXPECT_EQ(db.count(sql), n) << where;
  }

  void otel_sdk_records_arrive(const std::string& protocol) {
    const std::string tag = unique_tag(protocol);
    constexpr int kCount = 500;
    const auto r =
        run_node("otel_logs.js", {url("/v1/logs"), protocol, std::to_string(kCount), tag});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const std::string run = "attrs->>'run' = '" + tag + "'";
    expect_rows(run + " AND source_format = 'otlp'", kCount);
    // The resource's fields on every record.
    expect_rows(run +
                    " AND service = 'checkout' AND app = 'shop' AND host = 'web-1' AND "
                    "device_id = 'device-" +
                    tag +
                    "' AND attrs->>'deployment.environment' = "
                    "'test' AND attrs->>'otel.scope.name' = 'checkout-logger' AND NOT attrs ? "
                    "'service.name'",
                kCount);
    // Severity numbers → levels, 100 each.
    for (const char* level : {"DEBUG", "INFO", "WARNING", "ERROR", "FATAL"})
      expect_rows(run + " AND level = '" + level + "'", kCount / 5);
    // One record exactly: body, typed attributes, trace and span ids.
    expect_rows(run + " AND message = 'order 7 of run " + tag +
                    " processed' AND level = "
                    "'WARNING' AND attrs->'order.id' = '7' AND attrs->'amount' = '12.5' AND "
                    "attrs->'paid' = 'false' AND attrs->'items' = '[\"a\",\"b\"]' AND "
                    "attrs->>'trace_id' = '5b8efff798038103d269b633813fc60c' AND "
                    "attrs->>'span_id' = '1000000000000007' AND "
                    "abs(extract(epoch FROM ts - received_at)) < 60",
                1);
  }

  TestDatabase db{"ship"};
  std::string stream = unique_tag("ship");
  std::unique_ptr<Logpipe> lp;
};

TEST_F(Shippers, OpenTelemetryJsSdkWithTheJsonExporter) {
  otel_sdk_records_arrive("json");
}

TEST_F(Shippers, OpenTelemetryJsSdkWithTheProtobufExporter) {
  otel_sdk_records_arrive("proto");
}

TEST_F(Shippers, LokiPushInSnappyProtobufFromProtobufjs) {
  const std::string tag = unique_tag("loki");
  const auto r = run_node("loki_push.js", {url("/loki/api/v1/push"), "400", tag});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const std::string run = "attrs->>'run' = '" + tag + "' AND source_format = 'loki'";
  expect_rows(run, 400);
  // Stream 0: service_name wins over job (kept in attrs), host, level, other labels.
  expect_rows(run +
                  " AND service = 'billing' AND host = 'node-7' AND level = 'WARNING' AND "
                  "attrs->>'job' = 'varlogs' AND attrs->>'env' = 'prod'",
              200);
  // Stream 1: app, instance → host, detected_level, an escaped label, structured metadata.
  expect_rows(run +
                  " AND app = 'api' AND host = '10.0.0.5:9100' AND level = 'ERROR' AND "
                  "attrs->>'path' = 'C:\\logs\\app \"x\"' AND attrs ? 'trace_id'",
              200);
  // The line is kept as it came (not parsed as JSON), with its nanosecond timestamp.
  expect_rows(run +
                  " AND message = 'stream 1 line 5 {\"json\":\"kept as text\"}' AND "
                  "attrs->>'trace_id' = 'trace-5' AND ts = '2024-11-14 10:30:05.123456+00'",
              1);
}

TEST_F(Shippers, LokiPushInJsonWithCurl) {
  const std::string tag = unique_tag("lokijson");
  const std::string body = R"({"streams":[{"stream":{"job":"curl","level":"error","run":")" + tag +
                           R"("},"values":[["1731580200000000000","first line"],)"
                           R"(["1731580201500000000","second line",{"user":"ann"}]]}]})";
  Process curl({"/usr/bin/env", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                "Content-Type: application/json", "--data-binary", body, url("/loki/api/v1/push")},
               {});
  ASSERT_EQ(curl.wait(30s), 0) << curl.output();
  EXPECT_EQ(curl.output(), "204");
  const std::string run = "attrs->>'run' = '" + tag + "' AND source_format = 'loki'";
  expect_rows(run + " AND service = 'curl' AND level = 'ERROR'", 2);
  expect_rows(run +
                  " AND message = 'second line' AND attrs->>'user' = 'ann' AND "
                  "ts = '2024-11-14 10:30:01.5+00'",
              1);
}

TEST_F(Shippers, LokiRejectsBadEntriesAndStoresTheOthers) {
  const std::string tag = unique_tag("lokibad");
  auto r = post_json(lp->port(), "/loki/api/v1/push",
                     R"({"streams":[{"stream":{"run":")" + tag +
                         R"("},"values":[["1","kept"],["not a number","dropped"]]}]})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("\"index\":1"), std::string::npos) << r.body;
  expect_rows("attrs->>'run' = '" + tag + "'", 1);

  HttpRequest bad_type{
      .method = "POST", .target = "/loki/api/v1/push", .body = "x", .content_type = "text/csv"};
  EXPECT_EQ(http(lp->port(), bad_type).status, 415);
  HttpRequest garbage{.method = "POST",
                      .target = "/loki/api/v1/push",
                      .body = "\x0b\x01garbage",
                      .content_type = "application/x-protobuf"};
  EXPECT_EQ(http(lp->port(), garbage).status, 400);
}

TEST_F(Shippers, OtlpPartialSuccessAndErrorsInTheRequestsEncoding) {
  const std::string tag = unique_tag("otlpbad");
  const std::string big(300 * 1024, 'x');  // over max_message_bytes (256 KiB)
  auto r = post_json(lp->port(), "/v1/logs",
                     R"({"resourceLogs":[{"resource":{"attributes":[{"key":"run","value":)"
                     R"({"stringValue":")" +
                         tag +
                         R"("}}]},"scopeLogs":[{"logRecords":[)"
                         R"({"body":{"stringValue":"kept"}},{"body":{"stringValue":")" +
                         big + R"("}}]}]}]})");
  EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
  EXPECT_NE(r.body.find(R"("rejectedLogRecords":1)"), std::string::npos) << r.body;
  expect_rows("attrs->>'run' = '" + tag + "' AND message = 'kept'", 1);

  HttpRequest garbage{.method = "POST",
                      .target = "/v1/logs",
                      .body = "\x0a\x05\x0b",
                      .content_type = "application/x-protobuf"};
  auto g = http(lp->port(), garbage);
  EXPECT_EQ(g.status, 400);
  EXPECT_EQ(g.headers["content-type"], "application/x-protobuf");
  EXPECT_EQ(g.body.substr(0, 2), std::string("\x08\x03", 2));  // google.rpc.Status code 3
  HttpRequest text{
      .method = "POST", .target = "/v1/logs", .body = "hi", .content_type = "text/plain"};
  EXPECT_EQ(http(lp->port(), text).status, 415);
  auto empty = post_json(lp->port(), "/v1/logs", "{}");
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "{}");
}

}  // namespace
}  // namespace logpipe::test
