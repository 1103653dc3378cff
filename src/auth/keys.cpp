#include "auth/keys.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

#include "core/base64.hpp"

namespace logpipe::auth {
namespace {

constexpr std::string_view kPrefix = "lpk_";
constexpr std::size_t kIdHexDigits = 12;
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kSecretChars = 43;  // base64url of 32 bytes, unpadded

void random_bytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1)
    throw std::runtime_error("the system's random number generator failed");
}

bool is_hex(std::string_view s) {
  return s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string random_secret() {
  std::array<unsigned char, kSecretBytes> secret{};
  random_bytes(secret.data(), secret.size());
  return core::base64_encode(
      std::string_view(reinterpret_cast<const char*>(secret.data()), secret.size()),
      core::Base64::url);
}

GeneratedKey generate_key() {
  std::array<unsigned char, kIdHexDigits / 2> id_bytes{};
  random_bytes(id_bytes.data(), id_bytes.size());
  GeneratedKey k;
  for (const unsigned char b : id_bytes)
    k.id += fmt::format("{:02x}", b);
  k.key = fmt::format("{}{}_{}", kPrefix, k.id, random_secret());
  k.hash = hash_key(k.key);
  return k;
}

std::optional<std::string_view> key_id_of(std::string_view key) {
  if (key.size() != kPrefix.size() + kIdHexDigits + 1 + kSecretChars ||
      key.substr(0, kPrefix.size()) != kPrefix || key[kPrefix.size() + kIdHexDigits] != '_')
    return std::nullopt;
  const auto id = key.substr(kPrefix.size(), kIdHexDigits);
  if (!is_hex(id)) return std::nullopt;
  return id;
}

KeyHash hash_key(std::string_view key) {
  KeyHash out{};
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), out.data());
  return out;
}

bool same_hash(const KeyHash& a, const KeyHash& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

core::Result<model::Scope> parse_scopes(std::string_view list) {
  model::Scope scopes = model::Scope::none;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    while (!name.empty() && name.front() == ' ')
      name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ')
      name.remove_suffix(1);
    if (name.empty()) continue;
    if (name == "ingest") {
      scopes = scopes | model::Scope::ingest;
    } else if (name == "query") {
      scopes = scopes | model::Scope::query;
    } else if (name == "admin") {
      scopes = scopes | model::Scope::admin;
    } else {
      return core::make_error(
          core::Errc::invalid_argument,
          fmt::format("unknown scope \"{}\"; the scopes are ingest, query, admin", name));
    }
  }
  if (scopes == model::Scope::none)
    return core::make_error(core::Errc::invalid_argument,
                            "no scope: give one or more of ingest, query, admin");
  return scopes;
}

std::string scopes_text(model::Scope scopes) {
  std::string out;
  for (const auto scope : {model::Scope::ingest, model::Scope::query, model::Scope::admin}) {
    if (!model::includes(scopes, scope)) continue;
    if (!out.empty()) out += ',';
    out += model::to_string(scope);
  }
  return out;
}

core::Status check_tenant_name(std::string_view name) {
  const bool ok =
      !name.empty() && name.size() <= 63 &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string_view::npos &&
      name.front() != '-' && name.front() != '_';
  if (ok) return {};
  return core::make_error(core::Errc::invalid_argument,
                          fmt::format("tenant name \"{}\": 1-63 of a-z, 0-9, _ and -, starting "
                                      "with a letter or digit",
                                      name));
}

}  // namespace logpipe::auth
