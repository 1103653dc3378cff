// GET /api/v1/logs/histogram: how many logs the search's filters match per time bucket, by level,
// for the explorer's chart above its results.
//
// Parameters: every filter of /api/v1/logs (query::parse_filter_params), from/to (default: the
// last 24 hours up to now) and `interval`, one of kHistogramIntervals (default: the finest giving
// at most kAutoBuckets buckets). The range is widened to whole buckets (from rounded down, to up,
// buckets aligned to the interval since the Unix epoch, so in UTC): the answer says which range
// it covers, and has every bucket of it, empty ones too.
//
// Two ways to count, with the same answer:
//   - the rollups (log_counts per minute, hour, day), when the filter is only service, app and
//     levels and the interval is a whole number of a rollup's grain: a 30-day histogram reads a
//     few thousand rows, however many logs there are. The rollups are written in the logs'
//     transaction and every delete (by id, by filter, an app's, retention's) corrects them in its
//     own, so they are exact; the one lag is retention's: a dropped day's partition has its
//     rollup rows deleted in the next transaction of the same maintenance round (seconds, and
//     only for days past the retention).
//   - otherwise a scan of `logs` with the search's WHERE clause, grouped by bucket and level,
//     under kHistogramTimeout: past it the answer is a 504, not a wait.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "query/logs.hpp"
#include "query/stats.hpp"
#include "store/connection.hpp"

namespace logpipe::query {

struct HistogramInterval {
  std::string_view name;  // "1m"
  core::Micros length;
};
// 1s 5s 10s 30s 1m 5m 15m 30m 1h 3h 6h 12h 1d: each divides a day, so buckets of an hour or more
// start at UTC midnight like the daily rollup.
inline constexpr std::array<HistogramInterval, 13> kHistogramIntervals{{
    {"1s", core::kSecond},
    {"5s", 5 * core::kSecond},
    {"10s", 10 * core::kSecond},
    {"30s", 30 * core::kSecond},
    {"1m", core::kMinute},
    {"5m", 5 * core::kMinute},
    {"15m", 15 * core::kMinute},
    {"30m", 30 * core::kMinute},
    {"1h", core::kHour},
    {"3h", 3 * core::kHour},
    {"6h", 6 * core::kHour},
    {"12h", 12 * core::kHour},
    {"1d", core::kDay},
}};
inline constexpr std::int64_t kAutoBuckets = 200;  // at most, without `interval`
inline constexpr std::int64_t kMaxBuckets = 2000;  // at most, with it (else 422)
inline constexpr std::chrono::milliseconds kHistogramTimeout{10'000};

struct HistogramQuery {
  LogFilter filter;  // from and to set: the whole buckets counted
  HistogramInterval interval{};
};

// Errors are 422s naming the parameter (invalid_field), unknown parameters included.
core::Result<HistogramQuery> parse_histogram_query(const Params& params, model::TenantId tenant,
                                                   core::Micros now);

enum class HistogramSource { rollup, logs };
std::string_view to_string(HistogramSource source);

struct Histogram {
  core::Micros from = 0, to = 0;
  HistogramInterval interval{};
  std::int64_t total = 0;
  HistogramSource source = HistogramSource::logs;
  std::vector<Stats::Bucket> buckets;  // every bucket of [from, to), in order
};

// Whether the rollups can answer `query` exactly (its filter and interval, as above).
bool rollups_answer(const HistogramQuery& query);

// From the rollups when they can answer, else from `logs`; `force_logs` counts `logs` anyway (the
// tests compare both). Errc::timeout past kHistogramTimeout (or `timeout`).
core::Result<Histogram> read_histogram(store::Connection& db, const HistogramQuery& query,
                                       bool force_logs = false,
                                       std::chrono::milliseconds timeout = kHistogramTimeout);

}  // namespace logpipe::query
