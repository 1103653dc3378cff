// What the logs are about: devices (from the rollup), services, and apps (registered, or named by
// ingest). Everything is per tenant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "model/record.hpp"
#include "query/logs.hpp"
#include "store/connection.hpp"
#include "store/forget.hpp"

namespace logpipe::query {

struct DeviceSummary {
  std::string device_id;
  core::Micros first_seen = 0, last_seen = 0;
  std::int64_t log_count = 0;
};

struct DeviceListQuery {
  model::TenantId tenant = model::kDefaultTenant;
  std::string prefix;                        // device ids starting with this
  std::optional<core::Micros> silent_since;  // only devices not seen since
  bool by_name = false;                      // sort by device id; default: last seen, newest first
  int limit = 100;
};

// Parameters: prefix, silent_for (a duration: devices last seen longer ago), sort
// (last_seen|device_id), limit (1..10000).
core::Result<DeviceListQuery> parse_device_list_query(const Params& params, model::TenantId tenant,
                                                      core::Micros now);
core::Result<std::vector<DeviceSummary>> list_devices(store::Connection& db,
                                                      const DeviceListQuery& query);

struct NamedCount {
  std::string name;
  std::int64_t log_count = 0;
};
// Services with their log counts, most logs first ("" is logs without a service).
core::Result<std::vector<NamedCount>> list_services(store::Connection& db, model::TenantId tenant);

struct App {
  std::string name;
  std::string description;
  core::Micros created_at = 0;
  std::int64_t log_count = 0;
};

// name: 1..128 bytes, no control characters; description ≤ 1000 bytes.
core::Status validate_app(const App& app);
core::Result<std::vector<App>> list_apps(store::Connection& db, model::TenantId tenant);
core::Result<App> get_app(store::Connection& db, model::TenantId tenant, const std::string& name);
// Errc::conflict when the name is taken.
core::Result<App> create_app(store::Connection& db, model::TenantId tenant, const App& app);
core::Result<App> update_app(store::Connection& db, model::TenantId tenant, const App& app);
// Deletes the app and all its logs (seed 002's cascade).
core::Result<store::Deleted> delete_app(store::Connection& db, model::TenantId tenant,
                                        const std::string& name);

}  // namespace logpipe::query
