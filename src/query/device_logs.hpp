// GET /api/logs/{device_id}: a device's newest logs, in seed 000's response shape
//   {"total":N,"source":"database","data":[{"id","device_id","log_level","message","log_data",
//     "created_at", plus "level","service","app","host","received_at"}]}
// where created_at is the event time and log_level/log_data mirror level/attrs.
#pragma once

#include <string>

#include "core/result.hpp"
#include "model/record.hpp"
#include "store/connection.hpp"

namespace logpipe::query {

struct DeviceLogsQuery {
  model::TenantId tenant_id = model::kDefaultTenant;
  std::string device_id;
  int limit = 100;  // 1..1000
};

inline constexpr int kDefaultLimit = 100;
inline constexpr int kMaxLimit = 1000;

// Parses the `limit` query parameter: absent → default; not an integer in [1, kMaxLimit] → error.
core::Result<int> parse_limit(std::string_view text, bool present);

// The response body, newest first (ts, then id).
core::Result<std::string> device_logs_json(store::Connection& db, const DeviceLogsQuery& q);

}  // namespace logpipe::query
