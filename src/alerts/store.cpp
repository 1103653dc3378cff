#include "alerts/store.hpp"

#include <fmt/format.h>

#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace logpipe::alerts {
namespace {

using core::Errc;

// A stored rule comes back as the body a PUT would send (secret included) and goes through
// parse_rule: one mapping from JSON to Rule, and a stored rule is a valid one.
constexpr std::string_view kRuleColumns =
    "SELECT id, tenant_id, json_build_object('name', name, 'kind', kind, 'filter', filter, "
    "'threshold', threshold, 'window_seconds', window_seconds, 'group_by', group_by, "
    "'cooldown_seconds', cooldown_seconds, 'notify', notify, 'secret', secret, 'enabled', "
    "enabled, 'labels', labels)::text, (extract(epoch FROM created_at) * 1000000)::bigint, "
    "(extract(epoch FROM updated_at) * 1000000)::bigint FROM alert_rules";

core::Result<std::vector<Rule>> read_rules(const store::Rows& rows) {
  std::vector<Rule> rules;
  for (int i = 0; i < rows.size(); ++i) {
    const auto tenant = static_cast<model::TenantId>(rows.get_int(i, 1));
    auto rule = parse_rule(rows.get(i, 2), tenant);
    if (!rule)
      return core::make_error(Errc::internal, fmt::format("stored alert rule {} is not valid: {}",
                                                          rows.get(i, 0), rule.error().message));
    rule->id = rows.get_int(i, 0);
    rule->created_at = rows.get_int(i, 3);
    rule->updated_at = rows.get_int(i, 4);
    rules.push_back(std::move(rule).value());
  }
  return rules;
}

core::Error rule_not_found(std::int64_t id) {
  return core::make_error(Errc::not_found, fmt::format("no alert rule with id {}", id));
}

core::Error name_taken(std::string_view name) {
  return core::make_error(Errc::conflict,
                          fmt::format("an alert rule named \"{}\" exists already", name));
}

std::string group_by_array(const std::vector<std::string>& names) {
  // The names are of kGroupByFields: nothing to quote.
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i)
    out += (i ? "," : "") + names[i];
  return out + "}";
}

// The columns a create or update writes, from $3 on ($1 tenant, $2 name or id).
store::Params rule_values(const Rule& r) {
  return {std::string(to_string(r.kind)),
          r.filter_json,
          r.threshold ? std::optional<std::string>(std::to_string(*r.threshold)) : std::nullopt,
          std::to_string(r.window_seconds),
          group_by_array(r.group_by),
          std::to_string(r.cooldown_seconds),
          targets_json(r.notify),
          r.secret,
          r.enabled ? "true" : "false",
          labels_json(r.labels)};
}

std::optional<std::string> time_param(core::Micros at) {
  if (at == 0) return std::nullopt;
  return core::format_rfc3339(at);
}

// An episode's columns as read_events takes them, for SELECT and RETURNING alike.
constexpr std::string_view kEventFields =
    "id, tenant_id, rule_id, rule_name, group_labels::text, state, "
    "(extract(epoch FROM fired_at) * 1000000)::bigint, "
    "(extract(epoch FROM resolved_at) * 1000000)::bigint, count, sample::text, "
    "(extract(epoch FROM last_notified_at) * 1000000)::bigint";

std::vector<Event> read_events(const store::Rows& rows, int max = -1) {
  std::vector<Event> events;
  for (int i = 0; i < rows.size() && (max < 0 || i < max); ++i) {
    Event& e = events.emplace_back();
    e.id = rows.get_int(i, 0);
    e.tenant = static_cast<model::TenantId>(rows.get_int(i, 1));
    if (!rows.is_null(i, 2)) e.rule_id = rows.get_int(i, 2);
    e.rule_name = rows.get(i, 3);
    e.group_labels_json = rows.get(i, 4);
    e.state = rows.get(i, 5) == "resolved" ? State::resolved : State::firing;
    e.fired_at = rows.get_int(i, 6);
    if (!rows.is_null(i, 7)) e.resolved_at = rows.get_int(i, 7);
    e.count = rows.get_int(i, 8);
    if (!rows.is_null(i, 9)) e.sample_json = std::string(rows.get(i, 9));
    if (!rows.is_null(i, 10)) e.last_notified_at = rows.get_int(i, 10);
  }
  return events;
}

void optional_time(core::JsonWriter& w, std::string_view name,
                   const std::optional<core::Micros>& at) {
  w.key(name);
  if (at) {
    w.value(core::format_rfc3339(*at));
  } else {
    w.null();
  }
}

}  // namespace

core::Result<Rule> create_rule(store::Connection& db, const Rule& rule) {
  store::Params params{std::to_string(rule.tenant), rule.name};
  auto values = rule_values(rule);
  params.insert(params.end(), values.begin(), values.end());
  auto rows = db.query(
      "INSERT INTO alert_rules (tenant_id, name, kind, filter, threshold, window_seconds, "
      "group_by, cooldown_seconds, notify, secret, enabled, labels) VALUES ($1, $2, $3, "
      "$4::jsonb, $5::bigint, $6::integer, $7::text[], $8::integer, $9::jsonb, $10, "
      "$11::boolean, $12::jsonb) ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id, "
      "(extract(epoch FROM created_at) * 1000000)::bigint",
      params);
  if (!rows) return rows.error();
  if (rows->size() == 0) return name_taken(rule.name);
  Rule created = rule;
  created.id = rows->get_int(0, 0);
  created.created_at = created.updated_at = rows->get_int(0, 1);
  return created;
}

core::Result<std::vector<Rule>> list_rules(store::Connection& db, model::TenantId tenant) {
  auto rows = db.query(fmt::format("{} WHERE tenant_id = $1 ORDER BY id", kRuleColumns),
                       {std::to_string(tenant)});
  if (!rows) return rows.error();
  return read_rules(*rows);
}

core::Result<Rule> find_rule(store::Connection& db, model::TenantId tenant, std::int64_t id) {
  auto rows = db.query(fmt::format("{} WHERE tenant_id = $1 AND id = $2", kRuleColumns),
                       {std::to_string(tenant), std::to_string(id)});
  if (!rows) return rows.error();
  auto rules = read_rules(*rows);
  if (!rules) return rules.error();
  if (rules->empty()) return rule_not_found(id);
  return std::move(rules->front());
}

core::Result<Rule> update_rule(store::Connection& db, const Rule& rule) {
  return store::in_transaction(db, [&]() -> core::Result<Rule> {
    auto taken =
        db.query("SELECT 1 FROM alert_rules WHERE tenant_id = $1 AND name = $2 AND id <> $3",
                 {std::to_string(rule.tenant), rule.name, std::to_string(rule.id)});
    if (!taken) return taken.error();
    if (taken->size() > 0) return name_taken(rule.name);
    store::Params params{std::to_string(rule.tenant), std::to_string(rule.id)};
    auto values = rule_values(rule);
    params.insert(params.end(), values.begin(), values.end());
    params.push_back(rule.name);
    auto rows = db.query(
        "UPDATE alert_rules SET kind = $3, filter = $4::jsonb, threshold = $5::bigint, "
        "window_seconds = $6::integer, group_by = $7::text[], cooldown_seconds = $8::integer, "
        "notify = $9::jsonb, secret = $10, enabled = $11::boolean, labels = $12::jsonb, "
        "name = $13, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING "
        "(extract(epoch FROM created_at) * 1000000)::bigint, "
        "(extract(epoch FROM updated_at) * 1000000)::bigint",
        params);
    if (!rows) return rows.error();
    if (rows->size() == 0) return rule_not_found(rule.id);
    Rule updated = rule;
    updated.created_at = rows->get_int(0, 0);
    updated.updated_at = rows->get_int(0, 1);
    return updated;
  });
}

core::Result<Rule> delete_rule(store::Connection& db, model::TenantId tenant, std::int64_t id) {
  return store::in_transaction(db, [&]() -> core::Result<Rule> {
    auto rule = find_rule(db, tenant, id);
    if (!rule) return rule.error();
    if (auto resolved = db.query("UPDATE alert_events SET state = 'resolved', resolved_at = now() "
                                 "WHERE rule_id = $1 AND state = 'firing'",
                                 {std::to_string(id)});
        !resolved)
      return resolved.error();
    if (auto gone = db.query("DELETE FROM alert_rules WHERE tenant_id = $1 AND id = $2",
                             {std::to_string(tenant), std::to_string(id)});
        !gone)
      return gone.error();
    return rule;
  });
}

core::Result<std::vector<Rule>> list_enabled_rules(store::Connection& db) {
  auto rows = db.query(fmt::format("{} WHERE enabled ORDER BY id", kRuleColumns));
  if (!rows) return rows.error();
  return read_rules(*rows);
}

core::Result<std::int64_t> parse_rule_id(std::string_view text) {
  auto id = query::parse_int_param("id", text, 1, INT64_MAX);
  if (!id) return query::invalid_param("id", "must be a positive integer");
  return *id;
}

std::string_view to_string(State state) {
  return state == State::resolved ? "resolved" : "firing";
}

core::Result<Event> open_event(store::Connection& db, const Rule& rule,
                               const std::string& group_labels_json, std::int64_t count,
                               const std::optional<std::string>& sample_json,
                               core::Micros fired_at) {
  auto rows = db.query(
      fmt::format("INSERT INTO alert_events (tenant_id, rule_id, rule_name, group_labels, state, "
                  "fired_at, count, sample) VALUES ($1, $2, $3, $4::jsonb, 'firing', "
                  "coalesce($5::timestamptz, now()), $6::bigint, $7::jsonb) "
                  "ON CONFLICT (rule_id, group_labels) WHERE state = 'firing' DO NOTHING "
                  "RETURNING {}",
                  kEventFields),
      {std::to_string(rule.tenant), std::to_string(rule.id), rule.name, group_labels_json,
       time_param(fired_at), std::to_string(count), sample_json});
  if (!rows) return rows.error();
  if (rows->size() == 0)
    return core::make_error(Errc::conflict,
                            fmt::format("alert rule {} has an open episode for {} already", rule.id,
                                        group_labels_json));
  return read_events(*rows).front();
}

core::Status update_event_count(store::Connection& db, std::int64_t event_id, std::int64_t count) {
  auto rows = db.query(
      "UPDATE alert_events SET count = $2::bigint WHERE id = $1 AND state = 'firing' RETURNING id",
      {std::to_string(event_id), std::to_string(count)});
  if (!rows) return rows.error();
  if (rows->size() == 0)
    return core::make_error(Errc::not_found, fmt::format("no open alert episode {}", event_id));
  return {};
}

core::Status mark_notified(store::Connection& db, std::int64_t event_id, core::Micros at) {
  auto rows = db.query(
      "UPDATE alert_events SET last_notified_at = coalesce($2::timestamptz, now()) WHERE id = $1 "
      "RETURNING id",
      {std::to_string(event_id), time_param(at)});
  if (!rows) return rows.error();
  if (rows->size() == 0)
    return core::make_error(Errc::not_found, fmt::format("no alert episode {}", event_id));
  return {};
}

core::Result<Event> resolve_event(store::Connection& db, std::int64_t event_id, core::Micros at) {
  auto rows =
      db.query(fmt::format("UPDATE alert_events SET state = 'resolved', resolved_at = "
                           "coalesce($2::timestamptz, now()) WHERE id = $1 AND state = 'firing' "
                           "RETURNING {}",
                           kEventFields),
               {std::to_string(event_id), time_param(at)});
  if (!rows) return rows.error();
  if (rows->size() == 0)
    return core::make_error(Errc::not_found, fmt::format("no open alert episode {}", event_id));
  return read_events(*rows).front();
}

core::Result<std::int64_t> append_delivery(store::Connection& db, const Delivery& d) {
  auto rows = db.query(
      "INSERT INTO alert_deliveries (event_id, transition, target_type, target_url, attempt, ok, "
      "status, error, at) VALUES ($1, $2, $3, $4, $5::integer, $6::boolean, $7::integer, $8, "
      "coalesce($9::timestamptz, now())) RETURNING id",
      {std::to_string(d.event_id), std::string(to_string(d.transition)),
       std::string(to_string(d.target_type)), d.target_url, std::to_string(d.attempt),
       d.ok ? "true" : "false",
       d.status ? std::optional<std::string>(std::to_string(*d.status)) : std::nullopt, d.error,
       time_param(d.at)});
  if (!rows) return rows.error();
  return rows->get_int(0, 0);
}

core::Result<std::vector<Event>> open_events(store::Connection& db) {
  auto rows = db.query(
      fmt::format("SELECT {} FROM alert_events WHERE state = 'firing' ORDER BY id", kEventFields));
  if (!rows) return rows.error();
  return read_events(*rows);
}

core::Result<std::optional<Event>> last_event(store::Connection& db, std::int64_t rule_id,
                                              const std::string& group_labels_json) {
  auto rows =
      db.query(fmt::format("SELECT {} FROM alert_events WHERE rule_id = $1 AND "
                           "group_labels = $2::jsonb ORDER BY fired_at DESC, id DESC LIMIT 1",
                           kEventFields),
               {std::to_string(rule_id), group_labels_json});
  if (!rows) return rows.error();
  auto events = read_events(*rows);
  if (events.empty()) return std::optional<Event>();
  return std::optional<Event>(std::move(events.front()));
}

core::Result<EventQuery> parse_event_query(const query::Params& params, model::TenantId tenant) {
  EventQuery q;
  q.tenant = tenant;
  for (const auto& [key, value] : params) {
    if (auto paged = query::parse_page_param(key, value, q.limit, q.after)) {
      if (!*paged) return paged->error();
    } else if (key == "rule_id") {
      auto id = query::parse_int_param(key, value, 1, INT64_MAX);
      if (!id) return query::invalid_param(key, "must be a rule's id (a positive integer)");
      q.rule_id = *id;
    } else if (key == "state") {
      if (value != "firing" && value != "resolved")
        return query::invalid_param(key, "must be firing or resolved");
      q.state = value == "firing" ? State::firing : State::resolved;
    } else {
      return query::invalid_param(
          key, "is not a parameter of the alert events (rule_id, state, limit, cursor)");
    }
  }
  return q;
}

core::Result<EventPage> find_events(store::Connection& db, const EventQuery& q) {
  query::SqlWhere w;
  w.sql = "tenant_id = $1";
  w.args.push_back(std::to_string(q.tenant));
  if (q.rule_id)
    w.sql += fmt::format(" AND rule_id = {}::bigint", w.param(std::to_string(*q.rule_id)));
  if (q.state) w.sql += fmt::format(" AND state = {}", w.param(std::string(to_string(*q.state))));
  if (q.after) {
    w.sql += fmt::format(" AND (fired_at, id) < ({}::timestamptz, {}::bigint)",
                         w.param(core::format_rfc3339(q.after->ts)),
                         w.param(std::to_string(q.after->id)));
  }
  // One row more than asked tells whether a next page exists.
  auto rows = db.query(fmt::format("SELECT {} FROM alert_events WHERE {} ORDER BY fired_at DESC, "
                                   "id DESC LIMIT {}",
                                   kEventFields, w.sql, q.limit + 1),
                       store::Params(w.args.begin(), w.args.end()));
  if (!rows) return rows.error();
  EventPage page;
  page.events = read_events(*rows, q.limit);
  if (rows->size() > q.limit)
    page.next = query::Cursor{page.events.back().fired_at, page.events.back().id};
  if (page.events.empty()) return page;

  std::string ids = "{";
  for (std::size_t i = 0; i < page.events.size(); ++i)
    ids += (i ? "," : "") + std::to_string(page.events[i].id);
  ids += "}";
  // Per episode, transition and target: how many attempts, whether one succeeded, the last one's
  // status and error.
  auto deliveries = db.query(
      "SELECT event_id, transition, target_type, target_url, count(*), bool_or(ok), "
      "(array_agg(status ORDER BY id DESC))[1], (array_agg(error ORDER BY id DESC))[1], "
      "(extract(epoch FROM max(at)) * 1000000)::bigint FROM alert_deliveries "
      "WHERE event_id = ANY($1::bigint[]) GROUP BY event_id, transition, target_type, target_url "
      "ORDER BY event_id, min(id)",
      {ids});
  if (!deliveries) return deliveries.error();
  for (int i = 0; i < deliveries->size(); ++i) {
    const std::int64_t event_id = deliveries->get_int(i, 0);
    for (auto& e : page.events) {
      if (e.id != event_id) continue;
      DeliverySummary& d = e.deliveries.emplace_back();
      d.transition = deliveries->get(i, 1) == "resolved" ? State::resolved : State::firing;
      d.target_type = deliveries->get(i, 2);
      d.target_url = deliveries->get(i, 3);
      d.attempts = deliveries->get_int(i, 4);
      d.ok = deliveries->get(i, 5) == "t";
      if (!deliveries->is_null(i, 6)) d.last_status = static_cast<int>(deliveries->get_int(i, 6));
      if (!deliveries->is_null(i, 7)) d.last_error = std::string(deliveries->get(i, 7));
      d.last_at = deliveries->get_int(i, 8);
      break;
    }
  }
  return page;
}

std::string events_json(const EventPage& page) {
  core::JsonWriter w;
  w.begin_object().key("events").begin_array();
  for (const auto& e : page.events) {
    w.begin_object().field("id", e.id).key("rule_id");
    if (e.rule_id) {
      w.value(*e.rule_id);
    } else {
      w.null();
    }
    w.field("rule_name", e.rule_name)
        .key("group")
        .raw(e.group_labels_json)
        .field("state", to_string(e.state))
        .field("fired_at", core::format_rfc3339(e.fired_at));
    optional_time(w, "resolved_at", e.resolved_at);
    w.field("count", e.count).key("sample");
    if (e.sample_json) {
      w.raw(*e.sample_json);
    } else {
      w.null();
    }
    optional_time(w, "last_notified_at", e.last_notified_at);
    w.key("deliveries").begin_array();
    for (const auto& d : e.deliveries) {
      w.begin_object()
          .field("transition", to_string(d.transition))
          .field("type", d.target_type)
          .field("url", d.target_url)
          .field("attempts", d.attempts)
          .field("ok", d.ok)
          .key("last_status");
      if (d.last_status) {
        w.value(*d.last_status);
      } else {
        w.null();
      }
      w.key("last_error");
      if (d.last_error) {
        w.value(*d.last_error);
      } else {
        w.null();
      }
      w.field("last_at", core::format_rfc3339(d.last_at)).end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().field("count", static_cast<std::int64_t>(page.events.size())).key("next_cursor");
  if (page.next) {
    w.value(query::encode_cursor(*page.next));
  } else {
    w.null();
  }
  return w.end_object().take();
}

}  // namespace logpipe::alerts
