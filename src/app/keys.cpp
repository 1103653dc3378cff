// `logpipe keys` and `logpipe tenants`: the operator's tools, straight on PostgreSQL (no running
// server needed). The same operations as /api/v1/keys and /api/v1/tenants.
#include <fmt/format.h>

#include <charconv>

#include "api/render.hpp"
#include "app/commands.hpp"
#include "app/database.hpp"
#include "auth/key_store.hpp"
#include "core/time.hpp"
#include "store/audit.hpp"
#include "store/connection.hpp"

namespace logpipe::app {
namespace {

int fail(std::string_view message) {
  fmt::print(stderr, "logpipe: {}\n", message);
  return 1;
}

int usage(std::string_view message) {
  fmt::print(stderr, "logpipe: {}\n", message);
  return 2;
}

// "5000", "5000/s" → 5000; 0 for "" (the server's default).
core::Result<std::uint32_t> per_second(std::string_view flag, std::string_view text) {
  if (text.empty()) return 0U;
  if (text.size() > 2 && text.substr(text.size() - 2) == "/s") text.remove_suffix(2);
  std::uint32_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0)
    return core::make_error(core::Errc::invalid_argument,
                            fmt::format("{} must be a positive rate such as 5000/s", flag));
  return n;
}

std::string when(const std::optional<core::Micros>& t) {
  return t ? core::format_rfc3339(*t).substr(0, 19) + "Z" : "-";
}

// A key's audit row from the command line: in the key's tenant, naming the key (never the key).
store::AuditEntry key_audit(std::string_view action, const auth::KeyInfo& key) {
  return store::command_line_audit_entry(action, key.id, api::key_audit_detail(key), key.tenant);
}

}  // namespace

int keys_create(const config::Settings& s, const KeyCreateOptions& o) {
  auto scopes = auth::parse_scopes(o.scopes);
  if (!scopes) return usage("--scopes: " + scopes.error().message);
  auth::NewKey spec;
  spec.name = o.name;
  spec.scopes = *scopes;
  auto rate = per_second("--rate", o.rate);
  if (!rate) return usage(rate.error().message);
  spec.requests_per_second = *rate;
  auto logs_rate = per_second("--logs-rate", o.logs_rate);
  if (!logs_rate) return usage(logs_rate.error().message);
  spec.logs_per_second = *logs_rate;
  const core::Micros now = core::now_micros();
  if (!o.expires.empty()) {
    const auto in = core::parse_duration(o.expires);
    if (!in || *in == 0) return usage("--expires must be a duration such as 90d, 12h or 30m");
    spec.expires_at = now + *in;
  }
  auto db = open_database(s);
  if (!db) return fail(db.error().message);
  auto tenant = auth::find_tenant(*db, o.tenant);
  if (!tenant) return fail(tenant.error().message);
  spec.tenant = tenant->id;
  auto created =
      store::in_transaction(*db, [&]() -> core::Result<std::pair<auth::KeyInfo, std::string>> {
        auto made = auth::create_key(*db, spec);
        if (!made) return made;
        if (auto ok =
                store::append_audit(*db, key_audit(store::audit_action::kKeyCreate, made->first));
            !ok)
          return ok.error();
        return made;
      });
  if (!created) return fail(created.error().message);
  if (o.json) {
    fmt::print("{}\n", api::key_json(created->first, now, created->second));
  } else {
    fmt::print("{}\n", created->second);
    fmt::print(stderr,
               "key {} for tenant {} ({}): store it now, it is not shown again; send it as "
               "X-API-Key or Authorization: Bearer\n",
               created->first.id, tenant->name, auth::scopes_text(spec.scopes));
  }
  return 0;
}

int keys_list(const config::Settings& s, const std::string& tenant, bool json) {
  auto db = open_database(s);
  if (!db) return fail(db.error().message);
  std::optional<model::TenantId> id;
  if (!tenant.empty()) {
    auto found = auth::find_tenant(*db, tenant);
    if (!found) return fail(found.error().message);
    id = found->id;
  }
  auto keys = auth::list_keys(*db, id);
  if (!keys) return fail(keys.error().message);
  const core::Micros now = core::now_micros();
  if (json) {
    fmt::print("{}\n", api::keys_json(*keys, now));
    return 0;
  }
  fmt::print("{:<12}  {:<16}  {:<20}  {:<18}  {:<20}  {:<20}  {}\n", "ID", "TENANT", "NAME",
             "SCOPES", "CREATED", "EXPIRES", "STATUS");
  for (const auto& k : *keys) {
    const char* status = k.revoked_at                           ? "revoked"
                         : k.expires_at && *k.expires_at <= now ? "expired"
                                                                : "active";
    fmt::print("{:<12}  {:<16}  {:<20}  {:<18}  {:<20}  {:<20}  {}\n", k.id, k.tenant_name, k.name,
               auth::scopes_text(k.scopes), when(k.created_at), when(k.expires_at), status);
  }
  return 0;
}

int keys_revoke(const config::Settings& s, const std::vector<std::string>& ids) {
  auto db = open_database(s);
  if (!db) return fail(db.error().message);
  int code = 0;
  for (const auto& id : ids) {
    auto revoked = store::in_transaction(*db, [&]() -> core::Result<auth::KeyInfo> {
      auto done = auth::revoke_key(*db, id, std::nullopt);
      if (!done) return done;
      if (auto ok = store::append_audit(*db, key_audit(store::audit_action::kKeyRevoke, *done));
          !ok)
        return ok.error();
      return done;
    });
    if (!revoked) {
      fmt::print(stderr, "logpipe: {}\n", revoked.error().message);
      code = 1;
      continue;
    }
    fmt::print("revoked {} ({} of tenant {}); running servers refuse it within auth_refresh\n",
               revoked->id, revoked->name, revoked->tenant_name);
  }
  return code;
}

int tenants_create(const config::Settings& s, const auth::Tenant& tenant, bool json) {
  if (auto ok = auth::check_tenant_name(tenant.name); !ok) return usage(ok.error().message);
  auto db = open_database(s);
  if (!db) return fail(db.error().message);
  auto created = store::in_transaction(*db, [&]() -> core::Result<auth::Tenant> {
    auto made = auth::create_tenant(*db, tenant);
    if (!made) return made;
    if (auto ok = store::append_audit(
            *db, store::command_line_audit_entry(store::audit_action::kTenantCreate, made->name,
                                                 api::tenant_json(*made)));
        !ok)
      return ok.error();
    return made;
  });
  if (!created) return fail(created.error().message);
  if (json) {
    fmt::print("{}\n", api::tenant_json(*created));
  } else {
    fmt::print("created tenant {} (id {})\n", created->name, created->id);
  }
  return 0;
}

int tenants_list(const config::Settings& s, bool json) {
  auto db = open_database(s);
  if (!db) return fail(db.error().message);
  auto tenants = auth::list_tenants(*db);
  if (!tenants) return fail(tenants.error().message);
  if (json) {
    fmt::print("{}\n", api::tenants_json(*tenants));
    return 0;
  }
  const auto limit = [](const auto& v) { return v ? std::to_string(*v) : std::string("-"); };
  fmt::print("{:<6}  {:<20}  {:<16}  {:<16}  {:<10}  {}\n", "ID", "NAME", "LOGS/DAY", "BYTES/DAY",
             "RETENTION", "CREATED");
  for (const auto& t : *tenants)
    fmt::print("{:<6}  {:<20}  {:<16}  {:<16}  {:<10}  {}\n", t.id, t.name,
               limit(t.max_logs_per_day), limit(t.max_bytes_per_day),
               t.retention_days ? fmt::format("{}d", *t.retention_days) : "-", when(t.created_at));
  return 0;
}

}  // namespace logpipe::app
