// Stores stream entries in PostgreSQL, exactly once: in ONE transaction it skips entries whose
// id is already in ingest_batches, COPYs the records of the others into `logs`, records their
// ids, and updates the `devices` and `log_counts` rollups. Either all of it commits or none.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "ingest/record.hpp"
#include "store/connection.hpp"

namespace logpipe::store {

struct StreamEntry {
  std::string id;                      // the Redis stream entry id, e.g. "1700000000000-0"
  std::vector<ingest::Batch> batches;  // one per request the entry holds

  std::size_t record_count() const;
};

struct WriteReport {
  std::size_t entries_stored = 0;
  std::size_t entries_skipped = 0;  // already stored (redelivered)
  std::size_t records_stored = 0;
};

core::Result<WriteReport> write_entries(Connection& connection, std::string_view stream,
                                        std::span<const StreamEntry> entries);

// Appends one record as a line of COPY text format (exposed for tests and benchmarks).
void append_copy_row(std::string& out, const ingest::Record& record, const ingest::Batch& batch);

// COPYs rows formatted by append_copy_row into `logs` (within the caller's transaction, if any).
core::Status copy_rows(Connection& connection, std::string_view rows);

// A PostgreSQL array literal ({"a","b"}) of the given texts, for `$1::text[]` parameters.
std::string array_literal(std::span<const std::string> items);

}  // namespace logpipe::store
