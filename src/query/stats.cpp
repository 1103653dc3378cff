#include "query/stats.hpp"

#include <fmt/format.h>

namespace logpipe::query {
namespace {

using core::ceil_to;
using core::floor_to;
using core::kDay;
using core::kHour;
using core::kMinute;
constexpr std::size_t kAutoBuckets = 360;
constexpr std::size_t kMaxBuckets = 10'000;
constexpr int kMaxRecentDevices = 1000;

core::Micros length_of(Interval i) {
  switch (i) {
    case Interval::minute:
      return kMinute;
    case Interval::five_minutes:
      return 5 * kMinute;
    case Interval::hour:
      return kHour;
    case Interval::day:
      break;
  }
  return kDay;
}

// The rollup table whose rows are exactly the buckets of an interval (5m buckets sum minutes).
struct Grain {
  const char* table;
  const char* column;
  const char* bucket;   // the bucket of a row, in the column's type: cheap per row
  const char* as_time;  // a bucket as a timestamptz: computed once per bucket, not per row
  bool dates;           // compared with dates, not times (so its index serves the range)
};
Grain grain_of(Interval i) {
  switch (i) {
    case Interval::minute:
      return {"log_counts", "minute", "minute", "bucket", false};
    case Interval::five_minutes:
      return {"log_counts", "minute", "date_bin('5 minutes', minute, timestamptz '2000-01-01Z')",
              "bucket", false};
    case Interval::hour:
      return {"log_counts_hourly", "hour", "hour", "bucket", false};
    case Interval::day:
      break;
  }
  return {"log_counts_daily", "day", "day", "bucket::timestamp AT TIME ZONE 'UTC'", true};
}

}  // namespace

std::string_view to_string(Interval interval) {
  switch (interval) {
    case Interval::minute:
      return "1m";
    case Interval::five_minutes:
      return "5m";
    case Interval::hour:
      return "1h";
    case Interval::day:
      break;
  }
  return "1d";
}

core::Result<StatsQuery> parse_stats_query(const Params& params, model::TenantId tenant,
                                           core::Micros now) {
  StatsQuery q;
  q.tenant = tenant;
  for (const auto& [key, value] : params) {
    if (key == "from" || key == "to") {
      auto t = parse_time(key, value, now);
      if (!t) return t.error();
      (key == "from" ? q.from : q.to) = *t;
    } else if (key == "service" || key == "app") {
      auto& field = key == "service" ? q.service : q.app;
      if (field) return invalid_param(key, "is given twice");
      field = value;
    } else if (key == "interval") {
      constexpr Interval kAll[] = {Interval::minute, Interval::five_minutes, Interval::hour,
                                   Interval::day};
      q.interval.reset();
      for (const auto i : kAll) {
        if (value == to_string(i)) q.interval = i;
      }
      if (!q.interval) return invalid_param(key, "must be 1m, 5m, 1h or 1d");
    } else if (key == "devices") {
      auto n = parse_int_param(key, value, 0, kMaxRecentDevices);
      if (!n) return n.error();
      q.recent_devices = static_cast<int>(*n);
    } else {
      return invalid_param(key, "is not a parameter (from, to, service, app, interval, devices)");
    }
  }
  if (q.from && q.to && *q.from > *q.to) return invalid_param("from", "is after to");
  return q;
}

core::Result<Stats> read_stats(store::Connection& db, const StatsQuery& q, core::Micros now) {
  Stats stats;
  // The open ends of the range: the first day with data, and now.
  auto extent = db.query(
      "SELECT (extract(epoch FROM min(day)::timestamp) * 1000000)::bigint,"
      " (extract(epoch FROM max(day)::timestamp) * 1000000)::bigint"
      " FROM log_counts_daily WHERE tenant_id = $1",
      {std::to_string(q.tenant)});
  if (!extent) return extent.error();
  const bool no_data = extent->is_null(0, 0);
  const core::Micros now_end = floor_to(now, kMinute) + kMinute;
  stats.from = floor_to(q.from.value_or(no_data ? now_end - kDay : extent->get_int(0, 0)), kMinute);
  // Only a day after today (a device clock ahead) extends the open end past now.
  const core::Micros last_day_end = no_data ? 0 : extent->get_int(0, 1) + kDay;
  stats.to = floor_to(
      q.to.value_or(last_day_end > floor_to(now, kDay) + kDay ? last_day_end : now_end), kMinute);
  const core::Micros span = std::max<core::Micros>(stats.to - stats.from, kMinute);
  if (q.interval) {
    stats.interval = *q.interval;
    if (static_cast<std::size_t>(span / length_of(stats.interval)) > kMaxBuckets)
      return invalid_param("interval", fmt::format("makes more than {} buckets over this range; "
                                                   "choose a coarser one or a shorter range",
                                                   kMaxBuckets));
  } else {
    stats.interval = Interval::day;
    for (const auto i : {Interval::minute, Interval::five_minutes, Interval::hour}) {
      if (static_cast<std::size_t>(span / length_of(i)) <= kAutoBuckets) {
        stats.interval = i;
        break;
      }
    }
  }
  // Whole buckets: the counts cover exactly the histogram.
  const core::Micros length = length_of(stats.interval);
  stats.from = floor_to(stats.from, length);
  stats.to = std::max(ceil_to(stats.to, length), stats.from + length);

  // One scan of the one rollup table of the interval gives the totals and the histogram.
  SqlWhere w;
  w.args.push_back(std::to_string(q.tenant));
  const Grain grain = grain_of(stats.interval);
  const auto bound = [&](core::Micros t) {
    return w.param(grain.dates ? core::format_date(t) : core::format_rfc3339(t));
  };
  const char* cast = grain.dates ? "date" : "timestamptz";
  std::string where = fmt::format("tenant_id = $1 AND {0} >= {1}::{3} AND {0} < {2}::{3}",
                                  grain.column, bound(stats.from), bound(stats.to), cast);
  if (q.service) where += fmt::format(" AND service = {}", w.param(*q.service));
  if (q.app) where += fmt::format(" AND app = {}", w.param(*q.app));
  const std::string sql = fmt::format(
      "SELECT (extract(epoch FROM {}) * 1000000)::bigint, level, service, app, n, totals FROM ("
      "SELECT {} AS bucket, level, service, app, sum(count)::bigint AS n,"
      " GROUPING({}) = 1 AS totals FROM {} WHERE {}"
      " GROUP BY GROUPING SETS (({}, level), (level, service, app))) c",
      grain.as_time, grain.bucket, grain.bucket, grain.table, where, grain.bucket);
  auto rows = db.query(sql, store::Params(w.args.begin(), w.args.end()));
  if (!rows) return rows.error();
  for (core::Micros t = stats.from; t < stats.to; t += length)
    stats.histogram.push_back({t, 0, {}});
  for (int i = 0; i < rows->size(); ++i) {
    const std::int64_t n = rows->get_int(i, 4);
    if (n == 0) continue;  // rows of deleted logs
    const std::string level(rows->get(i, 1));
    if (rows->get(i, 5) == "t") {  // the (level, service, app) set: totals
      stats.total += n;
      stats.by_level[level] += n;
      stats.by_service[std::string(rows->get(i, 2))] += n;
      stats.by_app[std::string(rows->get(i, 3))] += n;
      continue;
    }
    const auto index = (rows->get_int(i, 0) - stats.from) / length;
    if (index < 0 || static_cast<std::size_t>(index) >= stats.histogram.size()) continue;
    auto& bucket = stats.histogram[static_cast<std::size_t>(index)];
    bucket.total += n;
    bucket.by_level[level] += n;
  }
  {
    auto rows = db.query(
        "SELECT device_id FROM devices WHERE tenant_id = $1"
        " GROUP BY device_id ORDER BY max(last_seen) DESC, device_id LIMIT $2",
        {std::to_string(q.tenant), std::to_string(q.recent_devices)});
    if (!rows) return rows.error();
    for (int i = 0; i < rows->size(); ++i)
      stats.recent_devices.emplace_back(rows->get(i, 0));
    auto count = db.query("SELECT count(DISTINCT device_id) FROM devices WHERE tenant_id = $1",
                          {std::to_string(q.tenant)});
    if (!count) return count.error();
    stats.device_count = count->get_int(0, 0);
  }
  return stats;
}

}  // namespace logpipe::query
