// The rate limiter on the hot path (docs/PERFORMANCE.md "Rate limits"): one take per request (its
// key's or its address's bucket) and one per ingest request for logs/s. Uncontended, over many
// keys, and from several threads at once as serve's io threads do.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "auth/rate_limiter.hpp"

namespace {

using logpipe::auth::RateLimiter;

// One key, a limit never reached: the cost every request of a busy key pays.
void BM_RateLimiterTakeOneKey(benchmark::State& state) {
  RateLimiter limiter;
  for (auto _ : state)
    benchmark::DoNotOptimize(limiter.take("lpk_0123456789abcdef", 1e12));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RateLimiterTakeOneKey);

// Many keys (client addresses): hash, shard, lookup in a bigger map.
void BM_RateLimiterTakeManyKeys(benchmark::State& state) {
  RateLimiter limiter;
  std::vector<std::string> keys;
  for (int i = 0; i < state.range(0); ++i)
    keys.push_back("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.take(keys[i], 1e12));
    i = i + 1 == keys.size() ? 0 : i + 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RateLimiterTakeManyKeys)->Arg(1000)->Arg(50000);

// Threads taking at once: the same key (one shard's mutex) and each its own key.
RateLimiter& shared_limiter() {
  static RateLimiter limiter;
  return limiter;
}
void BM_RateLimiterSameKeyThreads(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(shared_limiter().take("one-key", 1e12));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RateLimiterSameKeyThreads)->Threads(1)->Threads(2)->Threads(4);
void BM_RateLimiterOwnKeyThreads(benchmark::State& state) {
  const std::string key = "key-" + std::to_string(state.thread_index());
  for (auto _ : state)
    benchmark::DoNotOptimize(shared_limiter().take(key, 1e12));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RateLimiterOwnKeyThreads)->Threads(1)->Threads(2)->Threads(4);

}  // namespace
