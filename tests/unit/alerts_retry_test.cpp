// When a notification is tried again, and how long after.
#include <gtest/gtest.h>

#include "alerts/retry.hpp"

namespace logpipe::alerts {
namespace {

using namespace std::chrono_literals;

AttemptOutcome answer(unsigned status, std::optional<std::chrono::seconds> retry_after = {}) {
  return {.status = status, .retry_after = retry_after};
}

const RetryPolicy kPolicy{.attempts = 5, .first_delay = 1000ms, .max_delay = 60'000ms};

TEST(AlertRetry, SuccessIs2xx) {
  EXPECT_TRUE(decide(kPolicy, 1, answer(200)).ok);
  EXPECT_TRUE(decide(kPolicy, 1, answer(204)).ok);
  EXPECT_FALSE(decide(kPolicy, 1, answer(204)).retry);
}

TEST(AlertRetry, BackoffDoubles) {
  for (const unsigned status : {0U, 500U, 502U, 503U, 429U}) {
    const auto first = decide(kPolicy, 1, answer(status));
    EXPECT_TRUE(first.retry) << status;
    EXPECT_FALSE(first.ok);
    EXPECT_EQ(first.delay, 1000ms);
  }
  EXPECT_EQ(decide(kPolicy, 2, answer(500)).delay, 2000ms);
  EXPECT_EQ(decide(kPolicy, 3, answer(500)).delay, 4000ms);
  EXPECT_EQ(decide(kPolicy, 4, answer(500)).delay, 8000ms);
  EXPECT_EQ(backoff({.attempts = 30, .first_delay = 1000ms, .max_delay = 60'000ms}, 20), 60'000ms);
}

TEST(AlertRetry, StopsAfterTheLastAttempt) {
  const auto last = decide(kPolicy, 5, answer(500));
  EXPECT_FALSE(last.retry);
  EXPECT_FALSE(last.ok);
}

TEST(AlertRetry, OtherAnswersAreNotRetried) {
  for (const unsigned status : {301U, 400U, 401U, 403U, 404U, 410U, 422U}) {
    EXPECT_FALSE(decide(kPolicy, 1, answer(status)).retry) << status;
    EXPECT_FALSE(decide(kPolicy, 1, answer(status)).ok) << status;
  }
}

TEST(AlertRetry, RetryAfterIsHonouredUpToTheCap) {
  EXPECT_EQ(decide(kPolicy, 1, answer(429, 30s)).delay, 30'000ms);
  EXPECT_EQ(decide(kPolicy, 1, answer(503, 3600s)).delay, 60'000ms);
  // Shorter than the backoff: the backoff.
  EXPECT_EQ(decide(kPolicy, 3, answer(429, 1s)).delay, 4000ms);
  // Only 429 and 503 speak of when to come back.
  EXPECT_EQ(decide(kPolicy, 1, answer(500, 30s)).delay, 1000ms);
}

TEST(AlertRetry, ParsesRetryAfterSeconds) {
  EXPECT_EQ(parse_retry_after("120"), 120s);
  EXPECT_EQ(parse_retry_after(" 5 "), 5s);
  EXPECT_EQ(parse_retry_after("0"), 0s);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(parse_retry_after("-1"), std::nullopt);
  EXPECT_EQ(parse_retry_after(""), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5"), std::nullopt);
}

}  // namespace
}  // namespace logpipe::alerts
