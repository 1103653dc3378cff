// GET /api/v1/stats: counts by level, service and app and a time histogram, read from the rollups
// the worker keeps (log_counts per minute, hour and day), never from `logs` itself.
//
// Counts cover whole buckets of the histogram's interval, as dashboards do: from is rounded down
// and to up to the interval (the answer says which range it covers), so one scan of the one
// rollup table of that interval gives both the totals and the histogram (30 days: about 30 daily
// rows per level, service and app). For counts exact to the minute, ask for interval=1m.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "model/record.hpp"
#include "query/logs.hpp"
#include "store/connection.hpp"

namespace logpipe::query {

enum class Interval { minute, five_minutes, hour, day };
std::string_view to_string(Interval interval);  // "1m", "5m", "1h", "1d"

struct StatsQuery {
  model::TenantId tenant = model::kDefaultTenant;
  std::optional<core::Micros> from, to;  // open ends: all time
  std::optional<std::string> service, app;
  std::optional<Interval> interval;  // of the histogram; absent: the finest with <= 360 buckets
  int recent_devices = 10;
};

// Parameters: from, to (as for /api/v1/logs), service, app, interval (1m|5m|1h|1d),
// devices (how many recent devices, 0..1000). Unknown ones are a 422 naming them.
core::Result<StatsQuery> parse_stats_query(const Params& params, model::TenantId tenant,
                                           core::Micros now);

struct Stats {
  core::Micros from = 0, to = 0;  // the histogram's range, minute-aligned
  Interval interval = Interval::hour;
  std::int64_t total = 0;
  std::map<std::string, std::int64_t> by_level, by_service, by_app;
  std::vector<std::string> recent_devices;  // most recently seen first
  std::int64_t device_count = 0;
  struct Bucket {
    core::Micros start = 0;
    std::int64_t total = 0;
    std::map<std::string, std::int64_t> by_level;
  };
  std::vector<Bucket> histogram;  // every bucket of the range, empty ones too
};

core::Result<Stats> read_stats(store::Connection& db, const StatsQuery& query, core::Micros now);

}  // namespace logpipe::query
