// API keys: "lpk_<id>_<secret>", where the id (12 hex digits) is public — lists, the audit log
// and revocation name a key by it — and the secret is 256 random bits in base64url. Only the
// SHA-256 of the whole key is ever stored; a key is checked by finding its row by id and
// comparing hashes in constant time.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "model/principal.hpp"

namespace logpipe::auth {

using KeyHash = std::array<std::uint8_t, 32>;

struct GeneratedKey {
  std::string id;
  std::string key;  // shown once, never stored
  KeyHash hash;
};
// From the operating system's CSPRNG; throws std::runtime_error if it fails (start-up class).
GeneratedKey generate_key();
// 256 random bits from the same CSPRNG, in base64url (43 characters): a key's secret part, an
// alert rule's signing secret. Throws as generate_key() does.
std::string random_secret();

// The id inside a key, or nullopt when `key` does not have a logpipe key's shape.
std::optional<std::string_view> key_id_of(std::string_view key);
KeyHash hash_key(std::string_view key);
bool same_hash(const KeyHash& a, const KeyHash& b);  // constant time

// "ingest,query,admin" (any order, spaces allowed) → scopes; Errc::invalid_argument naming an
// unknown one, or when none is given.
core::Result<model::Scope> parse_scopes(std::string_view list);
// "ingest,query,admin" in that order.
std::string scopes_text(model::Scope scopes);

// Tenant names: 1-63 of [a-z0-9_-], starting with a letter or digit (they travel in Loki's
// X-Scope-OrgID and in URLs).
core::Status check_tenant_name(std::string_view name);

}  // namespace logpipe::auth
