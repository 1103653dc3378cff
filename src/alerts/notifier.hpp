// Delivers alert notifications to their targets (generic webhook, Slack, Alertmanager) on
// threads of its own, with retries (retry.hpp), and reports every attempt to its caller, who
// keeps the delivery log. The caller never waits for a receiver.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "alerts/notification.hpp"
#include "alerts/retry.hpp"

namespace logpipe::metrics {
class Metrics;
}

namespace logpipe::alerts {

struct NotifierOptions {
  RetryPolicy retry;
  // Each step of an attempt (connect, TLS handshake, send, the answer) must end within it.
  std::chrono::milliseconds timeout{10'000};
  // Deliveries (one notification to one target) queued or in progress; a notification that
  // does not fit is dropped whole (counted, and reported as attempt 0), so that a receiver that
  // is down cannot make the queue grow without end.
  std::size_t queue_limit = 1000;
  std::size_t threads = 2;  // attempts made at once
};

// Called on a notifier thread after each attempt; must be thread-safe and quick (it may queue a
// write of the delivery log, not make it and wait).
using AttemptCallback = std::function<void(const DeliveryAttempt&)>;

class Notifier {
 public:
  Notifier(NotifierOptions options, metrics::Metrics& metrics);
  ~Notifier();  // stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Queues one delivery per target and returns at once. Each target is tried on its own: a
  // POST (webhook: signed when it has a secret; slack; alertmanager: <url>/api/v2/alerts),
  // until it answers 2xx, answers what is not retried, or the attempts are used up. False when
  // the queue had no room for them all: then none is queued, each target is reported once
  // (attempt 0, not ok) and counted in alert_notifications_dropped_total{reason="queue_full"}.
  bool deliver(Notification notification, std::vector<Target> targets, AttemptCallback on_attempt);

  // Stops: attempts still waiting are abandoned (counted as dropped, reason "shutdown"), and
  // returns once attempts under way have ended (each bounded by the timeout). Idempotent.
  void stop();

  std::size_t pending() const;  // deliveries queued or in progress

 private:
  // A notification and its caller's callback, shared by the jobs of its targets.
  struct Delivery {
    Notification notification;
    AttemptCallback on_attempt;
  };
  // One target of a delivery: its body is built once, the attempts count up.
  struct Job {
    std::shared_ptr<const Delivery> delivery;
    Target target;
    std::string body;
    int attempt = 1;  // the next one
  };
  void run();
  // One attempt; the wait before the next one, or nothing when this one was the last.
  std::optional<std::chrono::milliseconds> attempt(Job& job);

  NotifierOptions options_;
  metrics::Metrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, Job> queue_;  // by when each is due
  std::size_t in_progress_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace logpipe::alerts
