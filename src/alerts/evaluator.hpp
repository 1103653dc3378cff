// Fires and resolves alerts: the one evaluator of all serve instances.
//
// Counting: every instance counts, per enabled rule and group, the matching records of the live
// tail (tail::Hub's raw subscription: every record of every tenant, as it enters the stream) in
// per-second windows. Every instance, not only the evaluating one, so that a new evaluator takes
// over with warm counts; the cost is a matcher test per record and rule of its tenant.
// Deciding: every `interval`, the instance that holds a PostgreSQL advisory lock (taken on a
// connection of the evaluator's own; lost with it) judges each rule and group (episode.hpp),
// opens or resolves the episode in alert_events, and hands the notification to the Notifier;
// the others only count. A new evaluator restores the open episodes from the database (so they
// resolve, and never fire twice); the unique index of open episodes makes a double opening
// impossible even if two ever thought they held the lock. Each attempt the Notifier reports
// becomes an alert_deliveries row.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "alerts/episode.hpp"
#include "alerts/notifier.hpp"
#include "alerts/rule.hpp"
#include "alerts/store.hpp"
#include "metrics/metrics.hpp"
#include "store/connection.hpp"
#include "tail/hub.hpp"

namespace logpipe::alerts {

struct EvaluatorOptions {
  std::string database_url;
  std::chrono::milliseconds interval{2'000};       // between judgements
  std::chrono::milliseconds rules_refresh{5'000};  // rules re-read from the database
  // A firing alert is sent to its Alertmanager targets again this often: Alertmanager resolves
  // an alert not re-sent within its resolve_timeout (5 m), as Prometheus re-sends every minute.
  std::chrono::milliseconds alertmanager_resend{60'000};
  // Groups one rule tracks at most (a group_by over an unbounded field); beyond, records of new
  // groups are not counted (counted in alert_groups_overflow_total and logged once per rule).
  std::size_t max_groups_per_rule = 10'000;
  // Where people open the matching logs (the notification's logs_url); "": no link.
  std::string public_url;
};

// A record as a notification shows a sample of it (match rules): as the live tail shows it.
using RenderRecord = tail::Hub::Render;

class Evaluator {
 public:
  Evaluator(EvaluatorOptions options, tail::Hub& hub, Notifier& notifier, RenderRecord render,
            metrics::Metrics& metrics);
  ~Evaluator();  // stop()
  Evaluator(const Evaluator&) = delete;
  Evaluator& operator=(const Evaluator&) = delete;

  // Subscribes to the hub and starts the judging thread.
  void start();
  // Unsubscribes, stops judging, stops the notifier (retries waiting are abandoned), writes the
  // delivery rows reported. Idempotent.
  void stop();

 private:
  struct Group {
    Group(std::vector<std::pair<std::string, std::string>> labels_, std::int64_t window_seconds,
          std::int64_t since)
        : labels(std::move(labels_)), counts(window_seconds), watched_since(since) {}

    std::vector<std::pair<std::string, std::string>> labels;  // group_by field → value
    WindowCount counts;
    std::int64_t watched_since = 0;  // second
    std::int64_t total = 0;          // records counted ever (an episode's count grows with it)
    std::optional<std::string> sample;
  };
  struct Watched {
    Rule rule;
    tail::Matcher matcher;
    std::map<std::string, Group> groups;  // by group key (the labels' values)
    bool overflow_logged = false;
  };
  struct Episode {
    AlertState state;
    std::int64_t event_id = 0;
    core::Micros fired_at = 0;
    std::int64_t total_at_fire = 0;
    std::int64_t count_at_fire = 0;
    core::Micros last_sent = 0;  // to Alertmanager targets; 0: not since this evaluator has it
  };

  void count(const model::Batch& batch, const model::Record& record);
  void run(const std::stop_token& stop);
  core::Status refresh_rules(store::Connection& db);
  core::Result<bool> lead(store::Connection& db);
  core::Status restore(store::Connection& db);
  core::Status judge(store::Connection& db, std::int64_t now_second);
  core::Status fire(store::Connection& db, const Watched& watched, const std::string& key,
                    const Group& group, std::int64_t now_second, Episode& episode);
  core::Status resolve(store::Connection& db, const Watched& watched, const std::string& key,
                       const Group* group, Episode& episode);
  void notify(const Watched& watched, const Episode& episode,
              const std::vector<std::pair<std::string, std::string>>& labels,
              Notification::Transition transition, std::int64_t count,
              std::optional<core::Micros> resolved_at, std::optional<std::string> sample,
              bool resend = false);
  void write_deliveries(store::Connection& db);

  EvaluatorOptions options_;
  tail::Hub& hub_;
  Notifier& notifier_;
  RenderRecord render_;
  metrics::Metrics& metrics_;

  std::mutex mutex_;  // counting (the hub's thread) against judging (the evaluator's)
  std::map<std::int64_t, Watched> rules_;                             // by rule id
  std::map<model::TenantId, std::vector<Watched*>> rules_by_tenant_;  // into rules_
  std::map<model::TenantId, std::string> tenant_names_;

  // The judging thread's own: episodes by (rule id, group key); meaningful while leading.
  std::map<std::pair<std::int64_t, std::string>, Episode> episodes_;
  bool leading_ = false;
  bool refresh_now_ = true;

  std::mutex deliveries_mutex_;
  std::vector<DeliveryAttempt> deliveries_;  // reported, not yet written

  std::optional<tail::Hub::Id> subscription_;
  std::jthread thread_;
};

}  // namespace logpipe::alerts
