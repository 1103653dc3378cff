#include "store/maintenance.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "store/archive.hpp"
#include "store/forget.hpp"
#include "store/rollups.hpp"

namespace logpipe::store {
namespace {

using core::kDay;
// Arbitrary but fixed: every logpipe process contends for the same lock.
constexpr const char* kLockKey = "7346017263302";

// "logs_20261126" → "2026-11-26".
std::string date_of_partition(const std::string& name) {
  const std::string d = name.substr(5);
  return fmt::format("{}-{}-{}", d.substr(0, 4), d.substr(4, 2), d.substr(6, 2));
}

// The daily partitions, oldest first.
core::Result<std::vector<std::string>> daily_partitions(Connection& c) {
  auto rows = c.query(
      "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
      " WHERE i.inhparent = 'logs'::regclass AND c.relname ~ '^logs_[0-9]{8}$' ORDER BY 1");
  if (!rows) return rows.error();
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i)
    names.emplace_back(rows->get(i, 0));
  return names;
}

core::Status ensure_day(Connection& c, const std::string& day) {
  auto r = c.query("SELECT logpipe_ensure_partition($1::date)", {day});
  if (!r) return r.error();
  return {};
}

class AdvisoryLock {
 public:
  explicit AdvisoryLock(Connection& c) : c_(c) {}
  ~AdvisoryLock() {
    if (held_) (void)c_.query(fmt::format("SELECT pg_advisory_unlock({})", kLockKey));
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;
  core::Result<bool> try_lock() {
    auto r = c_.query(fmt::format("SELECT pg_try_advisory_lock({})", kLockKey));
    if (!r) return r.error();
    held_ = r->get(0, 0) == "t";
    return held_;
  }

 private:
  Connection& c_;
  bool held_ = false;
};

core::Status drop_partition(Connection& c, const std::string& partition) {
  return in_transaction(c, [&]() -> core::Status {
    // DROP waits for every reader of the partition (a long export), and queries queue behind a
    // waiting DROP: give up after a while instead, and try again next round.
    if (auto s = c.exec("SET LOCAL lock_timeout = '5s'"); !s) return s;
    // Device counts lose the partition's logs, as a delete would take them off.
    if (auto r = c.query(fmt::format(
            "INSERT INTO devices AS d (tenant_id, device_id, shard, first_seen, last_seen,"
            " log_count) SELECT tenant_id, device_id, {}, min(ts), max(ts), -count(*) FROM {}"
            " WHERE device_id IS NOT NULL GROUP BY 1, 2"
            " ON CONFLICT (tenant_id, device_id, shard)"
            " DO UPDATE SET log_count = d.log_count + excluded.log_count",
            kCorrectionShard, partition));
        !r)
      return r.error();
    return c.exec(fmt::format("DROP TABLE {}", partition));
  });
}

core::Status index_partition(Connection& c, const std::string& partition,
                             std::vector<std::string>& indexed) {
  const std::string index = partition + "_message_trgm";
  auto state =
      c.query("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", {index});
  if (!state) return state.error();
  if (state->size() == 1) {
    if (state->get(0, 0) == "t") return {};
    // A build that was interrupted leaves an invalid index behind: start over.
    if (auto s = c.exec(fmt::format("DROP INDEX CONCURRENTLY IF EXISTS {}", index)); !s) return s;
  }
  if (auto s = c.exec(fmt::format(
          "CREATE INDEX CONCURRENTLY IF NOT EXISTS {} ON {} USING gin (message gin_trgm_ops)",
          index, partition));
      !s)
    return s;
  indexed.push_back(index);
  return {};
}

// Folds the rows of closed days (before `today_start`, a timestamptz) into shard 0, one rollup
// table per transaction. Writers storing late logs of those days meanwhile only add rows again
// (folded next round); the sums never change.
core::Result<std::int64_t> fold_closed_days(Connection& c, const std::string& today_start) {
  std::int64_t folded = 0;
  for (const RollupGrain& grain : kRollupGrains) {
    const char* table = grain.table;
    const char* column = grain.column;
    const std::string bound = grain.bucket("$1::timestamptz");  // today, in the column's type
    auto rows = in_transaction(c, [&]() -> core::Result<std::int64_t> {
      auto moved = c.query(
          fmt::format(
              "WITH moved AS (DELETE FROM {0} WHERE {1} < {2} AND shard <> 0"
              " RETURNING tenant_id, {1} AS t, level, service, app, count), merged AS ("
              " INSERT INTO {0} AS l (tenant_id, {1}, level, service, app, shard, count)"
              " SELECT tenant_id, t, level, service, app, 0, sum(count) FROM moved"
              " GROUP BY 1, 2, 3, 4, 5 ON CONFLICT (tenant_id, {1}, level, service, app, shard)"
              " DO UPDATE SET count = l.count + excluded.count)"
              " SELECT count(*) FROM moved",
              table, column, bound),
          {today_start});
      if (!moved) return moved.error();
      // Keys whose logs were all deleted sum to zero: nothing to keep.
      if (auto r = c.query(fmt::format("DELETE FROM {} WHERE {} < {} AND shard = 0 AND count = 0",
                                       table, column, bound),
                           {today_start});
          !r)
        return r.error();
      return moved->get_int(0, 0);
    });
    if (!rows) return rows.error();
    folded += *rows;
  }
  return folded;
}

// Tenants with a retention of their own (tenants.retention_days).
core::Result<std::map<model::TenantId, int>> tenant_retentions(Connection& c) {
  auto rows = c.query("SELECT id, retention_days FROM tenants WHERE retention_days IS NOT NULL");
  if (!rows) return rows.error();
  std::map<model::TenantId, int> out;
  for (int i = 0; i < rows->size(); ++i)
    out[static_cast<model::TenantId>(rows->get_int(i, 0))] = static_cast<int>(rows->get_int(i, 1));
  return out;
}

// Deletes, in batches, the rows of every tenant older than its own retention (or the setting's)
// that the partitions kept still hold: days in [horizon, the tenant's cutoff). The days to visit
// come from log_counts_daily (exact: every delete corrects it), so a tenant whose old days are
// already clean costs one small query, not a scan of the partitions.
core::Result<std::int64_t> expire_tenant_rows(Connection& c, const MaintenanceOptions& o,
                                              const std::map<model::TenantId, int>& overrides,
                                              core::Micros today,
                                              std::optional<core::Micros> horizon) {
  int shortest = o.retention_days;
  for (const auto& [tenant, days] : overrides)
    shortest = shortest == 0 ? days : std::min(shortest, days);
  if (shortest == 0) return std::int64_t{0};  // nobody's rows expire
  auto days = c.query(
      "SELECT tenant_id, to_char(day, 'YYYY-MM-DD') FROM log_counts_daily WHERE day < $1::date"
      " AND ($2::date IS NULL OR day >= $2::date) GROUP BY 1, 2 HAVING sum(count) > 0"
      " ORDER BY 2, 1",
      {core::format_date(today - shortest * kDay),
       horizon ? std::optional<std::string>(core::format_date(*horizon)) : std::nullopt});
  if (!days) return days.error();
  std::int64_t deleted = 0;
  for (int i = 0; i < days->size() && deleted < o.tenant_delete_max_per_round; ++i) {
    const auto tenant = static_cast<model::TenantId>(days->get_int(i, 0));
    const auto own = overrides.find(tenant);
    const int retention = own != overrides.end() ? own->second : o.retention_days;
    const std::string day(days->get(i, 1));
    if (retention == 0 || day >= core::format_date(today - retention * kDay)) continue;
    for (;;) {
      auto gone = in_transaction(c, [&]() -> core::Result<Deleted> {
        return delete_logs(c,
                           "tenant_id = $1 AND ts >= $2::date AT TIME ZONE 'UTC'"
                           " AND ts < ($2::date + 1) AT TIME ZONE 'UTC'",
                           {std::to_string(tenant), day}, o.tenant_delete_batch, DeleteOrder::any);
      });
      if (!gone) return gone.error();
      deleted += gone->count;
      if (gone->count < o.tenant_delete_batch || deleted >= o.tenant_delete_max_per_round) break;
    }
  }
  return deleted;
}

}  // namespace

core::Result<MaintenanceReport> maintain(Connection& c, const MaintenanceOptions& o,
                                         core::Micros now) {
  MaintenanceReport report;
  AdvisoryLock lock(c);
  auto locked = lock.try_lock();
  if (!locked) return locked.error();
  if (!*locked) return report;
  report.ran = true;

  const core::Micros today = core::floor_to(now, kDay);
  const std::string today_date = core::format_date(today);
  auto overrides = tenant_retentions(c);
  if (!overrides) return overrides.error();
  // A partition holds every tenant's rows: it goes only once the longest retention has passed it
  // (0, keep everything, stays 0: tenants with a retention of their own lose rows by deletes).
  int horizon_days = o.retention_days;
  if (horizon_days > 0) {
    for (const auto& [tenant, days] : *overrides)
      horizon_days = std::max(horizon_days, days);
  }
  const std::optional<core::Micros> cutoff =
      horizon_days > 0 ? std::optional(today - horizon_days * kDay) : std::nullopt;
  const std::string last_ahead = core::format_date(today + o.days_ahead * kDay);

  auto before = daily_partitions(c);
  if (!before) return before.error();
  for (core::Micros d = today - kDay; d <= today + o.days_ahead * kDay; d += kDay) {
    if (auto s = ensure_day(c, core::format_date(d)); !s) return s.error();
  }
  // Rows that arrived for a day without a partition wait in logs_default; once their day is
  // within the window, they move into its own partition.
  auto waiting = c.query(
      "SELECT DISTINCT to_char((ts AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') FROM logs_default");
  if (!waiting) return waiting.error();
  for (int i = 0; i < waiting->size(); ++i) {
    const std::string day(waiting->get(i, 0));
    if ((cutoff && day < core::format_date(*cutoff)) || day > last_ahead) continue;
    if (auto s = ensure_day(c, day); !s) return s.error();
  }
  auto after = daily_partitions(c);
  if (!after) return after.error();
  const std::set<std::string> existed(before->begin(), before->end());
  for (const auto& p : *after) {
    if (!existed.count(p)) report.created.push_back(p);
  }

  std::vector<std::string> kept;
  for (const auto& p : *after) {
    const std::string day = date_of_partition(p);
    if (!cutoff || day >= core::format_date(*cutoff)) {
      kept.push_back(p);
      continue;
    }
    if (!o.archive_dir.empty()) {
      const auto path = (std::filesystem::path(o.archive_dir) / (p + ".ndjson.zst")).string();
      auto rows = archive_partition(c, p, path);
      if (!rows) return rows.error();
      report.archived.push_back(path);
      report.archived_rows += *rows;
    }
    if (auto s = drop_partition(c, p); !s) return s.error();
    report.dropped.push_back(p);
  }
  if (cutoff) {
    const std::string cutoff_text = core::format_rfc3339(*cutoff);
    auto expired = in_transaction(c, [&]() -> core::Result<std::int64_t> {
      // After the drops only logs_default can hold rows this old: partition pruning keeps this
      // from touching the kept days.
      auto gone = delete_logs(c, "ts < $1::timestamptz", {cutoff_text}, std::nullopt);
      if (!gone) return gone.error();
      for (const auto& [sql, bound] :
           {std::pair{"DELETE FROM log_counts WHERE minute < $1::timestamptz", cutoff_text},
            std::pair{"DELETE FROM log_counts_hourly WHERE hour < $1::timestamptz", cutoff_text},
            std::pair{"DELETE FROM log_counts_daily WHERE day < $1::date",
                      core::format_date(*cutoff)}}) {
        if (auto r = c.query(sql, {bound}); !r) return r.error();
      }
      return gone->count;
    });
    if (!expired) return expired.error();
    report.expired_default_rows = *expired;
  }
  auto tenant_expired = expire_tenant_rows(c, o, *overrides, today, cutoff);
  if (!tenant_expired) return tenant_expired.error();
  report.tenant_expired_rows = *tenant_expired;
  auto folded = fold_closed_days(c, core::format_rfc3339(today));
  if (!folded) return folded.error();
  report.folded_rollup_rows = *folded;
  if (o.index_closed) {
    for (const auto& p : kept) {
      if (date_of_partition(p) >= today_date) continue;
      if (auto s = index_partition(c, p, report.indexed); !s) return s.error();
    }
  }
  return report;
}

}  // namespace logpipe::store
