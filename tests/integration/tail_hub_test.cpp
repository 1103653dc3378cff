// tail::Hub against the real Redis: entries the worker deleted before a lagging hub read them are
// noticed (the stream's entries-added against what the hub read) and told to every subscriber,
// while entries deleted after it read them, as the worker normally does, are not.
#include <gtest/gtest.h>

#include <future>
#include <mutex>

#include "harness.hpp"
#include "metrics/metrics.hpp"
#include "queue/batch_codec.hpp"
#include "queue/redis.hpp"
#include "queue/stream_consumer.hpp"
#include "tail/hub.hpp"

namespace logpipe::test {
namespace {

// Takes everything; the record "hold" keeps the hub's thread inside record() until released, as
// a hub too busy to read would be.
class HoldingSink : public tail::Sink {
 public:
  Offer record(std::string_view json) override {
    if (json == "hold") {
      held_.set_value();
      release_.get_future().wait();
    }
    return take(std::string(json));
  }
  Offer dropped(const tail::Drops& drops) override { return take(tail::drops_json(drops)); }
  bool tick(std::chrono::steady_clock::time_point) override { return true; }
  void close() override {}

  std::future<void> held() { return held_.get_future(); }
  void release() { release_.set_value(); }
  std::vector<std::string> messages() {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  Offer take(std::string message) {
    std::lock_guard lock(mutex_);
    messages_.push_back(std::move(message));
    return Offer::taken;
  }
  std::promise<void> held_;
  std::promise<void> release_;
  std::mutex mutex_;
  std::vector<std::string> messages_;
};

std::string entry_of(const std::string& message) {
  model::Batch batch;
  batch.tenant_id = 1;
  batch.received_at = core::now_micros();
  model::Record record;
  record.ts = batch.received_at;
  record.message = message;
  batch.records.push_back(record);
  const std::string encoded = queue::encode_batch(batch);
  return queue::encode_entry(std::span<const std::string>(&encoded, 1));
}

bool contains(const std::vector<std::string>& messages, const std::string& wanted) {
  return std::find(messages.begin(), messages.end(), wanted) != messages.end();
}

TEST(TailHub, EntriesDeletedBeforeItReadThemAreToldAsMissedAndOnlyThose) {
  auto endpoint = queue::parse_redis_url(Services::shared().redis_url);
  ASSERT_TRUE(endpoint);
  auto redis = queue::SyncClient::connect(*endpoint, 2000ms);
  ASSERT_TRUE(redis);
  const std::string stream = unique_tag("tailgap") + ":stream";
  const auto add = [&](const std::string& message) {
    auto id = redis->command({"XADD", stream, "*", queue::field::payload, entry_of(message)});
    EXPECT_TRUE(id) << id.error().message;
    return id ? std::string(queue::reply_string(**id)) : std::string();
  };
  const auto del = [&](const std::string& id) {
    EXPECT_TRUE(redis->command({"XDEL", stream, id}));
  };

  metrics::Metrics metrics;
  tail::HubOptions options;
  options.redis = *endpoint;
  options.stream = stream;
  options.block = 200ms;
  options.gap_check = 100ms;
  tail::Hub hub(
      options, [](const model::Batch&, const model::Record& r) { return r.message; }, metrics);
  auto sink = std::make_shared<HoldingSink>();
  auto filter = query::parse_log_filter({}, 1, 0);
  ASSERT_TRUE(filter);
  ASSERT_TRUE(hub.subscribe(tail::Matcher::compile(*filter), sink, "ws"));
  hub.start();

  // The hub starts from the stream's end once it runs: entries until one arrives.
  ASSERT_TRUE(eventually(
      [&] {
        add("early");
        return contains(sink->messages(), "early");
      },
      20s));
  // Read, then deleted (the worker's normal pace): no gap.
  for (int i = 0; i < 5; ++i) {
    const std::string message = "read-" + std::to_string(i);
    const auto id = add(message);
    ASSERT_TRUE(eventually([&] { return contains(sink->messages(), message); }, 20s));
    del(id);
  }
  std::this_thread::sleep_for(500ms);  // several gap checks
  EXPECT_EQ(hub.last_gap(), 0);

  // The hub is held inside a record while three entries come and two are stored and deleted.
  auto held = sink->held();
  add("hold");
  ASSERT_EQ(held.wait_for(20s), std::future_status::ready);
  const auto gone1 = add("gone-1");
  const auto gone2 = add("gone-2");
  add("kept");
  del(gone1);
  del(gone2);
  sink->release();

  ASSERT_TRUE(eventually(
      [&] { return contains(sink->messages(), R"({"dropped":0,"missed_batches":2})"); }, 20s))
      << testing::PrintToString(sink->messages());
  const auto messages = sink->messages();
  EXPECT_TRUE(contains(messages, "kept"));
  EXPECT_FALSE(contains(messages, "gone-1"));
  EXPECT_GT(hub.last_gap(), 0);
  EXPECT_NE(metrics.render().find("tail_entries_missed_total 2"), std::string::npos);
  EXPECT_EQ(
      std::count_if(messages.begin(), messages.end(),
                    [](const std::string& m) { return m.find("missed") != std::string::npos; }),
      1)
      << "told once";
  hub.stop();
  EXPECT_TRUE(redis->command({"DEL", stream}));
}

}  // namespace
}  // namespace logpipe::test
