#include "alerts/evaluator.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <condition_variable>

#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "http/query_string.hpp"

namespace logpipe::alerts {
namespace {

// Arbitrary but fixed, and not the maintenance round's: every serve contends for it.
constexpr const char* kLeaderLockKey = "7346017263412";

using Labels = std::vector<std::pair<std::string, std::string>>;

std::int64_t second_of(core::Micros t) {
  return t / core::kSecond;
}

const std::string& field_of(const model::Record& record, std::string_view field) {
  if (field == "device_id") return record.device_id;
  if (field == "service") return record.service;
  if (field == "app") return record.app;
  return record.host;
}

// The key of a group in the rule's group_by order; the values cannot hold the separator's
// meaning ambiguously since each is length-prefixed.
std::string group_key(const Labels& labels) {
  std::string key;
  for (const auto& [name, value] : labels)
    fmt::format_to(std::back_inserter(key), "{}:{};", value.size(), value);
  return key;
}

std::string labels_object(const Labels& labels) {
  core::JsonWriter w;
  w.begin_object();
  for (const auto& [name, value] : labels)
    w.field(name, value);
  w.end_object();
  return w.take();
}

// An episode's group_labels as stored (jsonb reorders keys) back in the rule's group_by order.
std::optional<Labels> labels_of(const Rule& rule, const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(json).get(object) != simdjson::SUCCESS) return std::nullopt;
  Labels labels;
  for (const auto& field : rule.group_by) {
    std::string_view value;
    if (object[field].get(value) != simdjson::SUCCESS) return std::nullopt;
    labels.emplace_back(field, std::string(value));
  }
  return labels;
}

std::string filter_query(const Rule& rule) {
  auto params = filter_params(rule.filter_json);
  if (!params) return {};
  return http::query_string(*params);
}

std::string describe_group(const Labels& labels) {
  std::string text;
  for (const auto& [name, value] : labels)
    fmt::format_to(std::back_inserter(text), "{}{}={}", text.empty() ? " for " : ", ", name,
                   value.empty() ? "(none)" : value);
  return text;
}

std::string summary_of(const Rule& rule, const Labels& labels, Notification::Transition transition,
                       std::int64_t count) {
  std::string filter = filter_query(rule);
  if (filter.empty()) filter = "any record";
  const bool resolved = transition == Notification::Transition::resolved;
  const std::string group = describe_group(labels);
  switch (rule.kind) {
    case Kind::threshold:
      return resolved
                 ? fmt::format("{} resolved: fewer than {} records match {} within {} s{}",
                               rule.name, *rule.threshold, filter, rule.window_seconds, group)
                 : fmt::format("{}: {} records matched {} within {} s (threshold {}){}", rule.name,
                               count, filter, rule.window_seconds, *rule.threshold, group);
    case Kind::absence:
      return resolved
                 ? fmt::format("{} resolved: records match {} again{}", rule.name, filter, group)
                 : fmt::format("{}: no record matched {} for {} s{}", rule.name, filter,
                               rule.window_seconds, group);
    case Kind::match:
      return resolved ? fmt::format("{} resolved: {} records matched {} in all{}", rule.name, count,
                                    filter, group)
                      : fmt::format("{}: a record matched {}{}", rule.name, filter, group);
  }
  return rule.name;
}

State state_of(Notification::Transition transition) {
  return transition == Notification::Transition::firing ? State::firing : State::resolved;
}

}  // namespace

Evaluator::Evaluator(EvaluatorOptions options, tail::Hub& hub, Notifier& notifier,
                     RenderRecord render, metrics::Metrics& metrics)
    : options_(std::move(options)),
      hub_(hub),
      notifier_(notifier),
      render_(std::move(render)),
      metrics_(metrics) {}

Evaluator::~Evaluator() {
  stop();
}

void Evaluator::start() {
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

void Evaluator::stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  if (subscription_) {
    hub_.unsubscribe_raw(*subscription_);
    subscription_.reset();
  }
  notifier_.stop();  // (started or not: its callbacks call into this object)
}

void Evaluator::count(const model::Batch& batch, const model::Record& record) {
  const model::TenantId tenant = batch.tenant_id;
  const std::lock_guard lock(mutex_);
  const auto rules = rules_by_tenant_.find(tenant);
  if (rules == rules_by_tenant_.end()) return;
  const std::int64_t now = second_of(core::now_micros());
  tail::Candidate candidate(tenant, record);
  for (Watched* watched : rules->second) {
    if (!watched->matcher.matches(candidate)) continue;
    Labels labels;
    labels.reserve(watched->rule.group_by.size());
    for (const auto& field : watched->rule.group_by)
      labels.emplace_back(field, field_of(record, field));
    std::string key = group_key(labels);
    auto group = watched->groups.find(key);
    if (group == watched->groups.end()) {
      if (watched->groups.size() >= options_.max_groups_per_rule) {
        metrics_.alert_groups_overflow();
        if (!watched->overflow_logged) {
          watched->overflow_logged = true;
          core::log::warn("alert rule has too many groups: records of new groups are not counted",
                          {{"rule_id", std::to_string(watched->rule.id)},
                           {"max_groups", std::to_string(options_.max_groups_per_rule)}});
        }
        continue;
      }
      group =
          watched->groups
              .emplace(std::move(key), Group(std::move(labels), watched->rule.window_seconds, now))
              .first;
    }
    group->second.counts.add(now);
    group->second.total += 1;
    if (watched->rule.kind == Kind::match && !group->second.sample)
      group->second.sample = render_(batch, record);
  }
}

void Evaluator::run(const std::stop_token& stop) {
  std::optional<store::Connection> db;
  auto last_refresh = std::chrono::steady_clock::time_point{};
  std::mutex wait_mutex;
  std::condition_variable_any wake;
  const auto fail = [&](std::string_view what, const core::Error& error) {
    metrics_.alert_evaluation_failed();
    core::log::error(what, {{"error", error.message}});
    if (db && db->broken()) db.reset();
  };
  while (!stop.stop_requested()) {
    if (!db) {
      if (leading_) {
        leading_ = false;
        episodes_.clear();
        metrics_.set_alert_evaluator_leading(false);
        metrics_.set_alerts_firing(0);
      }
      auto opened = store::Connection::open(options_.database_url);
      if (opened) {
        db.emplace(std::move(*opened));
        refresh_now_ = true;
      } else {
        fail("alert evaluator: cannot connect to PostgreSQL", opened.error());
      }
    }
    if (db) {
      const auto now = std::chrono::steady_clock::now();
      if (refresh_now_ || now - last_refresh >= options_.rules_refresh) {
        refresh_now_ = false;
        if (auto refreshed = refresh_rules(*db); refreshed) {
          last_refresh = now;
        } else {
          refresh_now_ = true;
          fail("alert evaluator: cannot read the rules", refreshed.error());
        }
      }
    }
    if (db) {
      if (auto leading = lead(*db); !leading) {
        fail("alert evaluator: cannot take the evaluator's lock", leading.error());
      } else if (*leading) {
        if (auto judged = judge(*db, second_of(core::now_micros())); !judged)
          fail("alert evaluator: judging failed", judged.error());
      }
    }
    if (db) write_deliveries(*db);
    std::unique_lock lock(wait_mutex);
    wake.wait_for(lock, stop, options_.interval, [] { return false; });
  }
  // No notification is sent after this; the attempts it abandons are reported, and written.
  notifier_.stop();
  if (db) write_deliveries(*db);  // the connection's end releases the lock
}

core::Status Evaluator::refresh_rules(store::Connection& db) {
  auto rules = list_enabled_rules(db);
  if (!rules) return rules.error();
  auto tenants = db.query("SELECT id, name FROM tenants");
  if (!tenants) return tenants.error();
  bool any_rule = false;
  {
    const std::lock_guard lock(mutex_);
    tenant_names_.clear();
    for (int row = 0; row < tenants->size(); ++row)
      tenant_names_[static_cast<model::TenantId>(tenants->get_int(row, 0))] =
          std::string(tenants->get(row, 1));
    std::map<std::int64_t, Watched> fresh;
    for (auto& rule : *rules) {
      const auto old = rules_.find(rule.id);
      if (old != rules_.end() && old->second.rule.updated_at == rule.updated_at) {
        fresh.emplace(rule.id, std::move(old->second));
        continue;
      }
      // A new or changed rule counts from now: counts under another filter or window mean nothing.
      auto matcher = tail::Matcher::compile(rule.filter, hub_.folding());
      const std::int64_t id = rule.id;
      fresh.emplace(id, Watched{std::move(rule), std::move(matcher), {}});
    }
    rules_ = std::move(fresh);
    rules_by_tenant_.clear();
    for (auto& [id, watched] : rules_)
      rules_by_tenant_[watched.rule.tenant].push_back(&watched);
    any_rule = !rules_.empty();
  }
  // The hub reads and decodes the stream only while someone listens: without a rule, not this.
  // (Outside mutex_: the hub calls count() holding its own lock.)
  if (any_rule && !subscription_) {
    subscription_ = hub_.subscribe_raw(
        [this](const model::Batch& batch, const model::Record& record) { count(batch, record); });
  } else if (!any_rule && subscription_) {
    hub_.unsubscribe_raw(*subscription_);
    subscription_.reset();
  }
  return {};
}

core::Result<bool> Evaluator::lead(store::Connection& db) {
  if (leading_) return true;
  auto locked = db.query(fmt::format("SELECT pg_try_advisory_lock({})", kLeaderLockKey));
  if (!locked) return locked.error();
  if (locked->get(0, 0) != "t") return false;
  if (auto restored = restore(db); !restored) {
    (void)db.query(fmt::format("SELECT pg_advisory_unlock({})", kLeaderLockKey));
    return restored.error();
  }
  leading_ = true;
  metrics_.set_alert_evaluator_leading(true);
  core::log::info("this instance evaluates the alert rules");
  return true;
}

core::Status Evaluator::restore(store::Connection& db) {
  auto open = open_events(db);
  if (!open) return open.error();
  episodes_.clear();
  const std::int64_t now = second_of(core::now_micros());
  const std::lock_guard lock(mutex_);
  for (const auto& event : *open) {
    if (!event.rule_id) continue;
    auto watched = rules_.find(*event.rule_id);
    if (watched == rules_.end()) continue;  // a disabled rule's: judge() resolves it
    auto labels = labels_of(watched->second.rule, event.group_labels_json);
    if (!labels) continue;
    std::string key = group_key(*labels);
    auto& group = watched->second.groups
                      .try_emplace(key, Group(*labels, watched->second.rule.window_seconds, now))
                      .first->second;
    // Silent already, as far as anyone knows: it stays firing until a record comes.
    if (watched->second.rule.kind == Kind::absence)
      group.watched_since =
          std::min(group.watched_since, now - watched->second.rule.window_seconds);
    Episode episode;
    episode.state = AlertState::restored_firing();
    episode.event_id = event.id;
    episode.fired_at = event.fired_at;
    episode.count_at_fire = event.count;
    episode.total_at_fire = group.total;
    episodes_.emplace(std::pair{*event.rule_id, std::move(key)}, episode);
  }
  // Open episodes of rules no longer enabled are resolved quietly: nothing judges them any more.
  for (const auto& event : *open) {
    if (event.rule_id && rules_.contains(*event.rule_id)) continue;
    if (auto resolved = resolve_event(db, event.id);
        !resolved && resolved.error().code != core::Errc::not_found)
      return resolved.error();
  }
  return {};
}

core::Status Evaluator::judge(store::Connection& db, std::int64_t now_second) {
  struct Verdict {
    const Watched* watched;
    std::string key;
    Labels labels;
    bool holds;
    std::int64_t count;  // in the window
    std::int64_t total;
    std::optional<std::string> sample;
  };
  std::vector<Verdict> verdicts;
  {
    const std::lock_guard lock(mutex_);
    for (auto& [id, watched] : rules_) {
      const Condition condition{watched.rule.kind, watched.rule.threshold.value_or(1),
                                watched.rule.window_seconds};
      // Absence without group_by watches the rule as a whole from the start.
      if (watched.rule.kind == Kind::absence && watched.rule.group_by.empty())
        watched.groups.try_emplace(group_key({}),
                                   Group({}, watched.rule.window_seconds, now_second));
      for (auto group = watched.groups.begin(); group != watched.groups.end();) {
        bool holds = condition_holds(condition, group->second.counts, group->second.watched_since,
                                     now_second);
        const bool open = episodes_.contains({id, group->first});
        // The records that would break this silence may be in entries the tail never read: no
        // new absence alert until a whole window has passed since.
        if (holds && !open && watched.rule.kind == Kind::absence &&
            hub_.last_gap() >= (now_second - watched.rule.window_seconds) * core::kSecond)
          holds = false;
        // A group with nothing to count and no alert is forgotten (absence keeps its groups:
        // their silence is the point).
        if (!holds && !open && watched.rule.kind != Kind::absence &&
            group->second.counts.idle(now_second)) {
          group = watched.groups.erase(group);
          continue;
        }
        if (holds || open)
          verdicts.push_back({&watched, group->first, group->second.labels, holds,
                              group->second.counts.count(now_second), group->second.total,
                              group->second.sample});
        ++group;
      }
    }
  }
  // Episodes whose rule went away (disabled, deleted) end without a notification.
  for (auto it = episodes_.begin(); it != episodes_.end();) {
    if (rules_.contains(it->first.first)) {
      ++it;
      continue;
    }
    if (auto resolved = resolve_event(db, it->second.event_id);
        !resolved && resolved.error().code != core::Errc::not_found)
      return resolved.error();
    it = episodes_.erase(it);
  }
  // A firing episode's count so far (absence: none), written to its event.
  const auto count_so_far = [&db](const Rule& rule, const Episode& episode,
                                  std::int64_t total) -> core::Result<std::int64_t> {
    if (rule.kind == Kind::absence) return std::int64_t{0};
    const std::int64_t count = episode.count_at_fire + total - episode.total_at_fire;
    if (auto updated = update_event_count(db, episode.event_id, count); !updated)
      return updated.error();
    return count;
  };
  for (const auto& verdict : verdicts) {
    const Rule& rule = verdict.watched->rule;
    auto& episode = episodes_[{rule.id, verdict.key}];
    AlertState next = episode.state;
    const auto transition = next.observe(verdict.holds, now_second, rule.cooldown_seconds);
    if (!transition) {
      episode.state = next;
      if (!episode.state.firing()) continue;
      const auto count = count_so_far(rule, episode, verdict.total);
      if (!count) return count.error();
      const auto now = core::now_micros();
      if (now - episode.last_sent >=
          std::chrono::duration_cast<std::chrono::microseconds>(options_.alertmanager_resend)
              .count()) {
        episode.last_sent = now;
        notify(*verdict.watched, episode, verdict.labels, Notification::Transition::firing, *count,
               std::nullopt, verdict.sample, true);
      }
      continue;
    }
    if (*transition == Transition::fire) {
      const std::int64_t count = rule.kind == Kind::absence ? 0 : verdict.count;
      auto opened = open_event(db, rule, labels_object(verdict.labels), count, verdict.sample);
      if (!opened) return opened.error();
      episode =
          Episode{next, opened->id, opened->fired_at, verdict.total, count, core::now_micros()};
      notify(*verdict.watched, episode, verdict.labels, Notification::Transition::firing, count,
             std::nullopt, verdict.sample);
      if (auto marked = mark_notified(db, episode.event_id); !marked) return marked.error();
    } else {
      const auto count = count_so_far(rule, episode, verdict.total);
      if (!count) return count.error();
      auto resolved = resolve_event(db, episode.event_id);
      if (!resolved && resolved.error().code != core::Errc::not_found) return resolved.error();
      notify(*verdict.watched, episode, verdict.labels, Notification::Transition::resolved, *count,
             resolved ? resolved->resolved_at : core::now_micros(), std::nullopt);
      if (auto marked = mark_notified(db, episode.event_id);
          !marked && marked.error().code != core::Errc::not_found)
        return marked.error();
      episodes_.erase({rule.id, verdict.key});
      const std::lock_guard lock(mutex_);
      if (auto watched = rules_.find(rule.id); watched != rules_.end())
        if (auto group = watched->second.groups.find(verdict.key);
            group != watched->second.groups.end())
          group->second.sample.reset();
    }
  }
  std::erase_if(episodes_, [](const auto& entry) { return !entry.second.state.firing(); });
  metrics_.set_alerts_firing(episodes_.size());
  return {};
}

void Evaluator::notify(const Watched& watched, const Episode& episode, const Labels& labels,
                       Notification::Transition transition, std::int64_t count,
                       std::optional<core::Micros> resolved_at, std::optional<std::string> sample,
                       bool resend) {
  const Rule& rule = watched.rule;
  std::vector<Target> targets;
  for (const auto& target : rule.notify)
    if (!resend || target.type == Target::Type::alertmanager) targets.push_back(target);
  if (targets.empty()) return;
  Notification n;
  n.event_id = episode.event_id;
  n.rule_id = rule.id;
  n.rule_name = rule.name;
  n.kind = std::string(to_string(rule.kind));
  n.tenant = rule.tenant;
  {
    const std::lock_guard lock(mutex_);
    if (auto name = tenant_names_.find(rule.tenant); name != tenant_names_.end())
      n.tenant_name = name->second;
  }
  n.transition = transition;
  n.group_labels = labels;
  n.labels = rule.labels;
  n.count = count;
  n.threshold = rule.threshold.value_or(rule.kind == Kind::match ? 1 : 0);
  n.window_seconds = rule.window_seconds;
  n.fired_at = episode.fired_at;
  n.resolved_at = resolved_at;
  n.summary = summary_of(rule, labels, transition, count);
  n.filter_query = filter_query(rule);
  n.sample_json = std::move(sample);
  if (!options_.public_url.empty()) {
    Labels params;
    if (auto filter = filter_params(rule.filter_json)) params = std::move(*filter);
    for (const auto& label : labels)
      if (!label.second.empty()) params.push_back(label);
    params.emplace_back(
        "from", core::format_rfc3339(episode.fired_at - rule.window_seconds * core::kSecond));
    n.logs_url = options_.public_url + "/api/v1/logs?" + http::query_string(params);
  }
  for (auto& target : targets)
    if (target.type == Target::Type::webhook) target.secret = rule.secret;
  notifier_.deliver(std::move(n), std::move(targets),
                    [this, resend](const DeliveryAttempt& attempt) {
                      // The log keeps what people act on: a re-send that worked adds nothing to it.
                      if (resend && attempt.ok) return;
                      const std::lock_guard lock(deliveries_mutex_);
                      deliveries_.push_back(attempt);
                    });
}

void Evaluator::write_deliveries(store::Connection& db) {
  std::vector<DeliveryAttempt> attempts;
  {
    const std::lock_guard lock(deliveries_mutex_);
    attempts.swap(deliveries_);
  }
  for (std::size_t i = 0; i < attempts.size(); ++i) {
    const auto& attempt = attempts[i];
    if (attempt.attempt < 1) continue;  // never sent (the notifier's queue was full): counted there
    Delivery row;
    row.event_id = attempt.event_id;
    row.transition = state_of(attempt.transition);
    row.target_type = attempt.target_type;
    row.target_url = attempt.target_url;
    row.attempt = attempt.attempt;
    row.ok = attempt.ok;
    if (attempt.status != 0) row.status = static_cast<int>(attempt.status);
    if (!attempt.error.empty()) row.error = attempt.error;
    row.at = attempt.at;
    if (auto written = append_delivery(db, row); !written) {
      metrics_.alert_evaluation_failed();
      core::log::error(
          "alert evaluator: cannot write the delivery log",
          {{"event_id", std::to_string(attempt.event_id)}, {"error", written.error().message}});
      if (db.broken()) {  // keep the rest for the next connection
        const std::lock_guard lock(deliveries_mutex_);
        deliveries_.insert(deliveries_.begin(), attempts.begin() + static_cast<long>(i),
                           attempts.end());
        return;
      }
    }
  }
}

}  // namespace logpipe::alerts
