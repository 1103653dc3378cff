// Token buckets keyed by a string (an API key id, a client address): the per-key and per-IP rate
// limits of README "Rate limits and quotas".
//
// A bucket holds up to `burst_seconds` of its rate and refills continuously; a new bucket starts
// full. A take of `cost` tokens passes when the bucket holds min(cost, capacity): a request of
// more records than the burst still passes once the bucket is full, and the bucket then goes into
// debt that later requests wait out, so the average rate holds whatever the request sizes.
//
// Thread-safe and sharded: serve's io threads take tokens at once, and each key hashes to one of
// `shards` mutexes, so they contend only when they share a shard. Memory is bounded by
// `max_buckets`: when a shard is full, the buckets that have refilled completely are dropped
// (dropping a full bucket changes nothing, since a new one starts full); if none has, the
// least-recently-used quarter of the shard goes, which can only make the limit more lenient for
// those keys, never stricter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace logpipe::auth {

using Nanos = std::int64_t;
// A monotonic clock in nanoseconds; tests pass their own.
using Clock = std::function<Nanos()>;
Nanos steady_now();

struct RateLimiterOptions {
  std::size_t shards = 64;
  std::size_t max_buckets = std::size_t{1} << 16;  // over all shards
  double burst_seconds = 1;                        // capacity = max(1, rate × burst_seconds)
  // For the refusal's message: "over the limit of 10 <unit> per second for <subject> <key>".
  std::string unit = "requests";
  std::string subject = "key";
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimiterOptions options = {}, Clock clock = steady_now);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes `cost` tokens from `key`'s bucket, which refills at `per_second` (0 or less: no limit,
  // nothing taken). Refused:
  // Errc::rate_limited, retry_after_seconds = the whole seconds until the bucket holds enough.
  core::Status take(std::string_view key, double per_second, double cost = 1);

  // Buckets held now (for tests and the bound).
  std::size_t size() const;

 private:
  struct Shard;
  RateLimiterOptions options_;
  Clock clock_;
  std::size_t per_shard_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace logpipe::auth
