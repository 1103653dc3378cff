// Numbered SQL migrations (src/store/migrations/NNNN_name.sql), compiled into the binary and
// tracked in schema_migrations. Applying is idempotent and safe from several processes at once:
// a session advisory lock serialises them and each migration runs in its own transaction.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "store/connection.hpp"

namespace logpipe::store {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// All migrations, ordered by version.
std::span<const Migration> migrations();

struct MigrateReport {
  std::vector<int> applied;  // versions applied by this call
  int current_version = 0;
};

core::Result<MigrateReport> migrate(Connection& connection);

// Creates the daily partitions of `logs` for [today - days_back, today + days_ahead] (UTC).
core::Status ensure_partitions(Connection& connection, int days_back, int days_ahead);

}  // namespace logpipe::store
