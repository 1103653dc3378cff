#include <gtest/gtest.h>

#include "intake/quotas.hpp"

namespace {

using logpipe::core::Errc;
using logpipe::core::kDay;
using logpipe::core::kSecond;
using logpipe::core::Micros;
using logpipe::intake::QuotaKind;
using logpipe::intake::QuotaLedger;
using logpipe::intake::TenantLimits;

// 2026-11-26 23:59:00 UTC.
constexpr Micros kNow = 1'795'737'540 * kSecond;

TEST(QuotaLedger, NoQuotaNoRefusal) {
  QuotaLedger ledger;
  EXPECT_FALSE(ledger.any());
  EXPECT_FALSE(ledger.charge(1, 1'000'000, 1'000'000, kNow));
  EXPECT_TRUE(ledger.take_pending(kNow).empty());
  ledger.set_limits({{2, TenantLimits{10, 0}}});
  EXPECT_TRUE(ledger.any());
  EXPECT_FALSE(ledger.charge(1, 1'000'000, 1'000'000, kNow)) << "tenant 1 has no quota";
}

TEST(QuotaLedger, RefusesTheBatchThatWouldGoOverAndCountsNothingOfIt) {
  QuotaLedger ledger;
  ledger.set_limits({{1, TenantLimits{10, 0}}});
  EXPECT_FALSE(ledger.charge(1, 6, 100, kNow));
  auto refused = ledger.charge(1, 5, 100, kNow);  // 11 > 10
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, QuotaKind::logs);
  EXPECT_EQ(refused->error.code, Errc::rate_limited);
  EXPECT_NE(refused->error.message.find("daily quota of 10 logs (max_logs_per_day)"),
            std::string::npos)
      << refused->error.message;
  EXPECT_EQ(refused->error.retry_after_seconds, 60U) << "until 00:00 UTC";
  EXPECT_FALSE(ledger.check(1, kNow)) << "6 of 10 used: not exhausted yet";
  EXPECT_FALSE(ledger.charge(1, 4, 100, kNow));
  EXPECT_TRUE(ledger.check(1, kNow)) << "10 of 10";
  EXPECT_TRUE(ledger.charge(1, 1, 1, kNow));
}

TEST(QuotaLedger, Bytes) {
  QuotaLedger ledger;
  ledger.set_limits({{1, TenantLimits{0, 1000}}});
  EXPECT_FALSE(ledger.charge(1, 100, 999, kNow));
  auto refused = ledger.charge(1, 1, 2, kNow);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, QuotaKind::bytes);
  EXPECT_NE(refused->error.message.find("max_bytes_per_day"), std::string::npos);
  EXPECT_FALSE(ledger.charge(1, 1, 1, kNow));
  EXPECT_TRUE(ledger.check(1, kNow));
}

TEST(QuotaLedger, ANewUtcDayStartsAtZero) {
  QuotaLedger ledger;
  ledger.set_limits({{1, TenantLimits{10, 0}}});
  EXPECT_FALSE(ledger.charge(1, 10, 0, kNow));
  EXPECT_TRUE(ledger.check(1, kNow));
  EXPECT_FALSE(ledger.check(1, kNow + 60 * kSecond));
  EXPECT_FALSE(ledger.charge(1, 10, 0, kNow + 60 * kSecond));
  EXPECT_TRUE(ledger.charge(1, 1, 0, kNow + 61 * kSecond));
}

// What other instances stored arrives with the totals Redis answers; this instance's own counts
// stay counted while they are on their way.
TEST(QuotaLedger, TotalsFromRedis) {
  QuotaLedger ledger;
  ledger.set_limits({{1, TenantLimits{100, 0}}});
  EXPECT_FALSE(ledger.charge(1, 30, 0, kNow));
  auto pending = ledger.take_pending(kNow);
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending[0].tenant, 1);
  EXPECT_EQ(pending[0].day, "2026-11-26");
  EXPECT_EQ(pending[0].logs, 30);
  // In flight: still counted.
  EXPECT_TRUE(ledger.charge(1, 71, 0, kNow));
  EXPECT_FALSE(ledger.charge(1, 10, 0, kNow));  // 40 now, 10 of them pending
  // Redis answers: another instance had stored 50 already.
  ledger.observed(1, "2026-11-26", QuotaKind::logs, 30, 80);
  EXPECT_TRUE(ledger.charge(1, 11, 0, kNow));   // 80 + 10 pending + 11 > 100
  EXPECT_FALSE(ledger.charge(1, 10, 0, kNow));  // exactly 100
  EXPECT_TRUE(ledger.check(1, kNow));
  // The next flush sends the 20 pending; a failed INCRBY puts them back.
  pending = ledger.take_pending(kNow);
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending[0].logs, 20);
  ledger.failed(1, "2026-11-26", QuotaKind::logs, 20);
  pending = ledger.take_pending(kNow);
  EXPECT_EQ(pending[0].logs, 20);
  // An answer about yesterday changes nothing today.
  ledger.observed(1, "2026-11-25", QuotaKind::logs, 20, 1'000'000);
  EXPECT_TRUE(ledger.check(1, kNow));
  EXPECT_FALSE(ledger.check(1, kNow + kDay));
}

TEST(QuotaLedger, IdleInstancesStillAskForTheTotals) {
  QuotaLedger ledger;
  ledger.set_limits({{1, TenantLimits{100, 0}}, {2, TenantLimits{0, 5}}});
  auto pending = ledger.take_pending(kNow);
  ASSERT_EQ(pending.size(), 2U);
  for (const auto& p : pending) {
    EXPECT_EQ(p.logs, 0);
    EXPECT_EQ(p.bytes, 0);
  }
  ledger.observed(1, "2026-11-26", QuotaKind::logs, 0, 100);
  EXPECT_TRUE(ledger.check(1, kNow));
}

TEST(QuotaLedger, LimitsReplaced) {
  QuotaLedger ledger;
  ledger.set_limits({{1, TenantLimits{10, 0}}});
  EXPECT_FALSE(ledger.charge(1, 10, 0, kNow));
  ledger.set_limits({{1, TenantLimits{20, 0}}});
  EXPECT_FALSE(ledger.charge(1, 10, 0, kNow)) << "usage kept, limit raised";
  EXPECT_TRUE(ledger.charge(1, 1, 0, kNow));
  ledger.set_limits({});
  EXPECT_FALSE(ledger.any());
  EXPECT_FALSE(ledger.charge(1, 1000, 0, kNow));
}

TEST(QuotaLedger, RecordBytesCountTheStoredText) {
  logpipe::model::Record r;
  r.message = "hello";
  r.device_id = "d1";
  r.attrs_json = R"({"a":1})";
  EXPECT_EQ(logpipe::intake::record_bytes(r), 5 + 2 + 7);
}

}  // namespace
