// `logpipe dlq delete` through the real CLI, against the shared Redis: entries deleted for good,
// ids that were not there named (exit 1, the others still deleted), a malformed id refused before
// anything is deleted (exit 2). And queue::dlq_* for one tenant over a stream of many tenants.
#include <gtest/gtest.h>

#include "harness.hpp"
#include "queue/dlq.hpp"
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

// One tenant's dead letters are found through a stream several scan steps (500 entries) long,
// between other tenants' entries and entries that name none (the default tenant's): counted,
// listed, replayed and deleted as that tenant's only.
TEST(DlqTenants, ListReplayAndDeleteSeeOnlyTheTenantsEntriesThroughTheWholeStream) {
  auto redis = shared_redis();
  const std::string stream = unique_tag("dlqtenants") + ":stream";
  const std::string dlq = queue::dead_letter_stream(stream);
  // 1300 entries: i % 3 == 0 tenant 7's, 1 naming none, 2 tenant 8's.
  std::vector<std::vector<std::string_view>> adds;
  for (int i = 0; i < 1300; ++i) {
    adds.push_back({"XADD", dlq, "*", queue::field::entry, "1-0", queue::field::error, "refused",
                    queue::field::payload, "x"});
    if (i % 3 != 1) {
      adds.back().push_back(queue::field::tenant);
      adds.back().push_back(i % 3 == 0 ? "7" : "8");
    }
  }
  auto added = redis.pipeline(adds);
  ASSERT_TRUE(added);
  std::vector<std::string> sevens, eights;
  for (int i = 0; i < 1300; ++i) {
    std::string id(queue::reply_string(*(*added)[i]));
    if (i % 3 == 0) sevens.push_back(id);
    if (i % 3 == 2) eights.push_back(id);
  }
  const auto ids = [](const queue::DlqPage& page) {
    std::vector<std::string> out;
    for (const auto& e : page.entries)
      out.push_back(e.id);
    return out;
  };

  auto all_sevens = queue::dlq_list(redis, stream, 1000, 7);
  ASSERT_TRUE(all_sevens);
  EXPECT_EQ(all_sevens->length, 434);
  EXPECT_EQ(ids(*all_sevens), sevens);
  auto first_sevens = queue::dlq_list(redis, stream, 10, 7);
  ASSERT_TRUE(first_sevens);
  EXPECT_EQ(first_sevens->length, 434);
  EXPECT_EQ(ids(*first_sevens), std::vector<std::string>(sevens.begin(), sevens.begin() + 10));
  auto untagged = queue::dlq_list(redis, stream, 5, model::kDefaultTenant);
  ASSERT_TRUE(untagged);
  EXPECT_EQ(untagged->length, 433);
  ASSERT_EQ(untagged->entries.size(), 5u);
  EXPECT_EQ(untagged->entries[0].tenant, model::kDefaultTenant);
  auto everyone = queue::dlq_list(redis, stream, 3, std::nullopt);
  ASSERT_TRUE(everyone);
  EXPECT_EQ(everyone->length, 1300);
  EXPECT_EQ(everyone->entries.size(), 3u);

  // Tenant 7 deletes its own entry; tenant 8's, and an unknown id, are not there for it.
  auto deleted = queue::dlq_delete(redis, stream, {eights[0], sevens[0], "1-1"}, 7);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->deleted, 1u);
  EXPECT_EQ(deleted->not_found, (std::vector<std::string>{eights[0], "1-1"}));
  EXPECT_EQ(deleted->remaining, 433);
  // Tenant 7 replays everything of its own: 433 entries, and only those.
  auto replayed = queue::dlq_replay(redis, stream, {}, 10'000, 7);
  ASSERT_TRUE(replayed);
  EXPECT_EQ(replayed->replayed, 433u);
  EXPECT_EQ(replayed->remaining, 0);
  const auto length = [&](const std::string& key) {
    auto r = redis.command({"XLEN", key});
    return r ? queue::reply_integer(**r) : -1;
  };
  EXPECT_EQ(length(stream), 433);
  EXPECT_EQ(length(dlq), 1300 - 434);
  auto of_eight = queue::dlq_list(redis, stream, 1000, 8);
  ASSERT_TRUE(of_eight);
  EXPECT_EQ(ids(*of_eight), eights);
  // A replay by ids moves only the tenant's own.
  auto by_id = queue::dlq_replay(redis, stream, std::vector<std::string>{eights[1]}, 10'000, 7);
  ASSERT_TRUE(by_id);
  EXPECT_EQ(by_id->replayed, 0u);
  EXPECT_EQ(length(dlq), 1300 - 434);
  ASSERT_TRUE(redis.command({"DEL", stream, dlq}));
}

}  // namespace
}  // namespace logpipe::test
