// The read side's parameter parsers: what they accept and the 422 they give, naming the parameter.
#include <gtest/gtest.h>

#include "query/catalog.hpp"
#include "query/logs.hpp"
#include "query/stats.hpp"

namespace logpipe::query {
namespace {

constexpr core::Micros kNow = 1'764'000'000'000'000;  // 2025-11-24T16:00:00Z

std::string refused_param(const core::Error& e) {
  EXPECT_EQ(e.code, core::Errc::invalid_field);
  return e.details.empty() ? "" : e.details.front().field;
}

TEST(StatsQuery, AcceptsRangesFiltersIntervalAndDevices) {
  auto q = parse_stats_query(
      {{"from", "2h"}, {"service", "api"}, {"app", "shop"}, {"interval", "5m"}, {"devices", "3"}},
      1, kNow);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(*q->from, kNow - 7'200'000'000);
  EXPECT_FALSE(q->to);
  EXPECT_EQ(*q->service, "api");
  EXPECT_EQ(*q->app, "shop");
  EXPECT_EQ(*q->interval, Interval::five_minutes);
  EXPECT_EQ(q->recent_devices, 3);
}

TEST(StatsQuery, RefusesNamingTheParameter) {
  EXPECT_EQ(refused_param(parse_stats_query({{"interval", "2m"}}, 1, kNow).error()), "interval");
  EXPECT_EQ(
      refused_param(parse_stats_query({{"interval", "1h"}, {"interval", "x"}}, 1, kNow).error()),
      "interval");
  EXPECT_EQ(refused_param(parse_stats_query({{"devices", "1001"}}, 1, kNow).error()), "devices");
  EXPECT_EQ(refused_param(parse_stats_query({{"service", "a"}, {"service", "b"}}, 1, kNow).error()),
            "service");
  EXPECT_EQ(refused_param(parse_stats_query({{"level", "error"}}, 1, kNow).error()), "level");
  EXPECT_EQ(refused_param(parse_stats_query({{"from", "1h"}, {"to", "2h"}}, 1, kNow).error()),
            "from");
}

TEST(DeviceListQuery, PrefixSilentForSortLimit) {
  auto q = parse_device_list_query(
      {{"prefix", "dev-"}, {"silent_for", "15m"}, {"sort", "device_id"}, {"limit", "50"}}, 2, kNow);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->tenant, 2);
  EXPECT_EQ(q->prefix, "dev-");
  EXPECT_EQ(*q->silent_since, kNow - 900'000'000);
  EXPECT_TRUE(q->by_name);
  EXPECT_EQ(q->limit, 50);
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"silent_for", "2026-01-01T00:00:00Z"},
                                                        {"sort", "name"},
                                                        {"limit", "0"},
                                                        {"limit", "10001"},
                                                        {"color", "red"}}) {
    auto refused = parse_device_list_query({{key, value}}, 1, kNow);
    ASSERT_FALSE(refused.ok()) << key << "=" << value;
    EXPECT_EQ(refused_param(refused.error()), key);
  }
}

TEST(LogDelete, NeedsAFilterAndBoundsTheLimit) {
  auto d = parse_log_delete({{"service", "api"}, {"level", "error"}, {"limit", "500"}}, 1, kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d->filter.service, "api");
  EXPECT_EQ(d->limit, 500);
  EXPECT_EQ(parse_log_delete({{"service", "api"}}, 1, kNow)->limit, 10'000);
  EXPECT_EQ(refused_param(parse_log_delete({}, 1, kNow).error()), "filter");
  EXPECT_EQ(refused_param(parse_log_delete({{"limit", "5"}}, 1, kNow).error()), "filter");
  EXPECT_EQ(
      refused_param(parse_log_delete({{"service", "a"}, {"limit", "100001"}}, 1, kNow).error()),
      "limit");
  EXPECT_EQ(refused_param(parse_log_delete({{"service", "a"}, {"cursor", "x"}}, 1, kNow).error()),
            "cursor");
  EXPECT_EQ(refused_param(parse_log_delete({{"service", "a"}, {"level", "LOUD"}}, 1, kNow).error()),
            "level");
}

TEST(LogExport, SearchFiltersFormatAndAnUncappedLimit) {
  auto x = parse_log_export_query({{"service", "api"},
                                   {"min_level", "error"},
                                   {"order", "asc"},
                                   {"format", "csv"},
                                   {"limit", "2000000"}},
                                  1, kNow);
  ASSERT_TRUE(x.ok());
  EXPECT_EQ(*x->filter.service, "api");
  EXPECT_EQ(x->filter.levels.size(), 3u);  // ERROR, CRITICAL, FATAL
  EXPECT_TRUE(x->ascending);
  EXPECT_EQ(x->format, ExportFormat::csv);
  EXPECT_EQ(*x->limit, 2'000'000);
  auto defaults = parse_log_export_query({}, 1, kNow);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->format, ExportFormat::ndjson);
  EXPECT_FALSE(defaults->limit);
  EXPECT_FALSE(defaults->ascending);
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"format", "xml"},
                                                        {"limit", "0"},
                                                        {"limit", "ten"},
                                                        {"cursor", "MTIzLjQ"},
                                                        {"level", "LOUD"},
                                                        {"formats", "csv"}}) {
    auto refused = parse_log_export_query({{key, value}}, 1, kNow);
    ASSERT_FALSE(refused.ok()) << key << "=" << value;
    EXPECT_EQ(refused_param(refused.error()), key);
  }
  EXPECT_EQ(refused_param(
                parse_log_export_query({{"format", "csv"}, {"format", "ndjson"}}, 1, kNow).error()),
            "format");
}

TEST(LogId, PositiveIntegersOnly) {
  EXPECT_EQ(*parse_log_id("42"), 42);
  for (const char* bad : {"0", "-1", "abc", "1.5", "", "99999999999999999999"})
    EXPECT_EQ(refused_param(parse_log_id(bad).error()), "id") << bad;
}

TEST(Apps, NamesAndDescriptionsAreBounded) {
  EXPECT_TRUE(validate_app({"shop", "the shop", 0, 0}).ok());
  EXPECT_FALSE(validate_app({"", "", 0, 0}).ok());
  EXPECT_FALSE(validate_app({std::string(129, 'a'), "", 0, 0}).ok());
  EXPECT_FALSE(validate_app({"tab\there", "", 0, 0}).ok());
  EXPECT_FALSE(validate_app({"ok", std::string(1001, 'd'), 0, 0}).ok());
}

}  // namespace
}  // namespace logpipe::query
