// Alert rules (/api/v1/alerts/rules, CRUD) and their history (/api/v1/alerts/events), the HTTP
// face of `logpipe alerts`. The tenant is always the key's: another tenant's rule is a 404. A
// rule's secret is shown once, in the answer of the create (or of a PUT that rotates it), never
// by a read; every change writes its audit row in its own transaction.
#include <fmt/format.h>

#include "alerts/rule.hpp"
#include "alerts/store.hpp"
#include "api/handlers.hpp"
#include "http/query_string.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::status;

// The audit detail of a rule's change: what identifies it, never its secret.
std::string rule_audit_detail(const alerts::Rule& rule, bool secret_rotated = false) {
  core::JsonWriter w;
  w.begin_object()
      .field("id", rule.id)
      .field("name", rule.name)
      .field("kind", alerts::to_string(rule.kind))
      .field("enabled", rule.enabled);
  if (secret_rotated) w.field("secret_rotated", true);
  return w.end_object().take();
}

store::AuditEntry rule_audit_entry(store::AuditEntry entry, const alerts::Rule& rule,
                                   bool secret_rotated = false) {
  entry.target = std::to_string(rule.id);
  entry.detail = rule_audit_detail(rule, secret_rotated);
  return entry;
}

std::string rules_json(const std::vector<alerts::Rule>& rules) {
  core::JsonWriter w;
  w.begin_object().key("rules").begin_array();
  for (const auto& rule : rules)
    w.raw(alerts::rule_json(rule));
  return w.end_array().field("count", static_cast<std::int64_t>(rules.size())).end_object().take();
}

}  // namespace

void list_alert_rules(Context& ctx, http::Request& req, http::RequestContext& rc,
                      const http::Reply& reply) {
  answer_from_db(
      ctx, req, reply, "alert rule list failed",
      [tenant = rc.principal.tenant](store::Connection& c) {
        return alerts::list_rules(c, tenant);
      },
      [](const std::vector<alerts::Rule>& rules) { return rules_json(rules); });
}

void create_alert_rule(Context& ctx, http::Request& req, http::RequestContext& rc,
                       const http::Reply& reply) {
  auto rule = alerts::parse_rule(req.body(), rc.principal.tenant);
  if (!rule) return reply(http::error_response(req, rule.error()));
  answer_from_db(
      ctx, req, reply, "alert rule create failed",
      [&ctx, rule = std::move(rule).value(),
       entry = audit_entry(rc, store::audit_action::kAlertRuleCreate)](store::Connection& c) {
        return audited(
            ctx, c, [&] { return alerts::create_rule(c, rule); },
            [&](const alerts::Rule& created) { return rule_audit_entry(entry, created); });
      },
      [](const alerts::Rule& created) { return alerts::rule_json(created, true); },
      status::created);
}

void get_alert_rule(Context& ctx, http::Request& req, http::RequestContext& rc,
                    const http::Reply& reply) {
  auto id = alerts::parse_rule_id(rc.param("id"));
  if (!id) return reply(http::error_response(req, id.error()));
  answer_from_db(
      ctx, req, reply, "alert rule read failed",
      [tenant = rc.principal.tenant, id = *id](store::Connection& c) {
        return alerts::find_rule(c, tenant, id);
      },
      [](const alerts::Rule& rule) { return alerts::rule_json(rule); });
}

void update_alert_rule(Context& ctx, http::Request& req, http::RequestContext& rc,
                       const http::Reply& reply) {
  auto id = alerts::parse_rule_id(rc.param("id"));
  if (!id) return reply(http::error_response(req, id.error()));
  // Checked before the database is asked; the stored secret stays unless the body changes it.
  alerts::Rule placeholder;
  placeholder.id = *id;
  bool secret_changed = false;
  auto rule = alerts::parse_rule(req.body(), rc.principal.tenant, &placeholder, &secret_changed);
  if (!rule) return reply(http::error_response(req, rule.error()));
  using Updated = std::pair<alerts::Rule, bool>;
  answer_from_db(
      ctx, req, reply, "alert rule update failed",
      [&ctx, rule = std::move(rule).value(), secret_changed,
       entry = audit_entry(rc, store::audit_action::kAlertRuleUpdate)](
          store::Connection& c) -> core::Result<Updated> {
        return audited(
            ctx, c,
            [&]() -> core::Result<Updated> {
              auto existing = alerts::find_rule(c, rule.tenant, rule.id);
              if (!existing) return existing.error();
              alerts::Rule replacement = rule;
              if (!secret_changed) replacement.secret = existing->secret;
              auto updated = alerts::update_rule(c, replacement);
              if (!updated) return updated.error();
              return Updated{std::move(updated).value(), secret_changed};
            },
            [&](const Updated& updated) {
              return rule_audit_entry(entry, updated.first, updated.second);
            });
      },
      [](const Updated& updated) { return alerts::rule_json(updated.first, updated.second); });
}

void delete_alert_rule(Context& ctx, http::Request& req, http::RequestContext& rc,
                       const http::Reply& reply) {
  auto id = alerts::parse_rule_id(rc.param("id"));
  if (!id) return reply(http::error_response(req, id.error()));
  answer_from_db(
      ctx, req, reply, "alert rule delete failed",
      [&ctx, tenant = rc.principal.tenant, id = *id,
       entry = audit_entry(rc, store::audit_action::kAlertRuleDelete)](store::Connection& c) {
        return audited(
            ctx, c, [&] { return alerts::delete_rule(c, tenant, id); },
            [&](const alerts::Rule& gone) { return rule_audit_entry(entry, gone); });
      },
      [](const alerts::Rule& gone) {
        core::JsonWriter w;
        return w.begin_object()
            .field("deleted", gone.id)
            .field("name", gone.name)
            .end_object()
            .take();
      });
}

void list_alert_events(Context& ctx, http::Request& req, http::RequestContext& rc,
                       const http::Reply& reply) {
  auto q = alerts::parse_event_query(http::query_params(req.target()), rc.principal.tenant);
  if (!q) return reply(http::error_response(req, q.error()));
  answer_from_db(
      ctx, req, reply, "alert event list failed",
      [q = std::move(q).value()](store::Connection& c) { return alerts::find_events(c, q); },
      [](const alerts::EventPage& page) { return alerts::events_json(page); });
}

}  // namespace logpipe::api
