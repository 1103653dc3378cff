// StreamAppender against the real Redis: concurrent requests share one stream entry, and each
// request learns the id of the entry that holds its records only once Redis acknowledged it.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "harness.hpp"
#include "queue/batch_codec.hpp"
#include "queue/redis.hpp"
#include "queue/stream_appender.hpp"

namespace logpipe::test {
namespace {

std::string encoded(int i) {
  model::Batch batch;
  batch.received_at = 1'731'580'200'000'000 + i;
  model::Record r;
  r.ts = batch.received_at;
  r.message = "request " + std::to_string(i);
  batch.records.push_back(r);
  return queue::encode_batch(batch);
}

TEST(StreamAppender, RequestsWaitingForAnXaddShareTheNextEntry) {
  auto endpoint = queue::parse_redis_url(Services::shared().redis_url);
  ASSERT_TRUE(endpoint);
  const std::string stream = unique_tag("appender") + ":stream";
  boost::asio::io_context io;
  queue::AsyncClient redis(io, *endpoint);
  queue::StreamAppender appender(redis, stream);

  // All 100 appends happen before any reply can arrive (the io_context is not running yet): the
  // first goes out alone, the other 99 wait for it and then go out as ONE entry.
  std::vector<std::string> ids(100);
  int answered = 0;
  for (int i = 0; i < 100; ++i) {
    appender.append(encoded(i), [&, i](core::Result<std::string> id) {
      ASSERT_TRUE(id) << id.error().message;
      ids[static_cast<std::size_t>(i)] = *id;
      if (++answered == 100) redis.close();
    });
  }
  io.run_for(std::chrono::seconds(10));
  ASSERT_EQ(answered, 100);
  EXPECT_NE(ids[0], ids[1]);
  for (int i = 2; i < 100; ++i)
    EXPECT_EQ(ids[static_cast<std::size_t>(i)], ids[1]);

  auto sync = queue::SyncClient::connect(*endpoint, 2000ms);
  ASSERT_TRUE(sync);
  auto len = sync->command({"XLEN", stream});
  ASSERT_TRUE(len);
  EXPECT_EQ(queue::reply_integer(**len), 2);
  auto range = sync->command({"XRANGE", stream, ids[1], ids[1]});
  ASSERT_TRUE(range);
  const redisReply& entry = queue::reply_at(**range, 0);
  const std::string payload(queue::reply_string(queue::reply_at(queue::reply_at(entry, 1), 1)));
  auto batches = queue::decode_entry(payload);
  ASSERT_TRUE(batches) << batches.error().message;
  ASSERT_EQ(batches->size(), 99u);
  for (std::size_t i = 0; i < 99; ++i) {
    EXPECT_EQ((*batches)[i].records.at(0).message, "request " + std::to_string(i + 1));
    EXPECT_EQ((*batches)[i].received_at, 1'731'580'200'000'000 + static_cast<long>(i) + 1);
  }
  (void)sync->command({"DEL", stream});
}

TEST(StreamAppender, TheBatchesOfOneRequestShareAnEntryWhateverItsSize) {
  auto endpoint = queue::parse_redis_url(Services::shared().redis_url);
  ASSERT_TRUE(endpoint);
  const std::string stream = unique_tag("appender") + ":stream";
  boost::asio::io_context io;
  queue::AsyncClient redis(io, *endpoint);
  // An entry limit smaller than one batch: batches of different requests never share an entry,
  // but those of one request (records of several source formats) must, to be stored together.
  queue::StreamAppender appender(redis, stream, {.max_entry_bytes = 1});
  std::vector<std::string> ids;
  const auto remember = [&](core::Result<std::string> id) {
    ASSERT_TRUE(id) << id.error().message;
    ids.push_back(*id);
    if (ids.size() == 3) redis.close();
  };
  appender.append(encoded(0), remember);
  appender.append(std::vector{encoded(1), encoded(2), encoded(3)}, remember);
  appender.append(encoded(4), remember);
  io.run_for(std::chrono::seconds(10));
  ASSERT_EQ(ids.size(), 3u);

  auto sync = queue::SyncClient::connect(*endpoint, 2000ms);
  ASSERT_TRUE(sync);
  auto range = sync->command({"XRANGE", stream, "-", "+"});
  ASSERT_TRUE(range);
  ASSERT_EQ(queue::reply_size(**range), 3u);
  std::vector<std::size_t> batches_per_entry;
  for (std::size_t e = 0; e < 3; ++e) {
    const redisReply& entry = queue::reply_at(**range, e);
    auto batches =
        queue::decode_entry(queue::reply_string(queue::reply_at(queue::reply_at(entry, 1), 1)));
    ASSERT_TRUE(batches) << batches.error().message;
    batches_per_entry.push_back(batches->size());
  }
  EXPECT_EQ(batches_per_entry, (std::vector<std::size_t>{1, 3, 1}));
  (void)sync->command({"DEL", stream});
}

TEST(StreamAppender, EveryWaitingRequestFailsWhenRedisIsUnreachable) {
  queue::RedisEndpoint nowhere;
  nowhere.host = "127.0.0.1";
  nowhere.port = free_port();
  boost::asio::io_context io;
  queue::AsyncClient redis(io, nowhere);
  queue::StreamAppender appender(redis, "never:stream");
  int failed = 0;
  for (int i = 0; i < 10; ++i) {
    appender.append(encoded(i), [&](core::Result<std::string> id) {
      ASSERT_FALSE(id);
      EXPECT_EQ(id.error().code, core::Errc::unavailable);
      if (++failed == 10) redis.close();
    });
  }
  io.run_for(std::chrono::seconds(10));
  EXPECT_EQ(failed, 10);
}

}  // namespace
}  // namespace logpipe::test
