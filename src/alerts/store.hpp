// Alert rules, episodes and deliveries in PostgreSQL (migration 0006): the rules' CRUD for the
// API, the history for GET /api/v1/alerts/events, and what the evaluator reads and writes.
//
// An episode (alert_events) is one firing of a rule for one group (group_labels: {} or
// {"device_id":"d7"}), from fired_at until resolved_at; at most one is open (state firing) per
// rule and group, which the database holds (a unique partial index), so two evaluators can never
// both open one. Every notification attempt of its transitions is an alert_deliveries row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "alerts/rule.hpp"
#include "core/result.hpp"
#include "query/logs.hpp"
#include "store/connection.hpp"

namespace logpipe::alerts {

// --- rules (every function of one tenant's rules takes the tenant: another's is not_found) ---

// Errc::conflict when the tenant has a rule of that name. Returns the rule with its id and times.
core::Result<Rule> create_rule(store::Connection& db, const Rule& rule);
// By id, oldest first.
core::Result<std::vector<Rule>> list_rules(store::Connection& db, model::TenantId tenant);
// Errc::not_found when the tenant has no such rule.
core::Result<Rule> find_rule(store::Connection& db, model::TenantId tenant, std::int64_t id);
// Replaces rule.id's every field (updated_at = now()); not_found, or conflict for a name taken.
core::Result<Rule> update_rule(store::Connection& db, const Rule& rule);
// Deletes the rule and returns it; its open episodes are resolved (nothing evaluates them any
// more), its history stays (rule_id NULL, rule_name kept). not_found as find_rule.
core::Result<Rule> delete_rule(store::Connection& db, model::TenantId tenant, std::int64_t id);
// The evaluator's: every enabled rule of every tenant, by id.
core::Result<std::vector<Rule>> list_enabled_rules(store::Connection& db);

// Parses a rule id path segment (a positive integer) or names it in a 422.
core::Result<std::int64_t> parse_rule_id(std::string_view text);

// --- episodes and deliveries ---

enum class State { firing, resolved };
std::string_view to_string(State state);

struct Delivery {
  std::int64_t id = 0;
  std::int64_t event_id = 0;
  State transition = State::firing;  // which notification: the firing or the resolved one
  TargetType target_type = TargetType::webhook;
  std::string target_url;  // never a secret
  int attempt = 1;         // 1 for the first try, 2 for the first retry, …
  bool ok = false;
  std::optional<int> status;         // the receiver's HTTP status, when one came
  std::optional<std::string> error;  // why it failed
  core::Micros at = 0;               // 0 when appending: now()
};

// One target's attempts for one transition of an episode, as the events listing shows them.
struct DeliverySummary {
  State transition = State::firing;
  std::string target_type, target_url;
  std::int64_t attempts = 0;
  bool ok = false;  // one attempt succeeded
  std::optional<int> last_status;
  std::optional<std::string> last_error;
  core::Micros last_at = 0;
};

struct Event {
  std::int64_t id = 0;
  model::TenantId tenant = model::kDefaultTenant;
  std::optional<std::int64_t> rule_id;  // none once the rule was deleted
  std::string rule_name;
  std::string group_labels_json = "{}";  // a JSON object of strings
  State state = State::firing;
  core::Micros fired_at = 0;
  std::optional<core::Micros> resolved_at;
  std::int64_t count = 0;
  std::optional<std::string> sample_json;  // one matching record (match rules), a JSON object
  std::optional<core::Micros> last_notified_at;
  std::vector<DeliverySummary> deliveries;  // filled by find_events only
};

// Opens an episode of `rule` for the group (fired_at = `fired_at`, or now() when 0).
// Errc::conflict when the rule and group have an open one already (another evaluator's).
core::Result<Event> open_event(store::Connection& db, const Rule& rule,
                               const std::string& group_labels_json, std::int64_t count,
                               const std::optional<std::string>& sample_json = std::nullopt,
                               core::Micros fired_at = 0);
// The count of an open episode; not_found when it is not open.
core::Status update_event_count(store::Connection& db, std::int64_t event_id, std::int64_t count);
// When an episode's last notification went out (the cooldown counts from it).
core::Status mark_notified(store::Connection& db, std::int64_t event_id, core::Micros at = 0);
// Closes an open episode (resolved_at = `at`, or now() when 0); not_found when it is not open.
core::Result<Event> resolve_event(store::Connection& db, std::int64_t event_id,
                                  core::Micros at = 0);
// Appends one attempt; returns its id.
core::Result<std::int64_t> append_delivery(store::Connection& db, const Delivery& delivery);
// Every open episode of every tenant: the evaluator's state after a restart.
core::Result<std::vector<Event>> open_events(store::Connection& db);
// The newest episode of a rule and group, open or not (the cooldown after a restart).
core::Result<std::optional<Event>> last_event(store::Connection& db, std::int64_t rule_id,
                                              const std::string& group_labels_json);

// GET /api/v1/alerts/events: rule_id, state (firing or resolved), limit 1..1000 (default 100),
// cursor; newest first (fired_at, id), keyset paged.
struct EventQuery {
  model::TenantId tenant = model::kDefaultTenant;
  std::optional<std::int64_t> rule_id;
  std::optional<State> state;
  int limit = query::kDefaultLimit;
  std::optional<query::Cursor> after;
};
core::Result<EventQuery> parse_event_query(const query::Params& params, model::TenantId tenant);

struct EventPage {
  std::vector<Event> events;          // newest first, each with its deliveries
  std::optional<query::Cursor> next;  // set when older episodes follow
};
core::Result<EventPage> find_events(store::Connection& db, const EventQuery& query);

// The page as the API shows it: {"events":[…],"count":N,"next_cursor":…}.
std::string events_json(const EventPage& page);

}  // namespace logpipe::alerts
