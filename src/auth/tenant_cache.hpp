// The principals of tenants that a connection names itself rather than through a key: the CN of
// a syslog TLS client certificate (README "Mutual TLS for syslog"). Tenants are never renamed or
// deleted, so a tenant once found is kept for good (and a PostgreSQL outage does not stop its
// clients); a name not found is looked up again the next time, so a tenant created after
// start-up is found at its first connection, without a restart. The cache holds only tenants
// that exist: a client naming random tenants cannot grow it.
#pragma once

#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/key_store.hpp"
#include "core/result.hpp"
#include "model/principal.hpp"

namespace logpipe::auth {

// What a listener's records are stored as: the tenant, with the ingest scope and no key.
model::Principal ingest_principal(const Tenant& tenant);

class TenantCache {
 public:
  // Looks a tenant up by name (auth::find_tenant on a connection); may block.
  using Find = std::function<core::Result<Tenant>(std::string_view name)>;
  explicit TenantCache(Find find) : find_(std::move(find)) {}

  // A tenant found before, without I/O; nullopt: not known (yet).
  std::optional<model::Principal> cached(std::string_view name) const;
  // The cached principal, or `find`'s answer (kept when found). Errc::not_found for no tenant
  // of that name (a name no tenant can have is not looked up); find's errors otherwise.
  core::Result<model::Principal> lookup(std::string_view name);

 private:
  const Find find_;
  mutable std::shared_mutex mutex_;  // guards known_
  std::unordered_map<std::string, model::Principal> known_;
};

}  // namespace logpipe::auth
