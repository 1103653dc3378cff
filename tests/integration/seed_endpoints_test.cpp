// Seed 001's ingest endpoints: POST /data/ stores in PostgreSQL before it answers (with no worker
// running, so the answer can only come from the write-through), POST /data/fast queues.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace logpipe::test {
namespace {

class SeedEndpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  }

  TestDatabase db{"seed_endpoints"};
  std::string stream = unique_tag("seed") + ":stream";
};

TEST_F(SeedEndpoints, DataStoresBeforeAnsweringWithTheIds) {
  Logpipe serve(LogpipeOptions{.command = "serve", .database_url = db.url(), .stream = stream});
  const auto one = post_json(serve.port(), "/data/", R"({
    "timestamp": "2025-11-11T16:00:00Z", "level": "error", "source": "api-server",
    "application": "auth", "message": "Login failed", "metadata": {"user_id": 789}})");
  ASSERT_EQ(one.status, 201) << one.body;
  simdjson::dom::parser parser;
  auto stored = parse_json(parser, one.body);
  ASSERT_TRUE(stored.is_object()) << one.body;
  const std::int64_t id = stored["id"].get_int64();
  EXPECT_EQ(std::string_view(stored["timestamp"]), "2025-11-11T16:00:00.000000Z");
  EXPECT_EQ(std::string_view(stored["level"]), "ERROR");
  EXPECT_EQ(std::string_view(stored["source"]), "api-server");
  EXPECT_EQ(std::string_view(stored["application"]), "auth");
  EXPECT_EQ(simdjson::minify(stored["metadata"]), R"({"user_id":789})");

  // Read-your-write: no worker runs, yet the log is there, under the id the answer gave.
  const auto read = get(serve.port(), "/api/v1/logs/" + std::to_string(id));
  ASSERT_EQ(read.status, 200) << read.body;
  auto log = parse_json(parser, read.body);
  EXPECT_EQ(std::string_view(log["message"]), "Login failed");
  EXPECT_EQ(std::string_view(log["service"]), "api-server");
  EXPECT_EQ(std::string_view(log["app"]), "auth");

  const auto many = post_json(serve.port(), "/data/",
                              R"([{"message":"a","level":"info"},{"message":"b","device_id":"d1"},
                                  {"message":"c","source":"web"}])");
  ASSERT_EQ(many.status, 201) << many.body;
  auto list = parse_json(parser, many.body);
  ASSERT_TRUE(list.is_array());
  std::vector<std::int64_t> ids;
  std::string messages;
  for (auto item : list.get_array()) {
    ids.push_back(item["id"].get_int64());
    messages += std::string_view(item["message"]);
  }
  EXPECT_EQ(messages, "abc");
  ASSERT_EQ(ids.size(), 3u);
  for (const auto i : ids) {
    EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE id = " + std::to_string(i)), 1) << i;
  }
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'b' AND device_id = 'd1'"), 1);
  // The rollups and the device row follow, as for the worker's writes.
  EXPECT_EQ(db.count("SELECT coalesce(sum(count), 0) FROM log_counts"), 4);
  EXPECT_EQ(db.count("SELECT log_count FROM devices WHERE device_id = 'd1'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 4);

  // Bad input: nothing stored, a JSON error.
  const auto bad = post_json(serve.port(), "/data/", R"({"level":"info"})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  const auto malformed = post_json(serve.port(), "/data/", R"({"message":)");
  EXPECT_EQ(malformed.status, 400) << malformed.body;
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 4);
}

TEST_F(SeedEndpoints, DataFastQueuesForTheWorker) {
  Logpipe lp(LogpipeOptions{.database_url = db.url(), .stream = stream});
  const auto r = post_json(lp.port(), "/data/fast",
                           R"([{"timestamp":"2025-11-11T16:00:00Z","level":"WARN","source":"s",
                                "application":"a","message":"queued one","metadata":{"k":1}},
                               {"message":"queued two"}])");
  ASSERT_EQ(r.status, 202) << r.body;
  simdjson::dom::parser parser;
  auto answer = parse_json(parser, r.body);
  EXPECT_EQ(std::string_view(answer["status"]), "queued");
  EXPECT_EQ(answer["count"].get_int64().value(), 2);
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 2; }, 20s));
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'queued one' AND level = "
                     "'WARNING' AND service = 's' AND app = 'a' AND attrs = '{\"k\":1}'"),
            1);
}

}  // namespace
}  // namespace logpipe::test
