#include "query/device_logs.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/time.hpp"

namespace logpipe::query {

core::Result<int> parse_limit(std::string_view text, bool present) {
  if (!present) return kDefaultLimit;
  int value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size() || value < 1 || value > kMaxLimit) {
    return core::Error(core::Errc::invalid_field,
                       fmt::format("limit must be an integer from 1 to {}", kMaxLimit),
                       {{-1, "limit", fmt::format("\"{}\" is not in [1, {}]", text, kMaxLimit)}});
  }
  return value;
}

std::vector<StoredLog> read_stored_logs(const store::Rows& rows) {
  const auto optional_text = [&](int row, int col) -> std::optional<std::string> {
    if (rows.is_null(row, col)) return std::nullopt;
    return std::string(rows.get(row, col));
  };
  std::vector<StoredLog> logs;
  logs.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    StoredLog& log = logs.emplace_back();
    log.id = rows.get_int(i, 0);
    log.ts = rows.get_int(i, 1);
    log.received_at = rows.get_int(i, 2);
    log.device_id = optional_text(i, 3);
    log.service = optional_text(i, 4);
    log.app = optional_text(i, 5);
    log.host = optional_text(i, 6);
    log.level = rows.get(i, 7);
    log.message = rows.get(i, 8);
    log.attrs_json = rows.get(i, 9);
    log.source_format = rows.get(i, 10);
  }
  return logs;
}

core::Result<std::vector<StoredLog>> device_logs(store::Connection& db, const DeviceLogsQuery& q) {
  // An active device's newest logs are in the last day's partitions: asking for those first
  // spares the planning and an index probe of every older partition (a month is ~30 of them;
  // planning them all took 4 ms). The bound is a parameter, not now(), so that the planner prunes
  // the partitions. Only a device with fewer logs than asked in that day needs the whole table.
  const std::string since = core::format_rfc3339(core::now_micros() - core::kDay);
  for (const bool recent : {true, false}) {
    store::Params params{std::to_string(q.tenant_id), q.device_id, std::to_string(q.limit)};
    if (recent) params.emplace_back(since);
    auto rows = db.query(
        std::string(kStoredLogColumns) + " FROM logs WHERE tenant_id = $1 AND device_id = $2" +
            (recent ? " AND ts >= $4::timestamptz" : "") + " ORDER BY ts DESC, id DESC LIMIT $3",
        params);
    if (!rows) return rows.error();
    if (!recent || rows->size() == q.limit) return read_stored_logs(*rows);
  }
  return std::vector<StoredLog>{};
}

}  // namespace logpipe::query
