// GET /api/v1/audit's parameters: what parse_audit_query accepts, and the 422 naming the
// parameter it refuses.
#include <gtest/gtest.h>

#include "query/audit.hpp"

namespace logpipe::query {
namespace {

constexpr core::Micros kNow = 1'764'000'000'000'000;  // 2025-11-24T16:00:00Z

std::string refused_param(const core::Result<AuditQuery>& q) {
  EXPECT_FALSE(q.ok());
  if (q.ok()) return "";
  EXPECT_EQ(q.error().code, core::Errc::invalid_field);
  return q.error().details.empty() ? "" : q.error().details.front().field;
}

TEST(AuditQuery, DefaultsToTheNewestPageOfTheTenant) {
  auto q = parse_audit_query({}, 7, kNow);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->tenant, 7);
  EXPECT_TRUE(q->actions.empty());
  EXPECT_FALSE(q->key_id);
  EXPECT_FALSE(q->from);
  EXPECT_FALSE(q->to);
  EXPECT_EQ(q->limit, kDefaultLimit);
  EXPECT_FALSE(q->after);
}

TEST(AuditQuery, AcceptsActionsKeyTimesLimitAndCursor) {
  const Cursor cursor{kNow - 5, 42};
  auto q = parse_audit_query({{"action", "logs.delete,app.delete"},
                              {"action", "dlq.replay"},
                              {"key_id", "k1"},
                              {"from", "2h"},
                              {"to", "2025-11-24T15:30:00Z"},
                              {"limit", "1000"},
                              {"cursor", encode_cursor(cursor)}},
                             1, kNow);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ(q->actions, (std::vector<std::string>{"logs.delete", "app.delete", "dlq.replay"}));
  EXPECT_EQ(q->key_id, "k1");
  EXPECT_EQ(*q->from, kNow - 7'200'000'000);
  EXPECT_EQ(*q->to, kNow - 1'800'000'000);
  EXPECT_EQ(q->limit, 1000);
  ASSERT_TRUE(q->after);
  EXPECT_EQ(q->after->ts, cursor.ts);
  EXPECT_EQ(q->after->id, cursor.id);
}

TEST(AuditQuery, RefusesWhatItDoesNotKnowNamingTheParameter) {
  EXPECT_EQ(refused_param(parse_audit_query({{"since", "1h"}}, 1, kNow)), "since");
  EXPECT_EQ(refused_param(parse_audit_query({{"action", ""}}, 1, kNow)), "action");
  EXPECT_EQ(refused_param(parse_audit_query({{"action", "a,,b"}}, 1, kNow)), "action");
  EXPECT_EQ(refused_param(parse_audit_query({{"key_id", "a"}, {"key_id", "b"}}, 1, kNow)),
            "key_id");
  EXPECT_EQ(refused_param(parse_audit_query({{"limit", "0"}}, 1, kNow)), "limit");
  EXPECT_EQ(refused_param(parse_audit_query({{"limit", "1001"}}, 1, kNow)), "limit");
  EXPECT_EQ(refused_param(parse_audit_query({{"cursor", "!!"}}, 1, kNow)), "cursor");
  EXPECT_EQ(refused_param(parse_audit_query({{"from", "yesterday"}}, 1, kNow)), "from");
  EXPECT_EQ(refused_param(parse_audit_query({{"from", "1m"}, {"to", "2m"}}, 1, kNow)), "from");
  EXPECT_EQ(refused_param(parse_audit_query({{"key_id", std::string(1025, 'k')}}, 1, kNow)),
            "key_id");
  std::string many = "a";
  for (int i = 0; i < 32; ++i)
    many += ",a";
  EXPECT_EQ(refused_param(parse_audit_query({{"action", many}}, 1, kNow)), "action");
}

}  // namespace
}  // namespace logpipe::query
