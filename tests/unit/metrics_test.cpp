// Metrics' queue gauges, tail subscribers and build info as /metrics renders them.
#include "metrics/metrics.hpp"

#include <gtest/gtest.h>

namespace logpipe::metrics {
namespace {

bool has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(Metrics, BuildInfoIsOneWithTheVersion) {
  const Metrics m;
  const auto text = m.render();
  const auto at = text.find("\nlogpipe_build_info{");
  ASSERT_NE(at, std::string::npos) << text;
  const auto line = text.substr(at + 1, text.find('\n', at + 1) - at - 1);
  EXPECT_NE(line.find("version=\"0.1.0\""), std::string::npos) << line;
  EXPECT_NE(line.find("commit=\""), std::string::npos) << line;
  EXPECT_NE(line.find("build_type=\""), std::string::npos) << line;
  EXPECT_TRUE(line.ends_with("} 1")) << line;
}

TEST(Metrics, EveryTransportsTailSubscribersStartAtZero) {
  Metrics m;
  EXPECT_TRUE(has(m.render(), "tail_subscribers{transport=\"ws\"} 0"));
  EXPECT_TRUE(has(m.render(), "tail_subscribers{transport=\"sse\"} 0"));
  m.tail_subscriber("sse", true);
  EXPECT_TRUE(has(m.render(), "tail_subscribers{transport=\"sse\"} 1"));
  m.tail_subscriber("sse", false);
  EXPECT_TRUE(has(m.render(), "tail_subscribers{transport=\"sse\"} 0"));
}

TEST(Metrics, QueueSampleSetsTheGaugesAndDropsConsumersThatLeft) {
  Metrics m;
  m.set_queue(Metrics::QueueSample{.oldest_entry_age_seconds = 12.5,
                                   .undelivered = 3,
                                   .dlq_entries = 2,
                                   .pending = {{"w-0", 4}, {"w-1", 0}}});
  m.set_postgres_up(true);
  auto text = m.render();
  EXPECT_TRUE(has(text, "stream_oldest_entry_age_seconds 12.5")) << text;
  EXPECT_TRUE(has(text, "stream_undelivered_entries 3")) << text;
  EXPECT_TRUE(has(text, "dlq_entries 2")) << text;
  EXPECT_TRUE(has(text, "stream_pending_entries{consumer=\"w-0\"} 4")) << text;
  EXPECT_TRUE(has(text, "stream_pending_entries{consumer=\"w-1\"} 0")) << text;
  EXPECT_TRUE(has(text, "redis_up 1")) << text;
  EXPECT_TRUE(has(text, "postgres_up 1")) << text;

  m.set_queue(Metrics::QueueSample{.pending = {{"w-1", 1}}});
  text = m.render();
  EXPECT_EQ(text.find("consumer=\"w-0\""), std::string::npos) << text;
  EXPECT_TRUE(has(text, "stream_pending_entries{consumer=\"w-1\"} 1")) << text;
  EXPECT_TRUE(has(text, "stream_oldest_entry_age_seconds 0")) << text;

  // Redis did not answer: redis_up drops, the last values stay.
  m.set_queue(std::nullopt);
  text = m.render();
  EXPECT_TRUE(has(text, "redis_up 0")) << text;
  EXPECT_TRUE(has(text, "stream_pending_entries{consumer=\"w-1\"} 1")) << text;
}

}  // namespace
}  // namespace logpipe::metrics
