#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "auth/rate_limiter.hpp"

namespace {

using logpipe::auth::Nanos;
using logpipe::auth::RateLimiter;
using logpipe::auth::RateLimiterOptions;
using logpipe::core::Errc;

constexpr Nanos kSecond = 1'000'000'000;

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<std::atomic<Nanos>> now = std::make_shared<std::atomic<Nanos>>(kSecond);
  logpipe::auth::Clock clock() const {
    return [now = now] { return now->load(); };
  }
  void advance(Nanos by) const { *now += by; }
};

TEST(RateLimiter, NewBucketAllowsTheBurstThenRefuses) {
  FakeClock t;
  RateLimiter limiter({}, t.clock());
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(limiter.take("k", 10)) << i;
  auto refused = limiter.take("k", 10);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::rate_limited);
  EXPECT_EQ(refused.error().retry_after_seconds, 1U);
  EXPECT_NE(refused.error().message.find("10 requests per second for key k"), std::string::npos)
      << refused.error().message;
}

TEST(RateLimiter, ZeroRateIsNoLimit) {
  FakeClock t;
  RateLimiter limiter({}, t.clock());
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(limiter.take("k", 0, 1000));
  EXPECT_EQ(limiter.size(), 0U) << "no bucket kept for an unlimited key";
}

TEST(RateLimiter, RefillsAtTheRate) {
  FakeClock t;
  RateLimiter limiter({}, t.clock());
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(limiter.take("k", 10));
  EXPECT_FALSE(limiter.take("k", 10));
  t.advance(kSecond / 10);  // one token
  EXPECT_TRUE(limiter.take("k", 10));
  EXPECT_FALSE(limiter.take("k", 10));
  t.advance(10 * kSecond);  // never more than the burst
  for (int i = 0; i < 10; ++i)
    EXPECT_TRUE(limiter.take("k", 10)) << i;
  EXPECT_FALSE(limiter.take("k", 10));
}

TEST(RateLimiter, BurstSecondsScaleTheCapacity) {
  FakeClock t;
  RateLimiterOptions o;
  o.burst_seconds = 3;
  RateLimiter limiter(o, t.clock());
  for (int i = 0; i < 6; ++i)
    EXPECT_TRUE(limiter.take("k", 2)) << i;
  EXPECT_FALSE(limiter.take("k", 2));
}

TEST(RateLimiter, KeysHaveTheirOwnBuckets) {
  FakeClock t;
  RateLimiter limiter({}, t.clock());
  EXPECT_TRUE(limiter.take("a", 1));
  EXPECT_FALSE(limiter.take("a", 1));
  EXPECT_TRUE(limiter.take("b", 1));
}

TEST(RateLimiter, RetryAfterIsTheTimeUntilEnoughTokens) {
  FakeClock t;
  RateLimiterOptions o;
  o.unit = "logs";
  RateLimiter limiter(o, t.clock());
  ASSERT_TRUE(limiter.take("k", 100, 100));
  auto refused = limiter.take("k", 100, 50);  // 50 tokens at 100/s: 0.5 s, rounded up
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().retry_after_seconds, 1U);
  // A slow rate: 1 token per 4 s.
  ASSERT_TRUE(limiter.take("slow", 0.25));
  auto slow = limiter.take("slow", 0.25);
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().retry_after_seconds, 4U);
  t.advance(3 * kSecond);
  EXPECT_EQ(limiter.take("slow", 0.25).error().retry_after_seconds, 1U);
  t.advance(kSecond);
  EXPECT_TRUE(limiter.take("slow", 0.25));
}

// A take bigger than the burst passes on a full bucket and leaves a debt, so the average rate
// holds: 1000 logs at 100 logs/s means 10 s before the next ones.
TEST(RateLimiter, ATakeBiggerThanTheBurstLeavesADebt) {
  FakeClock t;
  RateLimiter limiter({}, t.clock());
  ASSERT_TRUE(limiter.take("k", 100, 1000));
  auto refused = limiter.take("k", 100, 1);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().retry_after_seconds, 10U);  // 900 of debt + 1
  t.advance(9 * kSecond);
  EXPECT_FALSE(limiter.take("k", 100, 1));
  t.advance(kSecond);
  EXPECT_TRUE(limiter.take("k", 100, 1));
  // A big one again must wait for a full bucket.
  EXPECT_FALSE(limiter.take("k", 100, 1000));
}

TEST(RateLimiter, FullBucketsAreEvictedFirstAndMemoryStaysBounded) {
  FakeClock t;
  RateLimiterOptions o;
  o.shards = 4;
  o.max_buckets = 64;  // 16 per shard
  RateLimiter limiter(o, t.clock());
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(limiter.take("ip" + std::to_string(i), 1));
    EXPECT_LE(limiter.size(), 64U);
  }
  // A key whose bucket is still empty is not forgotten while others are full: "busy" has taken
  // its one token; the others refill within a second.
  RateLimiter other(o, t.clock());
  ASSERT_TRUE(other.take("busy", 0.001));
  t.advance(2 * kSecond);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(other.take("idle" + std::to_string(i), 1000));
    t.advance(kSecond / 500);  // each idle bucket is full again 1 ms after its take
  }
  EXPECT_FALSE(other.take("busy", 0.001)) << "the busy key's bucket was evicted";
}

TEST(RateLimiter, ConcurrentTakesNeverExceedTheBurst) {
  FakeClock t;  // time stands still: exactly the burst may pass, whatever the threads
  RateLimiter limiter({}, t.clock());
  std::atomic<int> passed{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 8; ++n) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        if (limiter.take("shared", 1000)) ++passed;
        (void)limiter.take("own" + std::to_string(i % 50), 1000);
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(passed.load(), 1000);
}

TEST(RateLimiter, RealClockRefills) {
  RateLimiter limiter;
  ASSERT_TRUE(limiter.take("k", 50));
  int passed = 1;
  while (limiter.take("k", 50))
    ++passed;
  EXPECT_GE(passed, 50);
  EXPECT_LE(passed, 55);  // the loop itself may take a few ms on a busy machine
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // ≥ 5 tokens back
  EXPECT_TRUE(limiter.take("k", 50));
}

}  // namespace
