// GET /api/logs/{device_id}: a device's newest logs (the API renders them).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

// A stored record as read back.
struct StoredLog {
  std::int64_t id = 0;
  core::Micros ts = 0;
  core::Micros received_at = 0;
  std::optional<std::string> device_id, service, app, host;  // NULL when the sender gave none
  std::string level;
  std::string message;
  std::string attrs_json;
  std::string source_format;  // the input format it came in (json, ndjson, …)
};

// The SELECT list read_stored_logs() reads, in its order.
inline constexpr std::string_view kStoredLogColumns =
    "SELECT id, (extract(epoch FROM ts) * 1000000)::bigint,"
    " (extract(epoch FROM received_at) * 1000000)::bigint,"
    " device_id, service, app, host, level, message, attrs::text, source_format";
std::vector<StoredLog> read_stored_logs(const store::Rows& rows);

// Newest first (ts, then id).
core::Result<std::vector<StoredLog>> device_logs(store::Connection& db, const DeviceLogsQuery& q);

}  // namespace logpipe::query
