// Storage upkeep, run by the worker's maintenance loop and by `logpipe maintenance`, by one
// instance at a time (a PostgreSQL advisory lock; the others skip the round):
//   - daily partitions of `logs` from yesterday to days_ahead days ahead, and for any day of the
//     retention window that has rows waiting in logs_default (they move into it);
//   - retention: partitions of days older than retention_days are archived (when archive_dir is
//     set: <archive_dir>/logs_YYYYMMDD.ndjson.zst, see archive.hpp) and dropped whole; rows that
//     old in logs_default and the rollup rows of those days go too, and device counts are
//     corrected, so statistics keep equalling count(*);
//   - per-tenant retention (tenants.retention_days): a partition holds every tenant's rows, so
//     it is dropped only once the longest retention (the setting's or a tenant's) has passed it;
//     the rows of tenants whose retention is shorter (their own, or the setting's for tenants
//     without one) are deleted from the days still kept, in batches of tenant_delete_batch rows,
//     one transaction each, with the rollups corrected (the days to visit come from the daily
//     rollup, so a round reads no partition that holds nothing to delete);
//   - the message search index (trigram GIN) is built on closed partitions (days before today),
//     CONCURRENTLY, so today's partition takes its inserts without paying for it;
//   - the rollup rows of closed days are folded from the writers' shards into shard 0 (and rows
//     that sum to zero go), so statistics over past days read one row per key, not one per shard.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "store/connection.hpp"

namespace logpipe::store {

struct MaintenanceOptions {
  int days_ahead = 3;
  int retention_days = 30;  // 0: keep everything
  std::string archive_dir;  // empty: drop without archiving
  bool index_closed = true;
  // Per-tenant retention: rows per DELETE, and at most this many rows per round (the next round
  // goes on), so that one round stays bounded whatever a change of retention leaves to delete.
  std::int64_t tenant_delete_batch = 10'000;
  std::int64_t tenant_delete_max_per_round = 1'000'000;
};

struct MaintenanceReport {
  bool ran = false;  // false: another instance holds the maintenance lock
  std::vector<std::string> created, archived, dropped, indexed;
  std::int64_t archived_rows = 0;
  std::int64_t expired_default_rows = 0;  // deleted from logs_default
  std::int64_t folded_rollup_rows = 0;    // shard rows of closed days folded into shard 0
  std::int64_t tenant_expired_rows =
      0;  // deleted by a tenant's retention shorter than the kept days
};

core::Result<MaintenanceReport> maintain(Connection& connection, const MaintenanceOptions& options,
                                         core::Micros now);

}  // namespace logpipe::store
