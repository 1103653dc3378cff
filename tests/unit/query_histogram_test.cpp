// GET /api/v1/logs/histogram's parameters: the search's filters, the range and its whole buckets,
// the interval chosen or refused, and which counts (rollups or logs) can answer.
#include <gtest/gtest.h>

#include "core/time.hpp"
#include "query/histogram.hpp"

namespace logpipe::query {
namespace {

using core::kDay;
using core::kHour;
using core::kMinute;
using core::kSecond;

constexpr core::Micros kNow = 1'764'000'000'000'000;  // 2025-11-24T16:00:00Z

std::string refused_param(const core::Result<HistogramQuery>& q) {
  EXPECT_FALSE(q.ok());
  if (q.ok()) return "";
  EXPECT_EQ(q.error().code, core::Errc::invalid_field);
  return q.error().details.empty() ? "" : q.error().details.front().field;
}

HistogramQuery parsed(const Params& params, core::Micros now = kNow) {
  auto q = parse_histogram_query(params, 1, now);
  EXPECT_TRUE(q.ok()) << (q.ok() ? "" : q.error().message);
  return q.ok() ? *q : HistogramQuery{};
}

TEST(HistogramQuery, DefaultsToTheLastDayIn15MinuteBuckets) {
  const auto q = parsed({});
  EXPECT_EQ(q.interval.name, "15m");
  EXPECT_EQ(*q.filter.from, kNow - kDay);
  EXPECT_EQ(*q.filter.to, kNow);
  EXPECT_EQ(q.filter.tenant, 1);
}

TEST(HistogramQuery, ChoosesTheFinestIntervalWithAtMost200Buckets) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"15m", "5s"},  // 180 buckets; 1s would be 900
      {"1h", "30s"},  // 120
      {"3h", "1m"},   // 180
      {"6h", "5m"},   // 72; 1m would be 360
      {"2d", "15m"},  // 192
      {"7d", "1h"},   // 168; 30m would be 336
      {"30d", "6h"},  // 120; 3h would be 240
      {"90d", "12h"}, {"365d", "1d"}};
  for (const auto& [from, interval] : cases) {
    const auto q = parsed({{"from", from}});
    EXPECT_EQ(q.interval.name, interval) << from;
    // A year has more than 200 days: the coarsest interval, whatever its count.
    const auto buckets = (*q.filter.to - *q.filter.from) / q.interval.length;
    if (interval != "1d") {
      EXPECT_LE(buckets, kAutoBuckets) << from;
    }
  }
}

TEST(HistogramQuery, WidensTheRangeToWholeAlignedBuckets) {
  const auto q = parsed(
      {{"from", "2025-11-24T15:07:30Z"}, {"to", "2025-11-24T15:52:10Z"}, {"interval", "5m"}});
  EXPECT_EQ(q.interval.length, 5 * kMinute);
  EXPECT_EQ(core::format_rfc3339(*q.filter.from), "2025-11-24T15:05:00.000000Z");
  EXPECT_EQ(core::format_rfc3339(*q.filter.to), "2025-11-24T15:55:00.000000Z");
  // An empty range is still one bucket; days start at UTC midnight.
  const auto empty = parsed(
      {{"from", "2025-11-24T15:07:30Z"}, {"to", "2025-11-24T15:07:30Z"}, {"interval", "1d"}});
  EXPECT_EQ(core::format_rfc3339(*empty.filter.from), "2025-11-24T00:00:00.000000Z");
  EXPECT_EQ(*empty.filter.to - *empty.filter.from, kDay);
  // Only `to`: the day before it.
  const auto before = parsed({{"to", "1h"}, {"interval", "1h"}});
  EXPECT_EQ(*before.filter.from, kNow - 25 * kHour);
  EXPECT_EQ(*before.filter.to, kNow - kHour);
}

TEST(HistogramQuery, TakesEveryFilterOfTheSearch) {
  const auto q = parsed({{"device_id", "d1"},
                         {"service", "api"},
                         {"app", "shop"},
                         {"host", "h1"},
                         {"level", "ERROR,FATAL"},
                         {"min_level", "critical"},
                         {"q", "disk \"is full\""},
                         {"attrs.a.b", "1"}});
  EXPECT_EQ(*q.filter.device_id, "d1");
  EXPECT_EQ(*q.filter.service, "api");
  EXPECT_EQ(*q.filter.app, "shop");
  EXPECT_EQ(*q.filter.host, "h1");
  EXPECT_EQ(q.filter.levels, std::vector<model::Level>{model::Level::fatal});
  EXPECT_EQ(q.filter.terms, (std::vector<std::string>{"disk", "is full"}));
  ASSERT_EQ(q.filter.attrs.size(), 1U);
  EXPECT_EQ(q.filter.attrs[0].first, (std::vector<std::string>{"a", "b"}));
}

TEST(HistogramQuery, RefusesNamingTheParameter) {
  const auto refused = [](const Params& params) {
    return refused_param(parse_histogram_query(params, 1, kNow));
  };
  EXPECT_EQ(refused({{"interval", "2m"}}), "interval");
  EXPECT_EQ(refused({{"interval", "1m"}, {"interval", "1m"}}), "interval");
  // 3600 one-second buckets in an hour: over 2000.
  EXPECT_EQ(refused({{"from", "1h"}, {"interval", "1s"}}), "interval");
  EXPECT_EQ(refused({{"from", "30d"}, {"interval", "5m"}}), "interval");
  EXPECT_EQ(refused({{"from", "1h"}, {"to", "2h"}}), "from");
  EXPECT_EQ(refused({{"from", "2025-11-25T00:00:00Z"}}), "from");  // after now, the default to
  EXPECT_EQ(refused({{"from", "3000d"}}), "from");  // more than 2000 days even by the day
  EXPECT_EQ(refused({{"from", "yesterday"}}), "from");
  EXPECT_EQ(refused({{"level", "loud"}}), "level");
  EXPECT_EQ(refused({{"q", "\"open"}}), "q");
  EXPECT_EQ(refused({{"service", "a"}, {"service", "b"}}), "service");
  EXPECT_EQ(refused({{"order", "asc"}}), "order");
  EXPECT_EQ(refused({{"limit", "10"}}), "limit");
  EXPECT_EQ(refused({{"cursor", "x"}}), "cursor");
  EXPECT_EQ(refused({{"bucket", "1m"}}), "bucket");
}

TEST(HistogramQuery, AcceptsTheLimitsExactly) {
  // 2000 one-second buckets, and 1800.
  EXPECT_EQ(parsed({{"from", "2000s"}, {"interval", "1s"}}).interval.length, kSecond);
  EXPECT_EQ(parsed({{"from", "30m"}, {"interval", "1s"}}).interval.length, kSecond);
  EXPECT_EQ(refused_param(parse_histogram_query({{"from", "2001s"}, {"interval", "1s"}}, 1, kNow)),
            "interval");
}

TEST(HistogramQuery, RollupsAnswerOnlyServiceAppAndLevelsInWholeMinutes) {
  EXPECT_TRUE(rollups_answer(parsed({})));
  EXPECT_TRUE(rollups_answer(
      parsed({{"service", "api"}, {"app", "shop"}, {"min_level", "WARNING"}, {"interval", "1m"}})));
  EXPECT_TRUE(rollups_answer(parsed({{"from", "30d"}, {"interval", "1d"}})));
  EXPECT_TRUE(rollups_answer(parsed({{"from", "1d"}, {"interval", "3h"}})));
  EXPECT_FALSE(rollups_answer(parsed({{"from", "1h"}, {"interval", "30s"}})));
  EXPECT_FALSE(rollups_answer(parsed({{"device_id", "d1"}})));
  EXPECT_FALSE(rollups_answer(parsed({{"host", "h1"}})));
  EXPECT_FALSE(rollups_answer(parsed({{"q", "disk"}})));
  EXPECT_FALSE(rollups_answer(parsed({{"attrs.k", "1"}})));
  // A missing service is '' in the rollups but NULL in logs.
  EXPECT_FALSE(rollups_answer(parsed({{"service", ""}})));
}

}  // namespace
}  // namespace logpipe::query
