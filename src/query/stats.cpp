#include "query/stats.hpp"

#include <fmt/format.h>

#include <charconv>

namespace logpipe::query {
namespace {

constexpr core::Micros kMinute = 60'000'000;
constexpr core::Micros kHour = 60 * kMinute;
constexpr core::Micros kDay = 24 * kHour;
constexpr std::size_t kAutoBuckets = 360;
constexpr std::size_t kMaxBuckets = 10'000;
constexpr int kMaxRecentDevices = 1000;

core::Micros floor_to(core::Micros t, core::Micros unit) {
  return t - ((t % unit) + unit) % unit;
}
core::Micros ceil_to(core::Micros t, core::Micros unit) {
  return floor_to(t + unit - 1, unit);
}

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

struct Range {
  core::Micros lo, hi;
};

// [from, to) as whole days, whole hours and minutes, using no grain coarser than `grain` (a
// histogram bucket must not receive an hour's count in its first five minutes).
struct Pieces {
  std::vector<Range> minutes, hours, days;

  void add_hours(core::Micros a, core::Micros b, bool use_hours) {
    const core::Micros h1 = ceil_to(a, kHour), h2 = floor_to(b, kHour);
    if (!use_hours || h1 >= h2) {
      if (a < b) minutes.push_back({a, b});
      return;
    }
    hours.push_back({h1, h2});
    if (a < h1) minutes.push_back({a, h1});
    if (h2 < b) minutes.push_back({h2, b});
  }

  Pieces(core::Micros from, core::Micros to, core::Micros grain) {
    const core::Micros d1 = ceil_to(from, kDay), d2 = floor_to(to, kDay);
    if (grain < kDay || d1 >= d2) {
      add_hours(from, to, grain >= kHour);
      return;
    }
    days.push_back({d1, d2});
    add_hours(from, d1, true);
    add_hours(d2, to, true);
  }
};

std::string date_of(core::Micros t) {
  return core::format_rfc3339(t).substr(0, 10);
}

// One SELECT of (t, level, service, app, count) over the rollup rows covering the pieces.
std::string rollup_rows(const Pieces& pieces, const StatsQuery& q, SqlWhere& w) {
  std::string extra;
  if (q.service) extra += fmt::format(" AND service = {}", w.param(*q.service));
  if (q.app) extra += fmt::format(" AND app = {}", w.param(*q.app));
  std::vector<std::string> selects;
  const auto ranges = [&](const std::vector<Range>& rs, const char* column, bool dates) {
    std::string out;
    for (const auto& r : rs) {
      if (!out.empty()) out += " OR ";
      out += dates ? fmt::format("({0} >= {1}::date AND {0} < {2}::date)", column,
                                 w.param(date_of(r.lo)), w.param(date_of(r.hi)))
                   : fmt::format("({0} >= {1}::timestamptz AND {0} < {2}::timestamptz)", column,
                                 w.param(core::format_rfc3339(r.lo)),
                                 w.param(core::format_rfc3339(r.hi)));
    }
    return out;
  };
  if (!pieces.minutes.empty())
    selects.push_back(
        fmt::format("SELECT minute AS t, level, service, app, count FROM log_counts"
                    " WHERE tenant_id = $1 AND ({}){}",
                    ranges(pieces.minutes, "minute", false), extra));
  if (!pieces.hours.empty())
    selects.push_back(
        fmt::format("SELECT hour AS t, level, service, app, count FROM log_counts_hourly"
                    " WHERE tenant_id = $1 AND ({}){}",
                    ranges(pieces.hours, "hour", false), extra));
  if (!pieces.days.empty())
    selects.push_back(
        fmt::format("SELECT day::timestamp AT TIME ZONE 'UTC' AS t, level, service, app, count"
                    " FROM log_counts_daily WHERE tenant_id = $1 AND ({}){}",
                    ranges(pieces.days, "day", true), extra));
  if (selects.empty())
    return "SELECT now() AS t, ''::text AS level, ''::text AS service,"
           " ''::text AS app, 0::bigint AS count WHERE false";
  std::string sql;
  for (const auto& s : selects)
    sql += (sql.empty() ? "" : " UNION ALL ") + s;
  return sql;
}

std::string_view interval_sql(Interval i) {
  switch (i) {
    case Interval::minute:
      return "1 minute";
    case Interval::five_minutes:
      return "5 minutes";
    case Interval::hour:
      return "1 hour";
    case Interval::day:
      break;
  }
  return "1 day";
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
      int n = -1;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || end != value.data() + value.size() || n < 0 || n > kMaxRecentDevices)
        return invalid_param(key, fmt::format("must be an integer in 0..{}", kMaxRecentDevices));
      q.recent_devices = n;
    } else {
      return invalid_param(key, "is not a parameter (from, to, service, app, interval, devices)");
    }
  }
  if (q.from && q.to && *q.from > *q.to) return invalid_param("from", "is after to");
  return q;
}

core::Result<Stats> read_stats(store::Connection& db, const StatsQuery& q, core::Micros now) {
  Stats stats;
  // The open ends of the range: the first day with data, and now (or a later day with data:
  // clocks of devices run ahead).
  auto extent = db.query(
      "SELECT (extract(epoch FROM min(day)::timestamp) * 1000000)::bigint,"
      " (extract(epoch FROM max(day)::timestamp) * 1000000)::bigint"
      " FROM log_counts_daily WHERE tenant_id = $1",
      {std::to_string(q.tenant)});
  if (!extent) return extent.error();
  const bool no_data = extent->is_null(0, 0);
  const core::Micros now_end = floor_to(now, kMinute) + kMinute;
  stats.from = floor_to(q.from.value_or(no_data ? now_end - kDay : extent->get_int(0, 0)), kMinute);
  stats.to = floor_to(
      q.to.value_or(no_data ? now_end
                            : std::max<core::Micros>(now_end, extent->get_int(0, 1) + kDay)),
      kMinute);
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

  {  // Totals: any grain.
    SqlWhere w;
    w.args.push_back(std::to_string(q.tenant));
    const Pieces pieces(stats.from, stats.to, kDay);
    const std::string sql = fmt::format(
        "SELECT level, service, app, sum(count)::bigint FROM ({}) c GROUP BY level, service, app",
        rollup_rows(pieces, q, w));
    auto rows = db.query(sql, store::Params(w.args.begin(), w.args.end()));
    if (!rows) return rows.error();
    for (int i = 0; i < rows->size(); ++i) {
      const std::int64_t n = rows->get_int(i, 3);
      if (n == 0) continue;  // rows of deleted logs
      stats.total += n;
      stats.by_level[std::string(rows->get(i, 0))] += n;
      stats.by_service[std::string(rows->get(i, 1))] += n;
      stats.by_app[std::string(rows->get(i, 2))] += n;
    }
  }
  {  // Histogram: no grain coarser than its interval.
    SqlWhere w;
    w.args.push_back(std::to_string(q.tenant));
    const core::Micros length = length_of(stats.interval);
    const Pieces pieces(stats.from, stats.to, length);
    const std::string sql = fmt::format(
        "SELECT (extract(epoch FROM date_bin('{}', t, timestamptz '2000-01-01Z')) * 1000000)"
        "::bigint AS bucket, level, sum(count)::bigint FROM ({}) c GROUP BY bucket, level",
        interval_sql(stats.interval), rollup_rows(pieces, q, w));
    auto rows = db.query(sql, store::Params(w.args.begin(), w.args.end()));
    if (!rows) return rows.error();
    const core::Micros first = floor_to(stats.from, length);
    for (core::Micros t = first; t < stats.to; t += length)
      stats.histogram.push_back({t, 0, {}});
    for (int i = 0; i < rows->size(); ++i) {
      const std::int64_t n = rows->get_int(i, 2);
      const auto index = (rows->get_int(i, 0) - first) / length;
      if (n == 0 || index < 0 || static_cast<std::size_t>(index) >= stats.histogram.size())
        continue;
      auto& bucket = stats.histogram[static_cast<std::size_t>(index)];
      bucket.total += n;
      bucket.by_level[std::string(rows->get(i, 1))] += n;
    }
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
