#include "alerts/retry.hpp"

#include <algorithm>
#include <charconv>

namespace logpipe::alerts {

std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempt) {
  std::chrono::milliseconds delay = policy.first_delay;
  for (int i = 1; i < attempt && delay < policy.max_delay; ++i)
    delay *= 2;
  return std::min(delay, policy.max_delay);
}

RetryDecision decide(const RetryPolicy& policy, int attempt, const AttemptOutcome& outcome) {
  const unsigned status = outcome.status;
  if (status >= 200 && status < 300) return {.ok = true};
  const bool retryable = status == 0 || status == 429 || status >= 500;
  if (!retryable || attempt >= policy.attempts) return {};
  std::chrono::milliseconds delay = backoff(policy, attempt);
  if (outcome.retry_after && (status == 429 || status == 503))
    delay = std::max(delay,
                     std::min<std::chrono::milliseconds>(*outcome.retry_after, policy.max_delay));
  return {.retry = true, .delay = delay};
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  std::int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0 || value.empty())
    return std::nullopt;
  return std::chrono::seconds(std::min<std::int64_t>(seconds, std::int64_t{86'400} * 365));
}

}  // namespace logpipe::alerts
