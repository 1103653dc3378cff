// Who a request acts for: the tenant every record it writes is stored under and every read is
// scoped to, and what it may do. Set by the HTTP middleware (or a listener) before any handler
// runs; handlers never take a tenant from the request itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/record.hpp"

namespace logpipe::model {

enum class Scope : std::uint8_t { none = 0, ingest = 1, query = 2, admin = 4 };

constexpr Scope operator|(Scope a, Scope b) {
  return static_cast<Scope>(static_cast<std::uint8_t>(a) | static_cast<std::uint8_t>(b));
}
constexpr bool includes(Scope granted, Scope required) {
  return (static_cast<std::uint8_t>(granted) & static_cast<std::uint8_t>(required)) ==
         static_cast<std::uint8_t>(required);
}
// "ingest", "query", "admin"; "none" for Scope::none (routes open to everyone).
const char* to_string(Scope scope);

inline constexpr Scope kAllScopes = Scope::ingest | Scope::query | Scope::admin;

struct Principal {
  TenantId tenant = kDefaultTenant;
  std::string tenant_name = "default";
  std::string key_id;  // empty: no key (authentication off)
  Scope scopes = Scope::none;
  // The key's own rate limits; 0: the server's defaults.
  std::uint32_t requests_per_second = 0;
  std::uint32_t logs_per_second = 0;

  // auth = "none": the default tenant, allowed everything.
  static Principal unauthenticated() { return {kDefaultTenant, "default", {}, kAllScopes, 0, 0}; }
};

}  // namespace logpipe::model
