// The commands' connection to PostgreSQL (migrate, keys, tenants, dlq, audit, import…).
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "config/settings.hpp"
#include "core/result.hpp"
#include "store/connection.hpp"

namespace logpipe::app {

// store::Connection::open on database_url. Refused, when nothing named the database and this is
// a checkout where `make run` keeps its private services, the error says how to reach those: the
// CLI does not read var/services.env by itself (a command run elsewhere must not pick up a
// development database by accident).
inline core::Result<store::Connection> open_database(
    const config::Settings& s, std::chrono::seconds timeout = std::chrono::seconds(5)) {
  auto db = store::Connection::open(s.database_url, timeout);
  if (db || db.error().code != core::Errc::unavailable) return db;
  std::error_code ec;
  if (std::getenv("LOGPIPE_DATABASE_URL") != nullptr ||
      !std::filesystem::exists("var/services.env", ec))
    return db;
  return core::make_error(
      core::Errc::unavailable,
      db.error().message +
          " (make run's private PostgreSQL is named in var/services.env: set -a; . "
          "var/services.env; set +a)");
}

}  // namespace logpipe::app
