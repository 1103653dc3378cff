// Stable consumer names (queue::ConsumerSlot) against the real Redis: a slot is taken over at
// once from a process of this host that is gone, never from a live one, and two worker processes
// on one host hold distinct names.
#include "queue/consumer_slot.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

#include "harness.hpp"
#include "queue/redis.hpp"

namespace logpipe::test {
namespace {

// The pid of a process that has exited and been reaped: certainly not running.
int dead_pid() {
  const int pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

struct SlotTest : ::testing::Test {
  queue::SyncClient redis = shared_redis();
  queue::SlotOptions options{.stream = unique_tag("slots") + ":stream",
                             .group = "log_workers",
                             .host = "testhost",
                             .ttl = 30'000ms};

  std::string key(int i) const {
    return queue::slot_key(options.stream, options.group, "testhost-" + std::to_string(i));
  }
  void hold(int i, const std::string& holder) {
    ASSERT_TRUE(redis.command({"SET", key(i), holder, "PX", "30000"}));
  }
  std::string holder_of(int i) {
    auto r = redis.command({"GET", key(i)});
    return r ? std::string(queue::reply_string(**r)) : "";
  }
};

TEST_F(SlotTest, ConsumersOfOneProcessTakeConsecutiveSlots) {
  auto first = queue::ConsumerSlot::acquire(redis, options);
  auto second = queue::ConsumerSlot::acquire(redis, options);
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(first->name(), "testhost-0");
  EXPECT_EQ(second->name(), "testhost-1");
  EXPECT_EQ(holder_of(0), first->holder());
  // Released slots are free again, for the next start.
  ASSERT_TRUE(first->release(redis));
  EXPECT_EQ(holder_of(0), "");
  auto again = queue::ConsumerSlot::acquire(redis, options);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->name(), "testhost-0");
}

TEST_F(SlotTest, SlotOfAGoneProcessOfThisHostIsTakenOverAtOnce) {
  hold(0, "testhost:" + std::to_string(dead_pid()) + ":0123456789abcdef");
  auto slot = queue::ConsumerSlot::acquire(redis, options);
  ASSERT_TRUE(slot) << slot.error().message;
  EXPECT_EQ(slot->name(), "testhost-0");
  EXPECT_EQ(holder_of(0), slot->holder());
}

TEST_F(SlotTest, SlotsOfLiveProcessesAndOfOtherHostsAreSkipped) {
  hold(0, "testhost:" + std::to_string(getppid()) + ":0123456789abcdef");    // alive
  hold(1, "otherhost:" + std::to_string(dead_pid()) + ":0123456789abcdef");  // can't tell
  hold(2, "not a holder");
  auto slot = queue::ConsumerSlot::acquire(redis, options);
  ASSERT_TRUE(slot) << slot.error().message;
  EXPECT_EQ(slot->name(), "testhost-3");
}

TEST_F(SlotTest, OurOwnPidWithAnotherTokenIsAnEarlierIncarnation) {
  // A container restarted with the same pid: the lease says "us", but not this process.
  hold(0, "testhost:" + std::to_string(getpid()) + ":0123456789abcdef");
  auto slot = queue::ConsumerSlot::acquire(redis, options);
  ASSERT_TRUE(slot) << slot.error().message;
  EXPECT_EQ(slot->name(), "testhost-0");
}

TEST_F(SlotTest, RefreshReportsASlotTakenByAnotherProcess) {
  auto slot = queue::ConsumerSlot::acquire(redis, options);
  ASSERT_TRUE(slot);
  auto held = slot->refresh(redis);
  ASSERT_TRUE(held);
  EXPECT_TRUE(*held);
  // Expired while Redis was unreachable: taken back.
  ASSERT_TRUE(redis.command({"DEL", key(0)}));
  held = slot->refresh(redis);
  ASSERT_TRUE(held);
  EXPECT_TRUE(*held);
  EXPECT_EQ(holder_of(0), slot->holder());
  // Taken by another process meanwhile: lost.
  hold(0, "testhost:" + std::to_string(getppid()) + ":0123456789abcdef");
  held = slot->refresh(redis);
  ASSERT_TRUE(held);
  EXPECT_FALSE(*held);
  // Release leaves the other process's lease alone.
  ASSERT_TRUE(slot->release(redis));
  EXPECT_NE(holder_of(0), "");
}

// Two `logpipe worker` processes on this host, two consumers each: four distinct names.
TEST(ConsumerSlot, TwoWorkerProcessesOnOneHostNeverShareAName) {
  TestDatabase db("slots");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string stream = unique_tag("slots") + ":stream";
  const LogpipeOptions options{.command = "worker",
                               .database_url = db.url(),
                               .stream = stream,
                               .extra_args = {"--workers", "2"}};
  Logpipe a(options);
  Logpipe b(options);
  auto redis = shared_redis();
  std::set<std::string> names;
  const bool four =
      eventually([&] { return (names = consumer_names(redis, stream)).size() == 4; }, 10s);
  EXPECT_TRUE(four) << names.size() << "\n" << a.process().output() << b.process().output();
  const std::string host = queue::host_name();
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(names.count(host + "-" + std::to_string(i)), 1u) << host << "-" << i;
  EXPECT_EQ(a.process().terminate(), 0);
  EXPECT_EQ(b.process().terminate(), 0);
}

}  // namespace
}  // namespace logpipe::test
