// API keys and tenants (/api/v1/keys, /api/v1/tenants), the HTTP face of `logpipe keys` and
// `logpipe tenants`. Keys are managed by an admin key within its own tenant; the operator — an
// admin key of the tenant `default` (or anyone under auth = "none") — manages every tenant and
// their keys.
#include <fmt/format.h>
#include <simdjson.h>

#include "api/handlers.hpp"
#include "api/json_body.hpp"
#include "api/render.hpp"
#include "core/time.hpp"
#include "http/query_string.hpp"
#include "store/audit.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::status;

// The body of POST /api/v1/keys.
struct KeyRequest {
  auth::NewKey key;
  std::optional<std::string> tenant;  // by name; only the operator may name another tenant
};

core::Result<std::uint32_t> positive_count(std::string_view field, simdjson::dom::element value) {
  std::int64_t n = 0;
  if (value.get_int64().get(n) != simdjson::SUCCESS || n < 1 || n > 1'000'000'000)
    return field_error(field, "must be an integer from 1 to 1000000000");
  return static_cast<std::uint32_t>(n);
}

core::Result<KeyRequest> key_request(const std::string& body, core::Micros now) {
  simdjson::dom::parser parser;
  auto object = json_object_body(parser, body);
  if (!object) return object.error();
  KeyRequest r;
  bool has_scopes = false;
  for (auto [field, value] : *object) {
    std::string_view text;
    if (field == "name") {
      if (value.get_string().get(text) != simdjson::SUCCESS || text.empty() || text.size() > 200)
        return field_error(field, "must be a string of 1-200 characters");
      r.key.name = std::string(text);
    } else if (field == "tenant") {
      if (value.get_string().get(text) != simdjson::SUCCESS)
        return field_error(field, "must be a tenant's name");
      r.tenant = std::string(text);
    } else if (field == "scopes") {
      // ["ingest","query"] or "ingest,query", as the command line takes it.
      std::string list;
      simdjson::dom::array array;
      if (value.get_array().get(array) == simdjson::SUCCESS) {
        for (auto item : array) {
          if (item.get_string().get(text) != simdjson::SUCCESS)
            return field_error(field, "must be an array of scope names");
          list += std::string(text) + ",";
        }
      } else if (value.get_string().get(text) == simdjson::SUCCESS) {
        list = std::string(text);
      } else {
        return field_error(field, "must be an array of ingest, query, admin");
      }
      auto scopes = auth::parse_scopes(list);
      if (!scopes) return field_error(field, scopes.error().message);
      r.key.scopes = *scopes;
      has_scopes = true;
    } else if (field == "requests_per_second" || field == "logs_per_second") {
      auto n = positive_count(field, value);
      if (!n) return n.error();
      (field == "requests_per_second" ? r.key.requests_per_second : r.key.logs_per_second) = *n;
    } else if (field == "expires_in") {
      const auto in = value.get_string().get(text) == simdjson::SUCCESS ? core::parse_duration(text)
                                                                        : std::nullopt;
      if (!in || *in == 0)
        return field_error(field, "must be a duration such as 90d, 12h or 30m (at most 10 years)");
      r.key.expires_at = now + *in;
    } else if (field == "expires_at") {
      auto at = value.get_string().get(text) == simdjson::SUCCESS
                    ? core::parse_rfc3339(text)
                    : core::Result<core::Micros>(core::make_error(core::Errc::invalid_field, ""));
      if (!at || *at <= now) return field_error(field, "must be an RFC 3339 time in the future");
      r.key.expires_at = *at;
    } else {
      return field_error(field,
                         "is not a field of a key (name, scopes, tenant, requests_per_second, "
                         "logs_per_second, expires_in, expires_at)");
    }
  }
  if (r.key.name.empty()) return field_error("name", "is required");
  if (!has_scopes) return field_error("scopes", "is required (ingest, query, admin)");
  return r;
}

core::Result<auth::Tenant> tenant_request(const std::string& body) {
  simdjson::dom::parser parser;
  auto object = json_object_body(parser, body);
  if (!object) return object.error();
  auth::Tenant t;
  for (auto [field, value] : *object) {
    std::string_view text;
    std::int64_t n = 0;
    if (field == "name") {
      if (value.get_string().get(text) != simdjson::SUCCESS)
        return field_error(field, "must be a string");
      if (auto ok = auth::check_tenant_name(text); !ok)
        return field_error(field, ok.error().message);
      t.name = std::string(text);
    } else if (field == "max_logs_per_day" || field == "max_bytes_per_day" ||
               field == "retention_days") {
      if (value.is_null()) continue;
      if (value.get_int64().get(n) != simdjson::SUCCESS || n < 1 ||
          (field == "retention_days" && n > 36500))
        return field_error(field, "must be a positive integer, or null for none");
      if (field == "max_logs_per_day") t.max_logs_per_day = n;
      if (field == "max_bytes_per_day") t.max_bytes_per_day = n;
      if (field == "retention_days") t.retention_days = static_cast<std::int32_t>(n);
    } else {
      return field_error(field,
                         "is not a field of a tenant (name, max_logs_per_day, "
                         "max_bytes_per_day, retention_days)");
    }
  }
  if (t.name.empty()) return field_error("name", "is required");
  return t;
}

// The row of a key's creation or revocation: its id, and its tenant, name and scopes (never the
// key).
store::AuditEntry key_audit_entry(store::AuditEntry entry, const auth::KeyInfo& key) {
  entry.target = key.id;
  entry.detail = key_audit_detail(key);
  return entry;
}

}  // namespace

bool is_operator(const model::Principal& p) {
  return p.tenant == model::kDefaultTenant && model::includes(p.scopes, model::Scope::admin);
}

core::Error operator_only(std::string_view what) {
  return core::make_error(
      core::Errc::forbidden,
      fmt::format("{} needs an admin key of the tenant \"default\" (the operator's)", what));
}

void list_keys(Context& ctx, http::Request& req, http::RequestContext& rc,
               const http::Reply& reply) {
  std::optional<model::TenantId> tenant;
  if (!is_operator(rc.principal)) tenant = rc.principal.tenant;
  answer_from_db(
      ctx, req, reply, "key list failed",
      [tenant](store::Connection& c) { return auth::list_keys(c, tenant); },
      [](const std::vector<auth::KeyInfo>& keys) { return keys_json(keys, core::now_micros()); });
}

void create_key(Context& ctx, http::Request& req, http::RequestContext& rc,
                const http::Reply& reply) {
  const core::Micros now = core::now_micros();
  auto request = key_request(req.body(), now);
  if (!request) return reply(http::error_response(req, request.error()));
  const bool other_tenant = request->tenant && *request->tenant != rc.principal.tenant_name;
  if (other_tenant && !is_operator(rc.principal))
    return reply(http::error_response(req, operator_only("a key of another tenant")));
  request->key.tenant = rc.principal.tenant;
  using Created = std::pair<auth::KeyInfo, std::string>;
  answer_from_db(
      ctx, req, reply, "key create failed",
      [&ctx, r = std::move(request).value(), other_tenant,
       entry = audit_entry(rc, store::audit_action::kKeyCreate)](
          store::Connection& c) -> core::Result<Created> {
        auth::NewKey spec = r.key;
        if (other_tenant) {
          auto tenant = auth::find_tenant(c, *r.tenant);
          if (!tenant) return tenant.error();
          spec.tenant = tenant->id;
        }
        return audited(
            ctx, c, [&] { return auth::create_key(c, spec); },
            [&](const Created& created) { return key_audit_entry(entry, created.first); });
      },
      [&ctx, now](const Created& created) {
        if (ctx.authenticator) ctx.authenticator->put(created.first);
        return key_json(created.first, now, created.second);
      },
      status::created);
}

void revoke_key(Context& ctx, http::Request& req, http::RequestContext& rc,
                const http::Reply& reply) {
  std::optional<model::TenantId> tenant;
  if (!is_operator(rc.principal)) tenant = rc.principal.tenant;
  answer_from_db(
      ctx, req, reply, "key revoke failed",
      [&ctx, tenant, id = std::string(rc.param("id")),
       entry = audit_entry(rc, store::audit_action::kKeyRevoke)](store::Connection& c) {
        return audited(
            ctx, c, [&] { return auth::revoke_key(c, id, tenant); },
            [&](const auth::KeyInfo& revoked) { return key_audit_entry(entry, revoked); });
      },
      [&ctx](const auth::KeyInfo& revoked) {
        if (ctx.authenticator) ctx.authenticator->put(revoked);
        return key_json(revoked, core::now_micros());
      });
}

void list_tenants(Context& ctx, http::Request& req, http::RequestContext& rc,
                  const http::Reply& reply) {
  if (!is_operator(rc.principal))
    return reply(http::error_response(req, operator_only("listing tenants")));
  answer_from_db(
      ctx, req, reply, "tenant list failed",
      [](store::Connection& c) { return auth::list_tenants(c); },
      [](const std::vector<auth::Tenant>& tenants) { return tenants_json(tenants); });
}

void create_tenant(Context& ctx, http::Request& req, http::RequestContext& rc,
                   const http::Reply& reply) {
  if (!is_operator(rc.principal))
    return reply(http::error_response(req, operator_only("creating a tenant")));
  auto tenant = tenant_request(req.body());
  if (!tenant) return reply(http::error_response(req, tenant.error()));
  answer_from_db(
      ctx, req, reply, "tenant create failed",
      [&ctx, t = std::move(tenant).value(),
       entry = audit_entry(rc, store::audit_action::kTenantCreate)](store::Connection& c) {
        return audited(
            ctx, c, [&] { return auth::create_tenant(c, t); },
            [&](const auth::Tenant& created) {
              auto e = entry;
              e.target = created.name;
              e.detail = tenant_json(created);
              return e;
            });
      },
      [](const auth::Tenant& created) { return tenant_json(created); }, status::created);
}

}  // namespace logpipe::api
