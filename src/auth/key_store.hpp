// Tenants and API keys in PostgreSQL (migration 0005): what `logpipe keys|tenants` and
// /api/v1/keys|tenants do. Every function takes the connection to use, so that a change and its
// audit row can share a transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/keys.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "model/principal.hpp"
#include "store/connection.hpp"

namespace logpipe::auth {

struct Tenant {
  model::TenantId id = 0;
  std::string name;
  std::optional<std::int64_t> max_logs_per_day;  // nullopt: no quota
  std::optional<std::int64_t> max_bytes_per_day;
  std::optional<std::int32_t> retention_days;  // nullopt: the retention_days setting
  core::Micros created_at = 0;
};

struct KeyInfo {
  std::string id;
  model::TenantId tenant = 0;
  std::string tenant_name;
  std::string name;
  model::Scope scopes = model::Scope::none;
  std::uint32_t requests_per_second = 0;  // 0: the server's default
  std::uint32_t logs_per_second = 0;
  core::Micros created_at = 0;
  std::optional<core::Micros> expires_at;
  std::optional<core::Micros> revoked_at;
  KeyHash hash{};
};

struct NewKey {
  model::TenantId tenant = model::kDefaultTenant;
  std::string name;
  model::Scope scopes = model::Scope::none;
  std::uint32_t requests_per_second = 0;
  std::uint32_t logs_per_second = 0;
  std::optional<core::Micros> expires_at;
};

// Errc::conflict when the name is taken; invalid_argument for a bad name.
core::Result<Tenant> create_tenant(store::Connection& c, const Tenant& tenant);
core::Result<std::vector<Tenant>> list_tenants(store::Connection& c);
// Errc::not_found when there is none of that name.
core::Result<Tenant> find_tenant(store::Connection& c, std::string_view name);

// The key (in GeneratedKey::key) exists only in the answer.
core::Result<std::pair<KeyInfo, std::string>> create_key(store::Connection& c, const NewKey& spec);
// Newest first; of one tenant, or of all (nullopt). Revoked and expired ones too.
core::Result<std::vector<KeyInfo>> list_keys(store::Connection& c,
                                             std::optional<model::TenantId> tenant);
// Errc::not_found when no key of that id (in that tenant, when given) exists; revoking twice
// keeps the first time.
core::Result<KeyInfo> revoke_key(store::Connection& c, std::string_view id,
                                 std::optional<model::TenantId> tenant);
// Every key, revoked ones too (so that a refusal can say why), for the authenticator's cache.
core::Result<std::vector<KeyInfo>> load_keys(store::Connection& c);

}  // namespace logpipe::auth
