// Stores stream entries in PostgreSQL, exactly once: in ONE transaction it skips entries whose
// id is already in ingest_batches, COPYs the records of the others into `logs`, records their
// ids, and updates the rollups (`devices`, `log_counts` per minute, hour and day, `apps`). Either
// all of it commits or none.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "model/record.hpp"
#include "store/connection.hpp"

namespace logpipe::store {

struct StreamEntry {
  std::string id;                     // the Redis stream entry id, e.g. "1700000000000-0"
  std::vector<model::Batch> batches;  // one per request the entry holds

  std::size_t record_count() const;
};

struct WriteReport {
  std::size_t entries_stored = 0;
  std::size_t entries_skipped = 0;  // already stored (redelivered)
  std::size_t records_stored = 0;
  std::size_t records_rejected = 0;  // set aside by isolation
  // With WriteOptions::return_ids: the id of every stored record, in the entries' record order.
  std::vector<std::int64_t> ids;
};

// A record PostgreSQL refused for its data, with the metadata of the batch it came in.
struct RejectedRecord {
  std::string entry_id;
  model::Batch batch;  // holds just that record
  std::string error;
};

// With isolation, a batch that PostgreSQL rejects for its data (SQLSTATE classes 22/23) is
// bisected within the transaction (savepoints) down to the records at fault; those are handed to
// dead_letter BEFORE the commit (so a crash can only repeat, never lose, them) and all the other
// records are stored. If dead_letter fails, nothing commits.
struct Isolation {
  std::function<core::Status(const std::vector<RejectedRecord>&)> dead_letter;
};

struct WriteOptions {
  // The rollup shard this writer owns (rollup_shard()): writers with different shards never
  // wait on each other's rollup rows.
  int shard = 0;
  const Isolation* isolation = nullptr;
  // Draw the records' ids from the sequence first and COPY them, so the caller can name what it
  // stored (POST /data/ answers with them). Not with isolation (std::logic_error).
  bool return_ids = false;
};

core::Result<WriteReport> write_entries(Connection& connection, std::string_view stream,
                                        std::span<const StreamEntry> entries,
                                        const WriteOptions& options = {});

// The shard of a named writer (a consumer name): stable across restarts, in [0, kRollupShards).
inline constexpr int kRollupShards = 16;
int rollup_shard(std::string_view writer_name);

// Appends one record as a line of COPY text format (exposed for tests and benchmarks).
void append_copy_row(std::string& out, const model::Record& record, const model::Batch& batch);

// COPYs rows formatted by append_copy_row into `logs` (within the caller's transaction, if any).
core::Status copy_rows(Connection& connection, std::string_view rows);

// A PostgreSQL array literal ({"a","b"}) of the given texts, for `$1::text[]` parameters.
std::string array_literal(std::span<const std::string> items);

}  // namespace logpipe::store
