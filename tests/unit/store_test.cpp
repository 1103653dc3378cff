#include <gtest/gtest.h>

#include <set>

#include "store/batch_writer.hpp"
#include "store/connection.hpp"
#include "store/migrations.hpp"

namespace logpipe::store {
namespace {

TEST(CopyRow, EscapesTextFormat) {
  model::Batch batch;
  batch.received_at = 1'731'580'200'000'000;
  model::Record r;
  r.ts = batch.received_at;
  r.level = model::Level::warning;
  using namespace std::string_literals;
  r.message = "tab\there\nnew \\ back\rcr nul\0x"s;
  r.device_id = "dev";
  r.attrs_json = R"({"a":"\u0000","b":"\\u0000"})";
  std::string out;
  append_copy_row(out, r, batch);
  EXPECT_EQ(out,
            "1\t2024-11-14T10:30:00.000000Z\t2024-11-14T10:30:00.000000Z\tdev\t\\N\t\\N\t\\N\t"
            "WARNING\ttab\\there\\nnew \\\\ back\\rcr nul\xEF\xBF\xBDx\t"
            "{\"a\":\"\\\\ufffd\",\"b\":\"\\\\\\\\u0000\"}\tjson\n");
}

TEST(CopyRow, EscapesAtTheEdgesAndInRuns) {
  model::Batch batch;
  model::Record r;
  r.ts = batch.received_at = 0;
  using namespace std::string_literals;
  for (const auto& [message, escaped] : std::vector<std::pair<std::string, std::string>>{
           {"\tx", "\\tx"},
           {"x\n", "x\\n"},
           {"\\\\", "\\\\\\\\"},
           {"\r\n\t"s + '\0', "\\r\\n\\t\xEF\xBF\xBD"},
           {"plain ünï", "plain ünï"},
       }) {
    r.message = message;
    std::string out;
    append_copy_row(out, r, batch);
    EXPECT_NE(out.find("\tINFO\t" + escaped + "\t{}\t"), std::string::npos) << out;
  }
}

TEST(ArrayLiteral, QuotesAndEscapes) {
  std::vector<std::string> items{"a", "b\"c", "d\\e", "", "{x,y}"};
  EXPECT_EQ(array_literal(items), R"({"a","b\"c","d\\e","","{x,y}"})");
  EXPECT_EQ(array_literal({}), "{}");
}

TEST(Migrations, AreNumberedInOrder) {
  auto all = migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all[0].version, 1);
  for (std::size_t i = 1; i < all.size(); ++i)
    EXPECT_GT(all[i].version, all[i - 1].version);
  EXPECT_NE(all[0].sql.find("CREATE TABLE logs"), std::string_view::npos);
}

TEST(RedactUrl, HidesPasswords) {
  EXPECT_EQ(redact_url("postgresql://u:secret@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(redact_url("postgresql://u@h/db"), "postgresql://u@h/db");
}

}  // namespace
}  // namespace logpipe::store

namespace logpipe::store {
namespace {

TEST(RollupShard, StableAndWithinRange) {
  // A shard must not move between builds or restarts: these values are part of the data.
  EXPECT_EQ(rollup_shard("host-0"), rollup_shard("host-0"));
  std::set<int> seen;
  for (int i = 0; i < 200; ++i) {
    const int shard = rollup_shard("vm-" + std::to_string(i));
    EXPECT_GE(shard, 0);
    EXPECT_LT(shard, kRollupShards);
    seen.insert(shard);
  }
  EXPECT_GT(seen.size(), 8u) << "names spread over the shards";
  EXPECT_EQ(rollup_shard(""), 5);  // FNV-1a offset basis % 16
}

}  // namespace
}  // namespace logpipe::store
