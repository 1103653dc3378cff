// The time grains of the log_counts rollups, named once for every statement that writes or folds
// them by grain (deletes' corrections, maintenance's folding).
#pragma once

#include <fmt/format.h>

#include <array>
#include <string>
#include <string_view>

namespace logpipe::store {

struct RollupGrain {
  const char* table;
  const char* column;
  const char* bucket_of;  // SQL of the column's value for a timestamptz `{}`

  std::string bucket(std::string_view timestamptz_sql) const {
    return fmt::format(fmt::runtime(bucket_of), timestamptz_sql);
  }
};

inline constexpr std::array kRollupGrains = {
    RollupGrain{"log_counts", "minute", "date_trunc('minute', {}, 'UTC')"},
    RollupGrain{"log_counts_hourly", "hour", "date_trunc('hour', {}, 'UTC')"},
    RollupGrain{"log_counts_daily", "day", "({} AT TIME ZONE 'UTC')::date"},
};

}  // namespace logpipe::store
