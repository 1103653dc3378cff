#include "store/forget.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include "store/batch_writer.hpp"
#include "store/rollups.hpp"

namespace logpipe::store {

static_assert(kCorrectionShard >= kRollupShards, "corrections need a shard of their own");

core::Result<Deleted> delete_logs(Connection& c, std::string_view where, const Params& params,
                                  std::optional<std::int64_t> limit, DeleteOrder order) {
  const std::string limit_sql = !limit ? ""
                                : order == DeleteOrder::oldest_first
                                    ? fmt::format(" ORDER BY ts, id LIMIT {}", *limit)
                                    : fmt::format(" LIMIT {}", *limit);
  // Each grain of log_counts loses the deleted rows' counts, in the corrections' shard.
  std::string grains;
  for (const RollupGrain& grain : kRollupGrains) {
    grains += fmt::format(
        ", {0}_less AS (INSERT INTO {0} AS c (tenant_id, {1}, level, service, app, shard, count)"
        " SELECT tenant_id, {2}, level, service, app, {3}, -count(*) FROM gone"
        " GROUP BY 1, 2, 3, 4, 5 ON CONFLICT (tenant_id, {1}, level, service, app, shard)"
        " DO UPDATE SET count = c.count + excluded.count)",
        grain.table, grain.column, grain.bucket("ts"), kCorrectionShard);
  }
  const std::string sql = fmt::format(
      R"sql(
WITH victims AS (
  SELECT tenant_id, id, ts FROM logs WHERE {0}{1}
), gone AS (
  DELETE FROM logs l USING victims v
  WHERE l.tenant_id = v.tenant_id AND l.id = v.id AND l.ts = v.ts
  RETURNING l.tenant_id, l.ts, l.level, coalesce(l.service, '') AS service,
            coalesce(l.app, '') AS app, l.device_id
){2}, device_rows AS (
  INSERT INTO devices AS d (tenant_id, device_id, shard, first_seen, last_seen, log_count)
  SELECT tenant_id, device_id, {3}, min(ts), max(ts), -count(*)
  FROM gone WHERE device_id IS NOT NULL GROUP BY 1, 2
  ON CONFLICT (tenant_id, device_id, shard)
  DO UPDATE SET log_count = d.log_count + excluded.log_count
)
SELECT count(*), coalesce(jsonb_agg(DISTINCT jsonb_build_array(tenant_id, device_id))
                  FILTER (WHERE device_id IS NOT NULL), '[]')::text FROM gone)sql",
      where, limit_sql, grains, kCorrectionShard);
  auto rows = c.query(sql, params);
  if (!rows) return rows.error();
  Deleted deleted;
  deleted.count = rows->get_int(0, 0);
  simdjson::dom::parser parser;
  simdjson::dom::array devices;
  if (parser.parse(rows->get(0, 1)).get_array().get(devices) != simdjson::SUCCESS)
    return core::make_error(core::Errc::internal, "unreadable list of deleted devices");
  for (auto pair : devices) {
    std::int64_t tenant = 0;
    std::string_view device;
    if (pair.at(0).get_int64().get(tenant) == simdjson::SUCCESS &&
        pair.at(1).get_string().get(device) == simdjson::SUCCESS)
      deleted.devices.emplace(static_cast<model::TenantId>(tenant), std::string(device));
  }
  return deleted;
}

}  // namespace logpipe::store
