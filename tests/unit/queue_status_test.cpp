// The e2e lag's arithmetic (queue/status.hpp): an entry id's age on Redis' clock.
#include <gtest/gtest.h>

#include "queue/status.hpp"

namespace logpipe::queue {
namespace {

TEST(EntryAge, IsNowMinusTheIdsMilliseconds) {
  EXPECT_EQ(entry_age_ms("1700000000000-0", 1700000002500), 2500);
  EXPECT_EQ(entry_age_ms("1700000000000-17", 1700000000000), 0);
  EXPECT_EQ(entry_age_ms("1700000000000", 1700000000100), 100);  // no sequence part
}

TEST(EntryAge, IsZeroForNoEntryAGarbledIdOrAClockBehindTheId) {
  EXPECT_EQ(entry_age_ms("", 1700000000000), 0);  // empty stream
  EXPECT_EQ(entry_age_ms("abc-0", 1700000000000), 0);
  EXPECT_EQ(entry_age_ms("-5", 1700000000000), 0);
  EXPECT_EQ(entry_age_ms("12x-0", 1700000000000), 0);
  EXPECT_EQ(entry_age_ms("1700000009000-0", 1700000000000), 0);  // never negative
}

}  // namespace
}  // namespace logpipe::queue
