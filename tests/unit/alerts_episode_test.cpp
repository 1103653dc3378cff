#include <gtest/gtest.h>

#include "alerts/episode.hpp"

namespace logpipe::alerts {
namespace {

TEST(WindowCount, CountsOnlyTheLastWindowOfSeconds) {
  WindowCount counts(60);
  counts.add(100, 3);
  counts.add(130, 2);
  EXPECT_EQ(counts.count(130), 5);
  EXPECT_EQ(counts.count(159), 5);
  EXPECT_EQ(counts.count(160), 2);  // second 100 left the window (100 <= 160 - 60)
  EXPECT_EQ(counts.count(190), 0);
  EXPECT_TRUE(counts.idle(190));
  EXPECT_EQ(counts.last_second(), 130);
}

TEST(WindowCount, ASecondFromThePastJoinsTheNewestBucket) {
  WindowCount counts(10);
  counts.add(50);
  counts.add(49);
  EXPECT_EQ(counts.count(50), 2);
  EXPECT_EQ(counts.last_second(), 50);
}

TEST(Condition, ThresholdHoldsAtTheThreshold) {
  const Condition errors{Kind::threshold, 10, 60};
  WindowCount counts(60);
  counts.add(0, 9);
  EXPECT_FALSE(condition_holds(errors, counts, 0, 1));
  counts.add(1);
  EXPECT_TRUE(condition_holds(errors, counts, 0, 1));
  EXPECT_FALSE(condition_holds(errors, counts, 0, 60));  // second 0 left the window
}

TEST(Condition, MatchHoldsWhileARecordIsInTheWindow) {
  const Condition match{Kind::match, 1, 30};
  WindowCount counts(30);
  EXPECT_FALSE(condition_holds(match, counts, 0, 5));
  counts.add(5);
  EXPECT_TRUE(condition_holds(match, counts, 0, 5));
  EXPECT_TRUE(condition_holds(match, counts, 0, 34));
  EXPECT_FALSE(condition_holds(match, counts, 0, 35));
}

TEST(Condition, AbsenceCountsSilenceFromTheLastRecordOrFromWhenWatchingBegan) {
  const Condition silent{Kind::absence, 1, 300};
  WindowCount counts(300);
  // Nothing seen yet: silence starts when the evaluator began to watch, not at the epoch.
  EXPECT_FALSE(condition_holds(silent, counts, 1000, 1299));
  EXPECT_TRUE(condition_holds(silent, counts, 1000, 1300));
  counts.add(1290);
  EXPECT_FALSE(condition_holds(silent, counts, 1000, 1300));
  EXPECT_FALSE(condition_holds(silent, counts, 1000, 1589));
  EXPECT_TRUE(condition_holds(silent, counts, 1000, 1590));
}

TEST(AlertState, FiresOnceAndResolvesAfterTheCooldownOfClearCondition) {
  AlertState state;
  EXPECT_EQ(state.observe(false, 0, 30), std::nullopt);
  EXPECT_EQ(state.observe(true, 1, 30), Transition::fire);
  EXPECT_EQ(state.observe(true, 2, 30), std::nullopt);
  EXPECT_EQ(state.observe(false, 3, 30), std::nullopt);
  EXPECT_EQ(state.observe(false, 32, 30), std::nullopt);
  EXPECT_EQ(state.observe(false, 33, 30), Transition::resolve);
  EXPECT_FALSE(state.firing());
  EXPECT_EQ(state.observe(false, 100, 30), std::nullopt);
}

TEST(AlertState, AStormWithShortPausesIsOneAlert) {
  AlertState state;
  int fired = 0;
  int resolved = 0;
  // Bursts of 5 s, pauses of 20 s, for 10 minutes; cooldown 30 s.
  for (std::int64_t t = 0; t < 600; ++t) {
    const bool holds = t % 25 < 5;
    if (auto transition = state.observe(holds, t, 30)) {
      (*transition == Transition::fire ? fired : resolved) += 1;
    }
  }
  for (std::int64_t t = 600; t < 700; ++t) {
    if (auto transition = state.observe(false, t, 30)) {
      (*transition == Transition::fire ? fired : resolved) += 1;
    }
  }
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(resolved, 1);
}

TEST(AlertState, ARestoredAlertResolvesWithoutFiringAgain) {
  auto state = AlertState::restored_firing();
  EXPECT_EQ(state.observe(true, 10, 0), std::nullopt);
  EXPECT_EQ(state.observe(false, 11, 0), Transition::resolve);
}

TEST(AlertState, ZeroCooldownResolvesAtOnce) {
  AlertState state;
  EXPECT_EQ(state.observe(true, 1, 0), Transition::fire);
  EXPECT_EQ(state.observe(false, 2, 0), Transition::resolve);
  EXPECT_EQ(state.observe(true, 3, 0), Transition::fire);
}

}  // namespace
}  // namespace logpipe::alerts
