#include "store/migrations.hpp"

#include <fmt/format.h>

#include <set>

namespace logpipe::store {

namespace embedded {
// Generated from migrations/*.sql by CMake (see CMakeLists.txt).
extern const Migration kMigrations[];
extern const std::size_t kMigrationCount;
}  // namespace embedded

std::span<const Migration> migrations() {
  return {embedded::kMigrations, embedded::kMigrationCount};
}

namespace {

// Arbitrary but fixed: every logpipe process contends for the same advisory lock.
constexpr const char* kLockKey = "7346017263301";

core::Result<std::set<int>> applied_versions(Connection& c) {
  auto rows = c.query("SELECT version FROM schema_migrations");
  if (!rows) return rows.error();
  std::set<int> versions;
  for (int i = 0; i < rows->size(); ++i)
    versions.insert(static_cast<int>(rows->get_int(i, 0)));
  return versions;
}

core::Result<MigrateReport> migrate_locked(Connection& c) {
  if (auto s = c.exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version integer PRIMARY KEY,"
                      " name text NOT NULL,"
                      " applied_at timestamptz NOT NULL DEFAULT now())");
      !s)
    return s.error();
  auto done = applied_versions(c);
  if (!done) return done.error();
  MigrateReport report;
  for (const Migration& m : migrations()) {
    if (done->count(m.version)) {
      report.current_version = m.version;
      continue;
    }
    auto applied = in_transaction(c, [&]() -> core::Status {
      if (auto s = c.exec(m.sql); !s) {
        return core::make_error(s.error().code, fmt::format("migration {:04}_{}: {}", m.version,
                                                            m.name, s.error().message));
      }
      auto r = c.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                       {std::to_string(m.version), std::string(m.name)});
      if (!r) return r.error();
      return {};
    });
    if (!applied) return applied.error();
    report.applied.push_back(m.version);
    report.current_version = m.version;
  }
  return report;
}

}  // namespace

core::Result<MigrateReport> migrate(Connection& c) {
  if (auto r = c.query(fmt::format("SELECT pg_advisory_lock({})", kLockKey)); !r) return r.error();
  auto report = migrate_locked(c);
  (void)c.query(fmt::format("SELECT pg_advisory_unlock({})", kLockKey));
  return report;
}

core::Status ensure_partitions(Connection& c, int days_back, int days_ahead) {
  auto r = c.query(
      "SELECT logpipe_ensure_partitions((now() AT TIME ZONE 'UTC')::date - $1::int,"
      " (now() AT TIME ZONE 'UTC')::date + $2::int)",
      {std::to_string(days_back), std::to_string(days_ahead)});
  if (!r) return r.error();
  return {};
}

}  // namespace logpipe::store
