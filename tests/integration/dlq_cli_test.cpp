// `logpipe dlq delete` through the real CLI, against the shared Redis: entries deleted for good,
// ids that were not there named (exit 1, the others still deleted), a malformed id refused before
// anything is deleted (exit 2).
#include <gtest/gtest.h>

#include "harness.hpp"
#include "queue/redis.hpp"
#include "queue/status.hpp"
#include "queue/stream_consumer.hpp"

namespace logpipe::test {
namespace {

TEST(DlqCli, DeleteRemovesEntriesForGoodAndNamesMissingOnes) {
  auto redis = shared_redis();
  const std::string stream = unique_tag("dlqcli") + ":stream";
  const std::string dlq = queue::dead_letter_stream(stream);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto id = redis.command({"XADD", dlq, "*", queue::field::entry, "1-" + std::to_string(i),
                             queue::field::error, "refused", queue::field::failed_at,
                             "2026-11-24T20:33:03Z", queue::field::payload, "x"});
    ASSERT_TRUE(id);
    ids.emplace_back(queue::reply_string(**id));
  }
  const auto length = [&] {
    auto r = redis.command({"XLEN", dlq});
    return r ? queue::reply_integer(**r) : -1;
  };
  // The CLI audits its changes in PostgreSQL (audit_test.cpp), so it needs a database too.
  TestDatabase db("dlqcli");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::vector<std::string> common{
      "--stream", stream, "--redis-url", Services::shared().redis_url, "--database-url", db.url()};
  const auto dlq_delete = [&](std::vector<std::string> args) {
    std::vector<std::string> full{"dlq", "delete"};
    full.insert(full.end(), args.begin(), args.end());
    full.insert(full.end(), common.begin(), common.end());
    return run_logpipe(full);
  };

  auto [bad, bad_out] = dlq_delete({ids[0], "not-an-id"});
  EXPECT_EQ(bad, 2) << bad_out;
  EXPECT_NE(bad_out.find("\"not-an-id\" is not a stream entry id"), std::string::npos) << bad_out;
  EXPECT_EQ(length(), 3) << "a refused call deleted something";

  auto [code, out] = dlq_delete({ids[0], ids[1], "1-1"});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("1-1 is not in " + dlq), std::string::npos) << out;
  EXPECT_NE(out.find("deleted 2 from " + dlq + "; 1 left"), std::string::npos) << out;
  EXPECT_EQ(length(), 1);

  auto [last, last_out] = dlq_delete({ids[2]});
  EXPECT_EQ(last, 0) << last_out;
  EXPECT_NE(last_out.find("deleted 1 from " + dlq + "; 0 left"), std::string::npos) << last_out;
  EXPECT_EQ(length(), 0);

  auto [none, none_out] = dlq_delete({});
  EXPECT_NE(none, 0) << "an id is required\n" << none_out;
}

TEST(DlqApi, DeleteRemovesOneEntryAndSays404ForAMissingOne) {
  auto redis = shared_redis();
  const std::string stream = unique_tag("dlqapi") + ":stream";
  const std::string dlq = queue::dead_letter_stream(stream);
  auto added =
      redis.command({"XADD", dlq, "*", queue::field::entry, "1-0", queue::field::error, "refused",
                     queue::field::failed_at, "2026-11-24T20:33:03Z", queue::field::payload, "x"});
  ASSERT_TRUE(added);
  const std::string id(queue::reply_string(**added));
  TestDatabase db("dlqapi");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.command = "serve", .database_url = db.url(), .stream = stream});
  const auto remove = [&](const std::string& which) {
    HttpRequest r;
    r.method = "DELETE";
    r.target = "/api/v1/dlq/" + which;
    r.content_type.reset();
    return http(lp.port(), r);
  };
  auto malformed = remove("not-an-id");
  EXPECT_EQ(malformed.status, 422) << malformed.body;
  auto deleted = remove(id);
  EXPECT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.body, R"({"deleted":1,"remaining":0})");
  auto again = remove(id);
  EXPECT_EQ(again.status, 404) << again.body;
  EXPECT_NE(again.body.find("\"code\":\"not_found\""), std::string::npos) << again.body;
  EXPECT_EQ(lp.process().terminate(), 0);
}

}  // namespace
}  // namespace logpipe::test
