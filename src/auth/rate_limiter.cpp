#include "auth/rate_limiter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace logpipe::auth {
namespace {

constexpr double kNanosPerSecond = 1e9;

struct KeyHash {
  using is_transparent = void;  // find() by string_view: no allocation on the hot path
  std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};

struct Bucket {
  double tokens = 0;  // may be negative: the debt of a take bigger than the burst
  Nanos updated = 0;  // when `tokens` was last brought up to date
  Nanos full_at = 0;  // when the bucket will be full again, if nothing is taken
};

}  // namespace

Nanos steady_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One cache line per mutex, so that io threads on different shards do not share one.
struct alignas(64) RateLimiter::Shard {
  std::mutex mutex;
  std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>> buckets;
};

RateLimiter::RateLimiter(RateLimiterOptions options, Clock clock)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      per_shard_(std::max<std::size_t>(
          1, options_.max_buckets / std::max<std::size_t>(1, options_.shards))),
      shards_(std::make_unique<Shard[]>(std::max<std::size_t>(1, options_.shards))) {
  options_.shards = std::max<std::size_t>(1, options_.shards);
}

RateLimiter::~RateLimiter() = default;

core::Status RateLimiter::take(std::string_view key, double per_second, double cost) {
  if (!(per_second > 0)) return {};  // no rate: no limit
  const double capacity = std::max(1.0, per_second * options_.burst_seconds);
  const double needed = std::min(cost, capacity);
  Shard& shard = shards_[KeyHash{}(key) % options_.shards];
  const Nanos now = clock_();
  double wait_seconds = 0;
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.buckets.find(key);
    if (it == shard.buckets.end()) {
      if (shard.buckets.size() >= per_shard_) {
        // Full buckets first: forgetting them changes nothing.
        std::erase_if(shard.buckets, [now](const auto& e) { return e.second.full_at <= now; });
        if (shard.buckets.size() >= per_shard_) {
          // Every key is busy (a flood of distinct keys): the least recently used quarter goes.
          std::vector<std::pair<Nanos, std::string_view>> by_age;
          by_age.reserve(shard.buckets.size());
          for (const auto& [k, b] : shard.buckets)
            by_age.emplace_back(b.updated, k);
          const std::size_t drop = std::max<std::size_t>(1, by_age.size() / 4);
          std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                           by_age.end());
          std::vector<std::string> victims;
          victims.reserve(drop);
          for (std::size_t i = 0; i < drop; ++i)
            victims.emplace_back(by_age[i].second);
          for (const auto& v : victims)
            shard.buckets.erase(v);
        }
      }
      it = shard.buckets.emplace(std::string(key), Bucket{capacity, now, now}).first;
    }
    Bucket& b = it->second;
    if (now > b.updated) {
      b.tokens = std::min(
          capacity, b.tokens + static_cast<double>(now - b.updated) * per_second / kNanosPerSecond);
      b.updated = now;
    }
    if (b.tokens >= needed) {
      b.tokens -= cost;
      b.full_at = now + static_cast<Nanos>((capacity - b.tokens) / per_second * kNanosPerSecond);
      return {};
    }
    wait_seconds = (needed - b.tokens) / per_second;
  }
  core::Error error(core::Errc::rate_limited,
                    fmt::format("over the limit of {} {} per second for {} {}; retry later",
                                per_second, options_.unit, options_.subject, key));
  error.retry_after_seconds = static_cast<unsigned>(std::max(1.0, std::ceil(wait_seconds)));
  return error;
}

std::size_t RateLimiter::size() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < options_.shards; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    n += shards_[i].buckets.size();
  }
  return n;
}

}  // namespace logpipe::auth
