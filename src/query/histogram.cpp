#include "query/histogram.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/time.hpp"

namespace logpipe::query {
namespace {

using core::ceil_to;
using core::floor_to;
using core::kDay;
using core::kHour;
using core::kMinute;
using core::kSecond;

std::int64_t bucket_count(core::Micros from, core::Micros to, core::Micros length) {
  return std::max<std::int64_t>((ceil_to(to, length) - floor_to(from, length)) / length, 1);
}

// The rollup table whose rows sum into buckets of `length` (a whole number of its grain).
struct Rollup {
  const char* table;
  const char* column;
  core::Micros grain;
  bool dates;  // compared with dates, not times (so its index serves the range)
};
Rollup rollup_of(core::Micros length) {
  if (length % kDay == 0) return {"log_counts_daily", "day", kDay, true};
  if (length % kHour == 0) return {"log_counts_hourly", "hour", kHour, false};
  return {"log_counts", "minute", kMinute, false};
}

// date_bin's origin: buckets aligned to the interval since the epoch, as floor_to aligns them.
constexpr std::string_view kEpoch = "timestamptz '1970-01-01Z'";

std::string bin(core::Micros length, std::string_view column) {
  return fmt::format("date_bin('{} seconds', {}, {})", length / kSecond, column, kEpoch);
}

}  // namespace

std::string_view to_string(HistogramSource source) {
  return source == HistogramSource::rollup ? "rollup" : "logs";
}

core::Result<HistogramQuery> parse_histogram_query(const Params& params, model::TenantId tenant,
                                                   core::Micros now) {
  std::optional<HistogramInterval> interval;
  auto filter = parse_filter_params(
      params, tenant, now, [&interval](const std::string& key, const std::string& value) {
        if (key == "interval") {
          if (interval) return core::Status(invalid_param(key, "is given twice"));
          for (const auto& i : kHistogramIntervals) {
            if (value == i.name) interval = i;
          }
          if (!interval)
            return core::Status(
                invalid_param(key,
                              "must be 1s, 5s, 10s, 30s, 1m, 5m, 15m, 30m, 1h, 3h, 6h, "
                              "12h or 1d"));
          return core::Status{};
        }
        if (key == "limit" || key == "cursor")
          return core::Status(
              invalid_param(key, "does not apply to a histogram (every bucket is answered)"));
        return core::Status(invalid_param(
            key,
            "is not a parameter of the histogram (device_id, service, app, host, level, "
            "min_level, from, to, q, attrs.<key>, interval)"));
      });
  if (!filter) return filter.error();
  HistogramQuery q;
  q.filter = std::move(filter).value();
  const core::Micros to = q.filter.to.value_or(now);
  const core::Micros from = q.filter.from.value_or(to - kDay);
  if (from > to) return invalid_param("from", "is after to (now, unless given)");
  if (interval) {
    const auto n = bucket_count(from, to, interval->length);
    if (n > kMaxBuckets)
      return invalid_param("interval",
                           fmt::format("makes {} buckets over this range, more than {}; "
                                       "choose a coarser one or a shorter range",
                                       n, kMaxBuckets));
    q.interval = *interval;
  } else {
    q.interval = kHistogramIntervals.back();
    for (const auto& i : kHistogramIntervals) {
      if (bucket_count(from, to, i.length) <= kAutoBuckets) {
        q.interval = i;
        break;
      }
    }
    if (bucket_count(from, to, q.interval.length) > kMaxBuckets)
      return invalid_param("from", fmt::format("makes a range of more than {} days; choose a "
                                               "shorter one",
                                               kMaxBuckets));
  }
  const core::Micros length = q.interval.length;
  q.filter.from = floor_to(from, length);
  q.filter.to = *q.filter.from + bucket_count(from, to, length) * length;
  return q;
}

bool rollups_answer(const HistogramQuery& q) {
  const LogFilter& f = q.filter;
  // The rollups keep a missing service or app as '' where `logs` has NULL: `service=` (empty)
  // means something else in each, so it counts `logs`.
  const auto plain = [](const std::optional<std::string>& v) { return !v || !v->empty(); };
  return !f.device_id && !f.host && f.terms.empty() && f.attrs.empty() && plain(f.service) &&
         plain(f.app) && q.interval.length % kMinute == 0;
}

core::Result<Histogram> read_histogram(store::Connection& db, const HistogramQuery& q,
                                       bool force_logs, std::chrono::milliseconds timeout) {
  Histogram h;
  h.from = q.filter.from.value_or(0);
  h.to = q.filter.to.value_or(h.from);
  h.interval = q.interval;
  h.source = !force_logs && rollups_answer(q) ? HistogramSource::rollup : HistogramSource::logs;
  const core::Micros length = q.interval.length;
  std::string sql;
  SqlWhere w;
  if (h.source == HistogramSource::logs) {
    // The search's own WHERE clause (from and to are the whole buckets): the same meaning of
    // every filter.
    w = where_clause(q.filter);
    sql = fmt::format(
        "SELECT (extract(epoch FROM bucket) * 1000000)::bigint, level, n FROM ("
        "SELECT {} AS bucket, level, count(*) AS n FROM logs WHERE {} GROUP BY 1, 2) c",
        bin(length, "ts"), w.sql);
  } else {
    // The same clause without the range is the rollups' too (tenant_id, service, app, level are
    // their columns); the range goes on the rollup's own time column.
    LogFilter untimed = q.filter;
    untimed.from.reset();
    untimed.to.reset();
    w = where_clause(untimed);
    const Rollup r = rollup_of(length);
    const auto bound = [&](core::Micros t) {
      return w.param(r.dates ? core::format_date(t) : core::format_rfc3339(t));
    };
    const char* cast = r.dates ? "date" : "timestamptz";
    w.sql += fmt::format(" AND {0} >= {1}::{3} AND {0} < {2}::{3}", r.column, bound(h.from),
                         bound(h.to), cast);
    const std::string bucket = length == r.grain ? r.column : bin(length, r.column);
    const char* as_time = r.dates ? "bucket::timestamp AT TIME ZONE 'UTC'" : "bucket";
    sql = fmt::format(
        "SELECT (extract(epoch FROM {}) * 1000000)::bigint, level, n FROM ("
        "SELECT {} AS bucket, level, sum(count)::bigint AS n FROM {} WHERE {} GROUP BY 1, 2) c",
        as_time, bucket, r.table, w.sql);
  }
  auto rows = store::in_transaction(db, [&]() -> core::Result<store::Rows> {
    if (auto s = db.exec(fmt::format("SET LOCAL statement_timeout = {}", timeout.count())); !s)
      return s.error();
    return db.query(sql, store::Params(w.args.begin(), w.args.end()));
  });
  if (!rows) {
    if (rows.error().message.find("SQLSTATE 57014") != std::string::npos)
      return core::make_error(
          core::Errc::timeout,
          fmt::format("the histogram took longer than {} ms; narrow the range or the filters",
                      timeout.count()));
    return rows.error();
  }
  for (core::Micros t = h.from; t < h.to; t += length)
    h.buckets.push_back({t, 0, {}});
  for (int i = 0; i < rows->size(); ++i) {
    const std::int64_t n = rows->get_int(i, 2);
    if (n == 0) continue;  // rollup rows of deleted logs
    const auto index = (rows->get_int(i, 0) - h.from) / length;
    if (index < 0 || static_cast<std::size_t>(index) >= h.buckets.size()) continue;
    auto& bucket = h.buckets[static_cast<std::size_t>(index)];
    bucket.total += n;
    bucket.by_level[std::string(rows->get(i, 1))] += n;
    h.total += n;
  }
  return h;
}

}  // namespace logpipe::query
