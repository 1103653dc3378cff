#include <gtest/gtest.h>

#include "queue/batch_codec.hpp"
#include "queue/device_cache.hpp"
#include "queue/redis.hpp"

namespace logpipe::queue {
namespace {

model::Batch sample_batch(std::size_t n) {
  model::Batch b;
  b.received_at = 1'731'580'200'000'000;
  b.tenant_id = 7;
  b.source_format = "json";
  for (std::size_t i = 0; i < n; ++i) {
    model::Record r;
    r.ts = b.received_at - static_cast<core::Micros>(i) * 1000 + (i % 2 ? 5'000'000 : 0);
    r.level = static_cast<model::Level>(i % 8);
    r.message = "message " + std::to_string(i) + " ünï 日本 \t\n";
    r.device_id = "device_" + std::to_string(i % 10);
    r.service = i % 3 ? "api" : "";
    r.app = "app";
    r.host = "host-1";
    r.attrs_json = R"({"i":)" + std::to_string(i) + R"(,"nested":{"a":[1,2,3]}})";
    b.records.push_back(r);
  }
  return b;
}

void expect_equal(const model::Batch& a, const model::Batch& b) {
  EXPECT_EQ(a.received_at, b.received_at);
  EXPECT_EQ(a.tenant_id, b.tenant_id);
  EXPECT_EQ(a.source_format, b.source_format);
  ASSERT_EQ(a.records.size(), b.records.size());
  for (std::size_t i = 0; i < a.records.size(); ++i) {
    const auto &x = a.records[i], &y = b.records[i];
    EXPECT_EQ(x.ts, y.ts);
    EXPECT_EQ(x.level, y.level);
    EXPECT_EQ(x.message, y.message);
    EXPECT_EQ(x.device_id, y.device_id);
    EXPECT_EQ(x.service, y.service);
    EXPECT_EQ(x.app, y.app);
    EXPECT_EQ(x.host, y.host);
    EXPECT_EQ(x.attrs_json, y.attrs_json);
  }
}

TEST(BatchCodec, RoundTripsSmallUncompressed) {
  const auto batch = sample_batch(1);
  const std::string payload = encode_batch(batch);
  EXPECT_EQ(payload[3], 0) << "small payloads are not compressed";
  auto decoded = decode_batch(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_equal(batch, *decoded);
}

TEST(BatchCodec, RoundTripsLargeCompressed) {
  const auto batch = sample_batch(1000);
  const std::string payload = encode_batch(batch);
  EXPECT_EQ(payload[3], 1) << "large payloads are LZ4-compressed";
  auto decoded = decode_batch(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  expect_equal(batch, *decoded);
  CodecOptions plain;
  plain.compress_min_bytes = SIZE_MAX;
  EXPECT_LT(payload.size(), encode_batch(batch, plain).size() / 2);
}

TEST(BatchCodec, EveryTruncationIsAnErrorNotACrash) {
  for (std::size_t n : {1u, 50u}) {
    const std::string payload = encode_batch(sample_batch(n));
    for (std::size_t len = 0; len < payload.size(); ++len) {
      auto r = decode_batch(std::string_view(payload).substr(0, len));
      EXPECT_FALSE(r.ok()) << "length " << len;
    }
  }
}

TEST(BatchCodec, RejectsCorruption) {
  std::string payload = encode_batch(sample_batch(3));
  EXPECT_FALSE(decode_batch("not a batch").ok());
  std::string bad_version = payload;
  bad_version[2] = 9;
  EXPECT_FALSE(decode_batch(bad_version).ok());
  std::string trailing = payload + "x";
  EXPECT_FALSE(decode_batch(trailing).ok());
  // Flipping any body byte must never crash (ASan/UBSan watch this).
  for (std::size_t i = 4; i < payload.size(); ++i) {
    std::string flipped = payload;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5A);
    (void)decode_batch(flipped);
  }
}

TEST(EntryCodec, OneBatchPassesThroughAndDecodes) {
  const std::string one = encode_batch(sample_batch(3));
  EXPECT_EQ(encode_entry({&one, 1}), one);
  auto decoded = decode_entry(one);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->size(), 1u);
  expect_equal(sample_batch(3), decoded->front());
}

TEST(EntryCodec, CoalescedBatchesRoundTripEachWithItsOwnHeader) {
  std::vector<model::Batch> batches;
  std::vector<std::string> encoded;
  for (std::size_t i = 0; i < 30; ++i) {
    batches.push_back(sample_batch(1));
    batches.back().received_at += static_cast<core::Micros>(i) * 1000;
    batches.back().tenant_id = static_cast<std::int32_t>(i % 3 + 1);
    encoded.push_back(encode_batch(batches.back()));
  }
  const std::string entry = encode_entry(encoded);
  std::size_t separate = 0;
  for (const auto& e : encoded)
    separate += e.size();
  EXPECT_LT(entry.size(), separate / 2) << "small batches together compress";
  auto decoded = decode_entry(entry);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->size(), batches.size());
  for (std::size_t i = 0; i < batches.size(); ++i)
    expect_equal(batches[i], (*decoded)[i]);

  // Already compressed batches are framed as they are, not compressed twice.
  const std::vector<std::string> big{encode_batch(sample_batch(50)),
                                     encode_batch(sample_batch(40))};
  auto mixed = decode_entry(encode_entry(big));
  ASSERT_TRUE(mixed.ok()) << mixed.error().message;
  ASSERT_EQ(mixed->size(), 2u);
  expect_equal(sample_batch(40), (*mixed)[1]);
}

TEST(EntryCodec, TruncationAndCorruptionAreErrors) {
  std::vector<std::string> encoded;
  for (std::size_t i = 0; i < 5; ++i)
    encoded.push_back(encode_batch(sample_batch(2)));
  CodecOptions plain;
  plain.compress_min_bytes = SIZE_MAX;
  for (const auto& entry : {encode_entry(encoded), encode_entry(encoded, plain)}) {
    for (std::size_t len = 0; len < entry.size(); ++len)
      EXPECT_FALSE(decode_entry(std::string_view(entry).substr(0, len)).ok()) << "length " << len;
    EXPECT_FALSE(decode_entry(entry + "x").ok());
    for (std::size_t i = 4; i < entry.size(); ++i) {
      std::string flipped = entry;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x5A);
      (void)decode_entry(flipped);
    }
  }
}

TEST(RedisUrl, ParsesForms) {
  auto a = parse_redis_url("redis://127.0.0.1:6390/2");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6390);
  EXPECT_EQ(a->db, 2);
  auto b = parse_redis_url("redis://:secret@localhost");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->password, "secret");
  EXPECT_EQ(b->port, 6379);
  EXPECT_EQ(b->display(), "localhost:6379/0");
  auto c = parse_redis_url("redis://user:pw@h:1/");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->username, "user");
  EXPECT_EQ(c->password, "pw");
  for (const char* bad :
       {"http://x", "redis://", "redis://h:0", "redis://h:99999", "redis://h/x"}) {
    EXPECT_FALSE(parse_redis_url(bad).ok()) << bad;
  }
}

TEST(RedisProtocol, FormatsCommands) {
  EXPECT_EQ(format_command({"SET", "k", "v w"}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv w\r\n");
  const std::string binary("a\0b", 3);
  EXPECT_EQ(format_command({"X", binary}), std::string("*2\r\n$1\r\nX\r\n$3\r\na\0b\r\n", 20));
}

}  // namespace
}  // namespace logpipe::queue

namespace logpipe::queue {
namespace {

TEST(DeviceCache, KeysPerTenantAndDeviceAndOneInvalidationCommand) {
  const auto keys = device_cache_keys("logs:stream", 3, "dev 1");
  EXPECT_EQ(keys.answers, "logs:stream:cache:3:dev 1");
  EXPECT_EQ(keys.stamp, "logs:stream:cache-stamp:3:dev 1");
  EXPECT_TRUE(device_cache_invalidation("s", {}).empty());
  const auto command = device_cache_invalidation("s", {{1, "a"}, {2, "b"}});
  ASSERT_EQ(command.size(), 7u);  // EVAL script numkeys + stamp/answers per device
  EXPECT_EQ(command[0], "EVAL");
  EXPECT_EQ(command[2], "4");
  EXPECT_EQ(command[3], "s:cache-stamp:1:a");
  EXPECT_EQ(command[4], "s:cache:1:a");
  const auto store = device_cache_store(keys, "7", "100", "{}", 300);
  EXPECT_EQ(store.back(), "300");
  EXPECT_EQ(store[5], "7");
}

}  // namespace
}  // namespace logpipe::queue
