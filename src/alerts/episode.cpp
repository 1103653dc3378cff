#include "alerts/episode.hpp"

#include <algorithm>

namespace logpipe::alerts {

void WindowCount::add(std::int64_t second, std::int64_t records) {
  if (records <= 0) return;
  // Records arrive in time order from one reader; a second from the past (a clock step back)
  // joins the newest bucket rather than reordering the window.
  if (!buckets_.empty() && second <= buckets_.back().first) {
    buckets_.back().second += records;
  } else {
    buckets_.emplace_back(second, records);
  }
  total_ += records;
  last_ = std::max(last_.value_or(second), second);
}

void WindowCount::expire(std::int64_t now_second) {
  while (!buckets_.empty() && buckets_.front().first <= now_second - window_) {
    total_ -= buckets_.front().second;
    buckets_.pop_front();
  }
}

std::int64_t WindowCount::count(std::int64_t now_second) {
  expire(now_second);
  return total_;
}

bool WindowCount::idle(std::int64_t now_second) {
  return count(now_second) == 0;
}

bool condition_holds(const Condition& condition, WindowCount& counts, std::int64_t watched_since,
                     std::int64_t now_second) {
  switch (condition.kind) {
    case Kind::threshold:
      return counts.count(now_second) >= condition.threshold;
    case Kind::match:
      return counts.count(now_second) >= 1;
    case Kind::absence: {
      const std::int64_t last =
          std::max(counts.last_second().value_or(watched_since), watched_since);
      return now_second - last >= condition.window_seconds;
    }
  }
  return false;
}

AlertState AlertState::restored_firing() {
  AlertState state;
  state.firing_ = true;
  return state;
}

std::optional<Transition> AlertState::observe(bool holds, std::int64_t now_second,
                                              std::int64_t cooldown_seconds) {
  if (holds) {
    clear_since_.reset();
    if (firing_) return std::nullopt;
    firing_ = true;
    return Transition::fire;
  }
  if (!firing_) return std::nullopt;
  if (!clear_since_) clear_since_ = now_second;
  if (now_second - *clear_since_ < cooldown_seconds) return std::nullopt;
  firing_ = false;
  clear_since_.reset();
  return Transition::resolve;
}

}  // namespace logpipe::alerts
