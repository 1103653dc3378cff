// Connection exhaustion: idle clients must not lock new ones out, whatever the descriptor limit.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <vector>

#include "harness.hpp"

namespace logpipe::test {
namespace {

// With more idle connections than the process has descriptors, a new client is still served:
// serve caps its connections below the limit and closes the longest-idle ones to make room.
// (ctest runs each test in its own process, so lowering this one's limit touches no other test;
// serve inherits it.)
TEST(Connections, IdleConnectionsBeyondTheDescriptorLimitDoNotLockOutNewClients) {
  constexpr rlim_t kLimit = 256;
  const rlimit low{kLimit, kLimit};
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  TestDatabase db("conns");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.command = "serve", .database_url = db.url(), .stream = unique_tag("conns")});

  // More idle connections than serve has descriptors (it also holds Redis, PostgreSQL and its
  // log): before the cap, accept failed with EMFILE and new clients waited forever.
  std::vector<int> idle;
  for (int i = 0; i < 220; ++i) {
    const int fd = connect_loopback(lp.port());
    if (fd >= 0) idle.push_back(fd);
  }
  EXPECT_GE(idle.size(), 200u);
  const auto start = std::chrono::steady_clock::now();
  const auto live = get(lp.port(), "/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(post_json(lp.port(), "/api/log", R"({"device_id":"d","message":"after"})").status, 202);
  const auto metrics = get(lp.port(), "/metrics").body;
  EXPECT_NE(metrics.find("http_connection_events_total{event=\"evicted\"}"), std::string::npos)
      << metrics.substr(0, 2000);
  for (const int fd : idle)
    ::close(fd);
  EXPECT_EQ(lp.process().terminate(), 0);
  const std::string log = lp.process().output();
  EXPECT_NE(log.find("max_connections lowered"), std::string::npos) << log;
  EXPECT_EQ(log.find("Too many open files"), std::string::npos) << log;
  setrlimit(RLIMIT_NOFILE, &saved);
}

}  // namespace
}  // namespace logpipe::test
