// When a notification is tried again: pure decisions, unit-tested apart from the threads that
// follow them (notifier.cpp).
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace logpipe::alerts {

struct RetryPolicy {
  int attempts = 5;  // in all, the first included
  std::chrono::milliseconds first_delay{1000};
  // Longest wait before an attempt: the doubling stops here, and a receiver's Retry-After is
  // cut to it (a receiver cannot park a notification for an hour).
  std::chrono::milliseconds max_delay{60'000};
};

// How an attempt ended, as far as retrying goes.
struct AttemptOutcome {
  unsigned status = 0;  // HTTP status; 0: no answer (could not connect, timed out, broke)
  std::optional<std::chrono::seconds> retry_after;  // the answer's Retry-After
};

struct RetryDecision {
  bool ok = false;     // delivered (2xx)
  bool retry = false;  // try again after `delay`
  std::chrono::milliseconds delay{0};
};

// Success is 2xx. Network errors, timeouts, 5xx and 429 are tried again after first_delay,
// doubled per attempt (1, 2, 4, 8 s …) up to max_delay, or after the receiver's Retry-After
// (429 and 503) when that is longer, up to max_delay, until `attempts` were made. Other answers
// (3xx, 4xx: the request itself is wrong) are not tried again. `attempt` is the one that just
// ended, from 1.
RetryDecision decide(const RetryPolicy& policy, int attempt, const AttemptOutcome& outcome);

// The wait before attempt `attempt` + 1 without Retry-After: first_delay * 2^(attempt-1),
// at most max_delay.
std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempt);

// Retry-After in delta-seconds ("120"); nullopt for anything else (an HTTP date is rare from
// webhook receivers, and the backoff applies then).
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

}  // namespace logpipe::alerts
