#include "alerts/notifier.hpp"

#include <fmt/format.h>
#include <strings.h>

#include "alerts/payload.hpp"
#include "core/log.hpp"
#include "http/client.hpp"
#include "metrics/metrics.hpp"

namespace logpipe::alerts {
namespace {

using Clock = std::chrono::steady_clock;

std::string body_of(const Notification& n, Target::Type type) {
  switch (type) {
    case Target::Type::slack:
      return slack_body(n);
    case Target::Type::alertmanager:
      return alertmanager_body(n);
    case Target::Type::webhook:
      break;
  }
  return webhook_body(n);
}

std::optional<std::chrono::seconds> retry_after(const http::ClientResponse& response) {
  for (const auto& [name, value] : response.headers) {
    if (::strcasecmp(name.c_str(), "Retry-After") == 0) return parse_retry_after(value);
  }
  return std::nullopt;
}

// The start of an answer's body in an error message: receivers say why they refused there.
std::string excerpt(std::string_view body) {
  constexpr std::size_t kMax = 200;
  std::string out(body.substr(0, kMax));
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return body.size() > kMax ? out + "…" : out;
}

}  // namespace

Notifier::Notifier(NotifierOptions options, metrics::Metrics& metrics)
    : options_(options), metrics_(metrics) {
  const std::size_t threads = std::max<std::size_t>(options_.threads, 1);
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
}

Notifier::~Notifier() {
  stop();
}

bool Notifier::deliver(Notification notification, std::vector<Target> targets,
                       AttemptCallback on_attempt) {
  auto delivery =
      std::make_shared<const Delivery>(Delivery{std::move(notification), std::move(on_attempt)});
  const Notification& n = delivery->notification;
  bool stopping = false;
  {
    std::lock_guard lock(mutex_);
    stopping = stopping_;
    const bool room =
        !stopping_ && queue_.size() + in_progress_ + targets.size() <= options_.queue_limit;
    if (room) {
      const auto now = Clock::now();
      for (auto& target : targets) {
        std::string body = body_of(n, target.type);
        queue_.emplace(now, Job{delivery, std::move(target), std::move(body), 1});
      }
    }
    if (room) {
      wake_.notify_all();
      return true;
    }
  }
  metrics_.alert_notification_dropped(stopping ? "shutdown" : "queue_full",
                                      static_cast<double>(targets.size()));
  const std::string why =
      stopping ? std::string("not sent: the notifier is stopping")
               : fmt::format("not sent: the notification queue was full ({} deliveries)",
                             options_.queue_limit);
  core::log::error("alert notification dropped", {{"rule", n.rule_name},
                                                  {"event_id", std::to_string(n.event_id)},
                                                  {"transition", to_string(n.transition)},
                                                  {"error", why}});
  for (const auto& target : targets) {
    DeliveryAttempt report{
        .event_id = n.event_id,
        .transition = n.transition,
        .target_type = target.type,
        .target_url = redacted_url(target.url),
        .attempt = 0,
        .ok = false,
        .status = 0,
        .error = why,
        .at = core::now_micros(),
        .final = true,
    };
    if (delivery->on_attempt) delivery->on_attempt(report);
  }
  return false;
}

void Notifier::stop() {
  std::unique_lock lock(mutex_);
  if (!stopping_) {
    stopping_ = true;
    if (!queue_.empty())
      metrics_.alert_notification_dropped("shutdown", static_cast<double>(queue_.size()));
    queue_.clear();
    wake_.notify_all();
  }
  lock.unlock();
  for (auto& thread : threads_) {
    if (thread.joinable() && thread.get_id() != std::this_thread::get_id()) thread.join();
  }
}

std::size_t Notifier::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + in_progress_;
}

void Notifier::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto first = queue_.begin();
    if (const Clock::time_point due = first->first; due > Clock::now()) {
      // A copy: another thread may take that job while this one waits.
      wake_.wait_until(lock, due);
      continue;
    }
    Job job = std::move(first->second);
    queue_.erase(first);
    ++in_progress_;
    lock.unlock();
    const auto again = attempt(job);
    lock.lock();
    --in_progress_;
    if (!again) continue;
    if (stopping_) {
      metrics_.alert_notification_dropped("shutdown");
    } else {
      ++job.attempt;
      queue_.emplace(Clock::now() + *again, std::move(job));
      wake_.notify_one();
    }
  }
}

std::optional<std::chrono::milliseconds> Notifier::attempt(Job& job) {
  const Notification& n = job.delivery->notification;
  DeliveryAttempt report{
      .event_id = n.event_id,
      .transition = n.transition,
      .target_type = job.target.type,
      .target_url = redacted_url(job.target.url),
      .attempt = job.attempt,
      .ok = false,
      .status = 0,
      .error = {},
      .at = core::now_micros(),
      .final = true,
  };
  AttemptOutcome outcome;
  RetryDecision decision;
  auto where = target_endpoint(job.target);
  if (!where) {
    // A wrong URL stays wrong: not tried again. (parse_url's message names the URL, whose path
    // may be a secret.)
    report.error = fmt::format("the {} URL {} is not an http:// or https:// URL",
                               to_string(job.target.type), report.target_url);
  } else {
    http::Headers headers = std::move(where->headers);
    headers.emplace_back("User-Agent", "logpipe-alerts");
    headers.emplace_back("X-Logpipe-Event-Id",
                         fmt::format("{}-{}", n.event_id, to_string(n.transition)));
    if (job.target.type == Target::Type::webhook) {
      // Signed at each attempt: the timestamp is when it was sent, which is what a receiver
      // checks against its clock.
      const std::int64_t now = report.at / core::kSecond;
      headers.emplace_back("X-Logpipe-Timestamp", std::to_string(now));
      if (!job.target.secret.empty())
        headers.emplace_back("X-Logpipe-Signature", signature(job.target.secret, now, job.body));
    }
    // A client per attempt: attempts are seconds apart, a kept-alive connection would be
    // stale by the next, and a POST is not sent twice on one.
    http::SyncClient client(where->url, options_.timeout);
    auto response = client.post(where->target, job.body, "application/json", headers);
    if (!response) {
      report.error = response.error().message;
    } else {
      outcome.status = response->status;
      outcome.retry_after = retry_after(*response);
      if (response->status < 200 || response->status >= 300)
        report.error = fmt::format("HTTP {} {}{}{}", response->status, response->reason,
                                   response->body.empty() ? "" : ": ", excerpt(response->body));
    }
    decision = decide(options_.retry, job.attempt, outcome);
  }
  report.ok = decision.ok;
  report.status = outcome.status;
  report.final = !decision.retry;
  const char* result = decision.ok ? "ok" : decision.retry ? "retry" : "failed";
  metrics_.alert_notification(result);
  if (!decision.ok) {
    const core::log::Fields fields{
        {"rule", n.rule_name},
        {"event_id", std::to_string(n.event_id)},
        {"transition", to_string(n.transition)},
        {"target", fmt::format("{} {}", to_string(job.target.type), report.target_url)},
        {"attempt", std::to_string(job.attempt)},
        {"error", report.error},
        {"next_attempt_in_ms", decision.retry ? std::to_string(decision.delay.count()) : "none"},
    };
    if (decision.retry)
      core::log::warn("alert notification failed; trying again", fields);
    else
      core::log::error("alert notification failed", fields);
  }
  if (job.delivery->on_attempt) {
    try {
      job.delivery->on_attempt(report);
    } catch (const std::exception& e) {
      // The delivery log's writer failed; the delivery itself goes on.
      core::log::error("alert delivery report failed", {{"error", e.what()}});
    }
  }
  if (decision.retry) return decision.delay;
  return std::nullopt;
}

}  // namespace logpipe::alerts
