#include "auth/key_store.hpp"

#include <fmt/format.h>

namespace logpipe::auth {
namespace {

constexpr std::string_view kTenantColumns =
    "id, name, max_logs_per_day, max_bytes_per_day, retention_days, "
    "(extract(epoch FROM created_at) * 1000000)::bigint";

constexpr std::string_view kKeyColumns =
    "k.id, k.tenant_id, t.name, k.name, array_to_string(k.scopes, ','), "
    "coalesce(k.requests_per_second, 0), coalesce(k.logs_per_second, 0), "
    "(extract(epoch FROM k.created_at) * 1000000)::bigint, "
    "(extract(epoch FROM k.expires_at) * 1000000)::bigint, "
    "(extract(epoch FROM k.revoked_at) * 1000000)::bigint, encode(k.hash, 'hex')";

std::optional<std::int64_t> optional_int(const store::Rows& rows, int row, int column) {
  if (rows.is_null(row, column)) return std::nullopt;
  return rows.get_int(row, column);
}

Tenant tenant_at(const store::Rows& rows, int row) {
  Tenant t;
  t.id = static_cast<model::TenantId>(rows.get_int(row, 0));
  t.name = rows.get(row, 1);
  t.max_logs_per_day = optional_int(rows, row, 2);
  t.max_bytes_per_day = optional_int(rows, row, 3);
  if (auto days = optional_int(rows, row, 4)) t.retention_days = static_cast<std::int32_t>(*days);
  t.created_at = rows.get_int(row, 5);
  return t;
}

KeyInfo key_at(const store::Rows& rows, int row) {
  KeyInfo k;
  k.id = rows.get(row, 0);
  k.tenant = static_cast<model::TenantId>(rows.get_int(row, 1));
  k.tenant_name = rows.get(row, 2);
  k.name = rows.get(row, 3);
  // Stored by create_key from parse_scopes' output: always valid.
  if (auto scopes = parse_scopes(rows.get(row, 4))) k.scopes = *scopes;
  k.requests_per_second = static_cast<std::uint32_t>(rows.get_int(row, 5));
  k.logs_per_second = static_cast<std::uint32_t>(rows.get_int(row, 6));
  k.created_at = rows.get_int(row, 7);
  k.expires_at = optional_int(rows, row, 8);
  k.revoked_at = optional_int(rows, row, 9);
  const auto hex = rows.get(row, 10);
  for (std::size_t i = 0; i < k.hash.size() && 2 * i + 1 < hex.size(); ++i)
    k.hash[i] =
        static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  return k;
}

std::optional<std::string> text_of(const std::optional<std::int64_t>& v) {
  if (!v) return std::nullopt;
  return std::to_string(*v);
}

std::optional<std::string> positive_or_null(std::uint32_t v) {
  if (v == 0) return std::nullopt;
  return std::to_string(v);
}

std::string hex_of(const KeyHash& hash) {
  std::string out;
  for (const auto b : hash)
    out += fmt::format("{:02x}", b);
  return out;
}

}  // namespace

core::Result<Tenant> create_tenant(store::Connection& c, const Tenant& tenant) {
  if (auto ok = check_tenant_name(tenant.name); !ok) return ok.error();
  auto rows =
      c.query(fmt::format("INSERT INTO tenants (name, max_logs_per_day, max_bytes_per_day, "
                          "retention_days) VALUES ($1, $2, $3, $4) "
                          "ON CONFLICT (name) DO NOTHING RETURNING {}",
                          kTenantColumns),
              {tenant.name, text_of(tenant.max_logs_per_day), text_of(tenant.max_bytes_per_day),
               text_of(tenant.retention_days ? std::optional<std::int64_t>(*tenant.retention_days)
                                             : std::nullopt)});
  if (!rows) return rows.error();
  if (rows->size() == 0)
    return core::make_error(core::Errc::conflict,
                            fmt::format("a tenant named \"{}\" exists already", tenant.name));
  return tenant_at(*rows, 0);
}

core::Result<std::vector<Tenant>> list_tenants(store::Connection& c) {
  auto rows = c.query(fmt::format("SELECT {} FROM tenants ORDER BY id", kTenantColumns));
  if (!rows) return rows.error();
  std::vector<Tenant> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(tenant_at(*rows, i));
  return out;
}

core::Result<Tenant> find_tenant(store::Connection& c, std::string_view name) {
  auto rows = c.query(fmt::format("SELECT {} FROM tenants WHERE name = $1", kTenantColumns),
                      {std::string(name)});
  if (!rows) return rows.error();
  if (rows->size() == 0)
    return core::make_error(core::Errc::not_found, fmt::format("no tenant named \"{}\"", name));
  return tenant_at(*rows, 0);
}

core::Result<std::pair<KeyInfo, std::string>> create_key(store::Connection& c, const NewKey& spec) {
  if (spec.name.empty() || spec.name.size() > 200)
    return core::make_error(core::Errc::invalid_argument, "a key's name is 1-200 characters");
  if (spec.scopes == model::Scope::none)
    return core::make_error(core::Errc::invalid_argument,
                            "no scope: give one or more of ingest, query, admin");
  auto generated = generate_key();
  auto rows =
      c.query(fmt::format("WITH k AS (INSERT INTO api_keys (id, tenant_id, name, hash, scopes, "
                          "requests_per_second, logs_per_second, expires_at) VALUES ($1, $2, $3, "
                          "decode($4, 'hex'), string_to_array($5, ','), $6, $7, "
                          "to_timestamp($8::double precision / 1000000)) RETURNING *) "
                          "SELECT {} FROM k JOIN tenants t ON t.id = k.tenant_id",
                          kKeyColumns),
              {generated.id, std::to_string(spec.tenant), spec.name, hex_of(generated.hash),
               scopes_text(spec.scopes), positive_or_null(spec.requests_per_second),
               positive_or_null(spec.logs_per_second), text_of(spec.expires_at)});
  if (!rows) {
    // The tenant's foreign key: the only data error an insert of valid fields can meet.
    if (rows.error().code == core::Errc::invalid_field)
      return core::make_error(core::Errc::not_found,
                              fmt::format("no tenant with id {}", spec.tenant));
    return rows.error();
  }
  return std::pair{key_at(*rows, 0), std::move(generated.key)};
}

core::Result<std::vector<KeyInfo>> list_keys(store::Connection& c,
                                             std::optional<model::TenantId> tenant) {
  auto rows =
      c.query(fmt::format("SELECT {} FROM api_keys k JOIN tenants t ON t.id = k.tenant_id "
                          "WHERE $1::integer IS NULL OR k.tenant_id = $1 "
                          "ORDER BY k.created_at DESC, k.id",
                          kKeyColumns),
              {tenant ? std::optional<std::string>(std::to_string(*tenant)) : std::nullopt});
  if (!rows) return rows.error();
  std::vector<KeyInfo> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(key_at(*rows, i));
  return out;
}

core::Result<KeyInfo> revoke_key(store::Connection& c, std::string_view id,
                                 std::optional<model::TenantId> tenant) {
  auto rows =
      c.query(fmt::format("WITH k AS (UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
                          "WHERE id = $1 AND ($2::integer IS NULL OR tenant_id = $2) RETURNING *) "
                          "SELECT {} FROM k JOIN tenants t ON t.id = k.tenant_id",
                          kKeyColumns),
              {std::string(id),
               tenant ? std::optional<std::string>(std::to_string(*tenant)) : std::nullopt});
  if (!rows) return rows.error();
  if (rows->size() == 0)
    return core::make_error(core::Errc::not_found, fmt::format("no key with id \"{}\"", id));
  return key_at(*rows, 0);
}

core::Result<std::vector<KeyInfo>> load_keys(store::Connection& c) {
  auto rows = c.query(
      fmt::format("SELECT {} FROM api_keys k JOIN tenants t ON t.id = k.tenant_id", kKeyColumns));
  if (!rows) return rows.error();
  std::vector<KeyInfo> out;
  out.reserve(static_cast<std::size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(key_at(*rows, i));
  return out;
}

}  // namespace logpipe::auth
