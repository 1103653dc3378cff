#include "query/device_logs.hpp"

#include <fmt/format.h>

#include <charconv>

#include "core/json_writer.hpp"
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

core::Result<std::string> device_logs_json(store::Connection& db, const DeviceLogsQuery& q) {
  auto rows = db.query(
      "SELECT id, (extract(epoch FROM ts) * 1000000)::bigint,"
      " (extract(epoch FROM received_at) * 1000000)::bigint,"
      " device_id, service, app, host, level, message, attrs::text"
      " FROM logs WHERE tenant_id = $1 AND device_id = $2"
      " ORDER BY ts DESC, id DESC LIMIT $3",
      {std::to_string(q.tenant_id), q.device_id, std::to_string(q.limit)});
  if (!rows) return rows.error();

  core::JsonWriter w;
  w.begin_object().field("total", rows->size()).field("source", "database").key("data");
  w.begin_array();
  const auto optional_text = [&](const char* name, int row, int col) {
    w.key(name);
    if (rows->is_null(row, col)) {
      w.null();
    } else {
      w.value(rows->get(row, col));
    }
  };
  for (int i = 0; i < rows->size(); ++i) {
    const std::string ts = core::format_rfc3339(rows->get_int(i, 1));
    w.begin_object()
        .field("id", static_cast<std::int64_t>(rows->get_int(i, 0)))
        .field("device_id", rows->get(i, 3))
        .field("log_level", rows->get(i, 7))
        .field("message", rows->get(i, 8))
        .key("log_data")
        .raw(rows->get(i, 9))
        .field("created_at", ts)
        .field("ts", ts)
        .field("received_at", core::format_rfc3339(rows->get_int(i, 2)))
        .field("level", rows->get(i, 7));
    optional_text("service", i, 4);
    optional_text("app", i, 5);
    optional_text("host", i, 6);
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

}  // namespace logpipe::query
