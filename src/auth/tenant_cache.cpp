#include "auth/tenant_cache.hpp"

#include <fmt/format.h>

#include <mutex>

#include "auth/keys.hpp"

namespace logpipe::auth {

model::Principal ingest_principal(const Tenant& tenant) {
  model::Principal p;
  p.tenant = tenant.id;
  p.tenant_name = tenant.name;
  p.scopes = model::Scope::ingest;
  return p;
}

std::optional<model::Principal> TenantCache::cached(std::string_view name) const {
  std::shared_lock lock(mutex_);
  const auto found = known_.find(std::string(name));
  if (found == known_.end()) return std::nullopt;
  return found->second;
}

core::Result<model::Principal> TenantCache::lookup(std::string_view name) {
  if (auto hit = cached(name)) return *hit;
  if (!check_tenant_name(name))
    return core::make_error(core::Errc::not_found, fmt::format("no tenant named \"{}\"", name));
  auto tenant = find_(name);
  if (!tenant) return tenant.error();
  auto principal = ingest_principal(*tenant);
  std::unique_lock lock(mutex_);
  known_.insert_or_assign(tenant->name, principal);
  return principal;
}

}  // namespace logpipe::auth
