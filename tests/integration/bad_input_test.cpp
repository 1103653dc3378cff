// Every kind of bad input gets its status and JSON error, stores nothing, and leaves the server
// serving others.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "../common/compress.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
    lp = std::make_unique<Logpipe>(LogpipeOptions{.database_url = db.url(), .stream = stream});
  }

  // Checks the status and the error body, then that the server still serves.
  void expect_error(HttpResponse r, int status, std::string_view code) {
    EXPECT_EQ(r.status, status) << r.body;
    simdjson::dom::parser parser;
    auto doc = parse_json(parser, r.body);
    EXPECT_EQ(std::string_view(doc["error"]["code"]), code) << r.body;
    EXPECT_FALSE(std::string_view(doc["error"]["message"]).empty());
    EXPECT_EQ(r.headers["content-type"], "application/json");
    EXPECT_EQ(get(lp->port(), "/health/live").status, 200);
  }

  void expect_nothing_stored() {
    std::this_thread::sleep_for(300ms);  // the worker polls every 50 ms here
    EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 0);
    EXPECT_EQ(db.count("SELECT count(*) FROM ingest_batches"), 0);
  }

  TestDatabase db{"bad"};
  std::string stream = unique_tag("bad");
  std::unique_ptr<Logpipe> lp;
};

TEST_F(BadInput, MalformedJsonIs400) {
  for (const char* body : {"{", "{\"message\":", "not json", "[1,2", "{\"a\":1}}", ""}) {
    expect_error(post_json(lp->port(), "/api/v1/ingest", body), 400, "malformed");
    expect_error(post_json(lp->port(), "/api/log", body), 400, "malformed");
  }
  expect_nothing_stored();
}

TEST_F(BadInput, InvalidUtf8Is400) {
  const std::string body = "{\"device_id\":\"d\",\"message\":\"bad \xC3\x28 byte\"}";
  expect_error(post_json(lp->port(), "/api/log", body), 400, "malformed");
  expect_nothing_stored();
}

TEST_F(BadInput, WrongOrMissingFieldsAre422NamingIndexAndField) {
  auto r = post_json(lp->port(), "/api/v1/ingest",
                     R"([{"message":"ok"},{"message":"ok"},{"message":42},{"level":"INFO"},)"
                     R"({"message":"x","level":"LOUD"},{"message":"x","attrs":[1]}])");
  expect_error(r, 422, "invalid_field");
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, r.body);
  std::vector<std::pair<int64_t, std::string>> details;
  for (auto d : doc["error"]["details"].get_array()) {
    details.emplace_back(int64_t(d["index"]), std::string(std::string_view(d["field"])));
  }
  const std::vector<std::pair<int64_t, std::string>> expected{
      {2, "message"}, {3, "message"}, {4, "level"}, {5, "attrs"}};
  EXPECT_EQ(details, expected) << r.body;

  expect_error(post_json(lp->port(), "/api/log", R"({"message":"no device"})"), 422,
               "invalid_field");
  expect_error(post_json(lp->port(), "/api/logs/batch", R"({"logs":[]})"), 422, "invalid_field");
  expect_error(post_json(lp->port(), "/api/logs/batch", R"({"items":[]})"), 422, "invalid_field");
  expect_error(post_json(lp->port(), "/api/v1/ingest", R"("just a string")"), 422, "invalid_field");
  expect_nothing_stored();
}

TEST_F(BadInput, OneBadRecordRejectsTheWholeBatch) {
  std::string body = R"({"logs":[)";
  for (int i = 0; i < 999; ++i)
    body += R"({"device_id":"d","message":"fine"},)";
  body += R"({"device_id":"d","message":"bad","log_level":["INFO"]}]})";
  auto r = post_json(lp->port(), "/api/logs/batch", body);
  expect_error(r, 422, "invalid_field");
  EXPECT_NE(r.body.find("\"index\":999"), std::string::npos) << r.body;
  expect_nothing_stored();
}

TEST_F(BadInput, TooManyRecordsIs413) {
  std::string body = R"({"logs":[)";
  for (int i = 0; i < 1001; ++i)
    body += std::string(i ? "," : "") + R"({"device_id":"d","message":"m"})";
  body += "]}";
  expect_error(post_json(lp->port(), "/api/logs/batch", body), 413, "too_large");
  expect_nothing_stored();
}

TEST_F(BadInput, HugeBodyIs413) {
  std::string body = R"({"message":")" + std::string(11 * 1024 * 1024, 'x') + R"("})";
  expect_error(post_json(lp->port(), "/api/v1/ingest", body), 413, "too_large");
  expect_nothing_stored();
}

TEST_F(BadInput, UnsupportedContentTypeIs415) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/v1/ingest";
  r.body = R"({"message":"m"})";
  r.content_type = "application/xml";
  expect_error(http(lp->port(), r), 415, "unsupported_media_type");
  r.target = "/api/log";
  r.content_type = "application/x-ndjson";  // only /api/v1/ingest takes NDJSON
  expect_error(http(lp->port(), r), 415, "unsupported_media_type");
  r.content_type = "application/json";
  r.headers = {{"Content-Encoding", "br"}};
  expect_error(http(lp->port(), r), 415, "unsupported_media_type");
  expect_nothing_stored();
}

// A gzip body is stored like a plain one; a decompression bomb is a 413 once the decoded size
// passes max_decoded_bytes, without serve growing past it; a corrupt one is a 400.
TEST_F(BadInput, CompressedBodiesAndBombs) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/v1/ingest";
  r.content_type = "application/x-ndjson";
  r.headers = {{"Content-Encoding", "gzip"}};
  r.body = gzipped("{\"message\":\"zipped one\"}\n{\"message\":\"zipped two\"}\n");
  auto ok = http(lp->port(), r);
  ASSERT_EQ(ok.status, 202) << ok.body;
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 2; }, 30s));
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'zipped two'"), 1);

  // 1 GiB of spaces inside a JSON string compresses to about 1 MiB; the default cap is 64 MiB.
  std::string bomb = "{\"message\":\"";
  bomb += std::string(std::size_t{1} << 30, ' ');
  bomb += "\"}";
  r.body = gzipped(bomb);
  bomb = {};
  ASSERT_LT(r.body.size(), std::size_t{4} << 20);
  expect_error(http(lp->port(), r, 60s), 413, "too_large");
  r.body = "not gzip at all";
  expect_error(http(lp->port(), r), 400, "malformed");
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 2);
  // Decoding all of it would have taken serve past 1 GiB; it stopped at the 64 MiB cap (the
  // growing buffer and ASan's bookkeeping take a few times that at most).
  EXPECT_LT(status_kib(lp->process().pid(), "VmHWM"), 600 * 1024);
}

// navigator.sendBeacon and several shippers label JSON text/plain, curl -d form-urlencoded: the
// body decides.
TEST_F(BadInput, TextPlainJsonIsAccepted) {
  HttpRequest r;
  r.method = "POST";
  r.content_type = "text/plain;charset=UTF-8";
  r.target = "/api/log";
  r.body = R"({"device_id":"beacon","message":"one"})";
  EXPECT_EQ(http(lp->port(), r).status, 202);
  r.target = "/api/logs/batch";
  r.body = R"({"logs":[{"device_id":"beacon","message":"two"}]})";
  EXPECT_EQ(http(lp->port(), r).status, 202);
  r.content_type = "application/x-www-form-urlencoded";  // what curl -d sends
  EXPECT_EQ(http(lp->port(), r).status, 202);
  r.content_type = "text/plain;charset=UTF-8";
  r.target = "/api/v1/ingest";
  r.body = "{\n  \"device_id\": \"beacon\",\n  \"message\": \"three\"\n}";  // pretty JSON
  EXPECT_EQ(http(lp->port(), r).body, R"({"enqueued":1,"backend":"redis"})");
  r.body = R"({"device_id":"beacon","message":"four"})"
           "\n"
           R"({"device_id":"beacon","message":"five"})";  // NDJSON
  EXPECT_EQ(http(lp->port(), r).body, R"({"enqueued":2,"backend":"redis"})");
  r.body = "not json";
  expect_error(http(lp->port(), r), 400, "malformed");
  // Every media type a registered format declares reaches it.
  r.content_type = "application/jsonl";
  r.body = "{\"message\":\"six\"}\n{\"message\":\"seven\"}\n";
  EXPECT_EQ(http(lp->port(), r).body, R"({"enqueued":2,"backend":"redis"})");
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 8; }, 10s));
}

TEST_F(BadInput, UnknownRoutesAndMethods) {
  expect_error(get(lp->port(), "/nope"), 404, "not_found");
  expect_error(get(lp->port(), "/api/log"), 405, "method_not_allowed");
  expect_error(get(lp->port(), "/api/logs/d?limit=0"), 422, "invalid_field");
  expect_error(get(lp->port(), "/api/logs/d?limit=abc"), 422, "invalid_field");
  expect_error(get(lp->port(), "/api/logs/d?limit=1001"), 422, "invalid_field");
}

TEST_F(BadInput, SlowClientDoesNotStallOthers) {
  // A client that sends half a request and stalls must not hold up anyone else.
  const int fd = connect_loopback(lp->port());
  ASSERT_GE(fd, 0);
  const std::string partial =
      "POST /api/log HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"dev";
  ASSERT_GT(::send(fd, partial.data(), partial.size(), 0), 0);
  const auto start = std::chrono::steady_clock::now();
  auto r = post_json(lp->port(), "/api/log", R"({"device_id":"fast","message":"m"})");
  EXPECT_EQ(r.status, 202);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ::close(fd);
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 1; }, 10s));
}

}  // namespace
}  // namespace logpipe::test
