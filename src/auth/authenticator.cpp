#include "auth/authenticator.hpp"

#include <mutex>

#include "core/base64.hpp"
#include "core/comma_list.hpp"

namespace logpipe::auth {
namespace {

bool starts_with_scheme(std::string_view value, std::string_view scheme, std::string_view& rest) {
  if (value.size() <= scheme.size() || value[scheme.size()] != ' ') return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != scheme[i]) return false;
  }
  rest = value.substr(scheme.size() + 1);
  while (!rest.empty() && rest.front() == ' ')
    rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ')
    rest.remove_suffix(1);
  return true;
}

// The part after the first ':' of base64 "a:b", or the decoded text itself without one.
std::optional<std::string> after_colon(std::string_view encoded) {
  auto decoded = core::base64_decode(encoded);
  if (!decoded) return std::nullopt;
  const auto colon = decoded->find(':');
  return colon == std::string::npos ? *decoded : decoded->substr(colon + 1);
}

}  // namespace

std::optional<std::string> key_from_headers(std::string_view x_api_key,
                                            std::string_view authorization) {
  if (!x_api_key.empty()) return std::string(x_api_key);
  std::string_view rest;
  if (starts_with_scheme(authorization, "bearer", rest) ||
      starts_with_scheme(authorization, "splunk", rest))
    return std::string(rest);
  if (starts_with_scheme(authorization, "basic", rest)) return after_colon(rest);
  if (starts_with_scheme(authorization, "apikey", rest)) {
    // The clients send an encoded "id:key" pair, or the string they were given as is.
    if (key_id_of(rest)) return std::string(rest);
    return after_colon(rest);
  }
  return std::nullopt;
}

std::optional<std::string> key_from_websocket_protocols(std::string_view offered) {
  constexpr std::string_view kKeyProtocol = "logpipe.key.";
  for (const auto entry : core::comma_list(offered)) {
    if (entry.size() > kKeyProtocol.size() && entry.substr(0, kKeyProtocol.size()) == kKeyProtocol)
      return std::string(entry.substr(kKeyProtocol.size()));
  }
  return std::nullopt;
}

std::string_view Authenticator::to_string(Refusal refusal) {
  switch (refusal) {
    case Refusal::unknown:
      return "unknown";
    case Refusal::revoked:
      return "revoked";
    case Refusal::expired:
      return "expired";
    case Refusal::not_loaded:
      return "not_loaded";
  }
  return "unknown";
}

core::Result<model::Principal> Authenticator::authenticate(std::string_view key, core::Micros now,
                                                           Refusal& why) const {
  std::shared_ptr<const Map> keys;
  {
    std::shared_lock lock(mutex_);
    keys = keys_;
  }
  const auto refuse = [&why](Refusal r) {
    why = r;
    return core::make_error(core::Errc::unauthenticated, "unknown, revoked or expired API key");
  };
  if (!keys) {
    why = Refusal::not_loaded;
    return core::make_error(core::Errc::unavailable,
                            "the API keys are not loaded yet (PostgreSQL unavailable)");
  }
  const auto id = key_id_of(key);
  // The hash is computed for every key, a well-formed one or not, so that the answer's timing
  // does not tell an existing id from an unknown one.
  const KeyHash hash = hash_key(key);
  if (!id) return refuse(Refusal::unknown);
  const auto it = keys->find(std::string(*id));
  if (it == keys->end() || !same_hash(it->second.hash, hash)) return refuse(Refusal::unknown);
  const KeyInfo& k = it->second;
  if (k.revoked_at) return refuse(Refusal::revoked);
  if (k.expires_at && *k.expires_at <= now) return refuse(Refusal::expired);
  model::Principal p;
  p.tenant = k.tenant;
  p.tenant_name = k.tenant_name;
  p.key_id = k.id;
  p.scopes = k.scopes;
  p.requests_per_second = k.requests_per_second;
  p.logs_per_second = k.logs_per_second;
  return p;
}

void Authenticator::replace(const std::vector<KeyInfo>& keys) {
  auto map = std::make_shared<Map>();
  for (const auto& k : keys)
    map->emplace(k.id, k);
  std::unique_lock lock(mutex_);
  keys_ = std::move(map);
}

void Authenticator::put(const KeyInfo& key) {
  std::unique_lock lock(mutex_);
  auto map = keys_ ? std::make_shared<Map>(*keys_) : std::make_shared<Map>();
  (*map)[key.id] = key;
  keys_ = std::move(map);
}

bool Authenticator::loaded() const {
  std::shared_lock lock(mutex_);
  return keys_ != nullptr;
}

std::size_t Authenticator::size() const {
  std::shared_lock lock(mutex_);
  return keys_ ? keys_->size() : 0;
}

}  // namespace logpipe::auth
