// How the evaluator judges one rule for one group (one value of its group_by, or the whole rule
// without one): the matching records per second over the rule's window, whether its condition
// holds, and the alert's state.
//
// An alert fires when its condition starts to hold and resolves only once the condition has been
// clear for the rule's cooldown: a storm with pauses shorter than the cooldown is one alert, one
// firing and one resolved notification, however often its count dips below the threshold.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

#include "alerts/rule.hpp"

namespace logpipe::alerts {

// Matching records per second over a sliding window of whole seconds; memory is bounded by the
// window (one bucket per second that had records).
class WindowCount {
 public:
  explicit WindowCount(std::int64_t window_seconds) : window_(window_seconds) {}

  void add(std::int64_t second, std::int64_t records = 1);
  // Records in the window ending with `now_second`: (now - window, now].
  std::int64_t count(std::int64_t now_second);
  // The last second a record was added in, if any was.
  std::optional<std::int64_t> last_second() const { return last_; }
  // Nothing in the window and nothing to remember.
  bool idle(std::int64_t now_second);

 private:
  void expire(std::int64_t now_second);

  std::int64_t window_;
  std::deque<std::pair<std::int64_t, std::int64_t>> buckets_;  // (second, records), oldest first
  std::int64_t total_ = 0;
  std::optional<std::int64_t> last_;
};

struct Condition {
  Kind kind = Kind::threshold;
  std::int64_t threshold = 1;  // threshold: records in the window; match: 1
  std::int64_t window_seconds = 60;
};

// Whether the condition holds at `now_second`. `watched_since`: when the evaluator began to watch
// this group (absence: silence counts from there, not from before anyone looked).
bool condition_holds(const Condition& condition, WindowCount& counts, std::int64_t watched_since,
                     std::int64_t now_second);

enum class Transition { fire, resolve };

class AlertState {
 public:
  AlertState() = default;
  // An alert already firing (restored from the database by a new evaluator).
  static AlertState restored_firing();

  // The transition to notify, if any.
  std::optional<Transition> observe(bool holds, std::int64_t now_second,
                                    std::int64_t cooldown_seconds);
  bool firing() const { return firing_; }

 private:
  bool firing_ = false;
  std::optional<std::int64_t> clear_since_;  // firing, and the condition clear since then
};

}  // namespace logpipe::alerts
