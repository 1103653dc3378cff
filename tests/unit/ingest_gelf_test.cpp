#include <gtest/gtest.h>

#include "../common/compress.hpp"
#include "ingest/formats/gelf.hpp"
#include "ingest/formats/gelf_chunks.hpp"

namespace logpipe::ingest {
namespace {

using namespace std::string_view_literals;

using model::Level;

constexpr core::Micros kReceived = 1'731'580'200'000'000;  // 2024-11-14T10:30:00Z

DecodeOptions options() {
  DecodeOptions o;
  o.received_at = kReceived;
  return o;
}

// What Graylog's documentation sends, and what the GELF libraries of Docker, Logstash and
// Fluent Bit write: additional fields with their underscore, numbers and strings.
TEST(GelfInput, SpecExampleMapsIn) {
  auto d = decode_gelf(
      R"({"version":"1.1","host":"example.org","short_message":"A short message that helps you identify what is going on","full_message":"Backtrace here\n\nmore stuff","timestamp":1385053862.3072,"level":1,"_user_id":9001,"_some_info":"foo","_some_env_var":"bar"})",
      options());
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->records.size(), 1u);
  const auto& r = d->records[0];
  EXPECT_EQ(r.host, "example.org");
  EXPECT_EQ(r.message, "A short message that helps you identify what is going on");
  EXPECT_EQ(r.ts, 1'385'053'862'307'200);
  EXPECT_EQ(r.level, Level::fatal);  // 1 = ALERT
  EXPECT_EQ(
      r.attrs_json,
      R"({"full_message":"Backtrace here\n\nmore stuff","user_id":9001,"some_info":"foo","some_env_var":"bar"})");
}

TEST(GelfInput, FieldsDefaultsAndNewlineSeparatedMessages) {
  auto d = decode_gelf(
      "{\"short_message\":\"one\",\"host\":\"h\",\"level\":6,\"_service\":\"api\",\"_app\":"
      "\"shop\",\"_device_id\":\"dev-1\",\"facility\":\"kern\"}\r\n\n"
      "{\"short_message\":\"two\",\"host\":\"h\"}\0\n"sv,
      options());
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->records.size(), 2u);
  EXPECT_EQ(d->records[0].level, Level::info);
  EXPECT_EQ(d->records[0].service, "api");
  EXPECT_EQ(d->records[0].app, "shop");
  EXPECT_EQ(d->records[0].device_id, "dev-1");
  EXPECT_EQ(d->records[0].attrs_json, R"({"facility":"kern"})");
  EXPECT_EQ(d->records[1].ts, kReceived);  // no timestamp: when it was received
  EXPECT_EQ(d->records[1].level, Level::fatal);
  EXPECT_EQ(d->records[1].attrs_json, "{}");
}

TEST(GelfInput, BadMessagesAreNamedAndTheRestKept) {
  auto d = decode_gelf(
      "{\"host\":\"h\"}\n{\"short_message\":\"ok\"}\n{\"short_message\":\"x\",\"_id\":1}\n"
      "{\"short_message\":\"x\",\"timestamp\":\"yesterday\"}\n"
      "{\"short_message\":\"x\",\"level\":9}\n{\"short_message\":\"\"}\n[1]\n",
      options());
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->records.size(), 1u);
  EXPECT_EQ(d->records[0].message, "ok");
  ASSERT_EQ(d->problem_count, 6u);
  EXPECT_EQ(d->problems[0].field, "short_message");
  EXPECT_EQ(d->problems[0].index, 0);
  EXPECT_EQ(d->problems[1].field, "_id");
  EXPECT_EQ(d->problems[2].field, "timestamp");
  EXPECT_EQ(d->problems[3].field, "level");
  EXPECT_EQ(d->problems[4].field, "short_message");
  EXPECT_EQ(d->problems[5].index, 6);

  EXPECT_EQ(decode_gelf("{\"short_message\":", options()).error().code, core::Errc::malformed);
  EXPECT_EQ(decode_gelf("\n\n", options()).error().code, core::Errc::invalid_field);
}

TEST(GelfInput, AutoDetectionPrefersGelfOverPlainJson) {
  const Format f = gelf_format();
  EXPECT_GT(f.sniff_line(R"({"short_message":"m","host":"h"})"), 95);
  EXPECT_EQ(f.sniff_line(R"({"message":"m"})"), 0);
  model::Record r;
  std::string why;
  EXPECT_TRUE(f.parse_line(R"({"short_message":"m","level":3})", options(), r, why));
  EXPECT_EQ(r.level, Level::error);
  EXPECT_FALSE(f.parse_line(R"({"short_message":7})", options(), r, why));
  EXPECT_EQ(why, "short_message must be a string");
}

std::string chunk(std::uint64_t id, int sequence, int count, std::string_view data) {
  std::string out = "\x1e\x0f";
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((id >> shift) & 0xff));
  out.push_back(static_cast<char>(sequence));
  out.push_back(static_cast<char>(count));
  out += data;
  return out;
}

TEST(GelfChunks, ReassemblesInAnyOrderAndIgnoresRepeats) {
  GelfChunks chunks;
  auto whole = chunks.add(R"({"short_message":"whole"})", kReceived);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(**whole, R"({"short_message":"whole"})");

  const std::string payload = R"({"short_message":"in three parts"})";
  EXPECT_FALSE(chunks.add(chunk(7, 2, 3, payload.substr(20)), kReceived)->has_value());
  EXPECT_FALSE(chunks.add(chunk(7, 0, 3, payload.substr(0, 10)), kReceived)->has_value());
  EXPECT_FALSE(chunks.add(chunk(7, 0, 3, payload.substr(0, 10)), kReceived)->has_value());
  EXPECT_EQ(chunks.pending(), 1u);
  auto done = chunks.add(chunk(7, 1, 3, payload.substr(10, 10)), kReceived);
  ASSERT_TRUE(done.ok());
  ASSERT_TRUE(done->has_value());
  EXPECT_EQ(**done, payload);
  EXPECT_EQ(chunks.pending(), 0u);

  auto single = chunks.add(chunk(8, 0, 1, "{}"), kReceived);
  EXPECT_EQ(**single, "{}");
}

TEST(GelfChunks, MalformedChunksLimitsAndTimeouts) {
  GelfChunks chunks({.max_messages = 2, .max_bytes = 100, .timeout = 5 * core::kSecond});
  EXPECT_EQ(chunks.add("\x1e\x0f\x01", kReceived).error().code, core::Errc::malformed);
  EXPECT_EQ(chunks.add(chunk(1, 0, 129, "x"), kReceived).error().code, core::Errc::malformed);
  EXPECT_EQ(chunks.add(chunk(1, 3, 3, "x"), kReceived).error().code, core::Errc::malformed);
  EXPECT_EQ(chunks.add(chunk(1, 0, 0, "x"), kReceived).error().code, core::Errc::malformed);

  ASSERT_TRUE(chunks.add(chunk(1, 0, 2, "a"), kReceived).ok());
  // The same id with another count: the message is dropped.
  EXPECT_EQ(chunks.add(chunk(1, 1, 3, "b"), kReceived).error().code, core::Errc::malformed);
  EXPECT_EQ(chunks.pending(), 0u);

  ASSERT_TRUE(chunks.add(chunk(1, 0, 2, "a"), kReceived).ok());
  ASSERT_TRUE(chunks.add(chunk(2, 0, 2, "a"), kReceived).ok());
  EXPECT_EQ(chunks.add(chunk(3, 0, 2, "a"), kReceived).error().code, core::Errc::too_large);
  EXPECT_EQ(chunks.add(chunk(2, 1, 2, std::string(200, 'x')), kReceived).error().code,
            core::Errc::too_large);
  EXPECT_EQ(chunks.pending(), 1u);

  // Chunks that stop coming are dropped after the timeout, and counted.
  ASSERT_TRUE(chunks.add(chunk(4, 0, 2, "a"), kReceived + 2 * core::kSecond).ok());
  EXPECT_EQ(chunks.pending(), 2u);
  ASSERT_TRUE(chunks.add("{}", kReceived + 6 * core::kSecond).ok());
  EXPECT_EQ(chunks.pending(), 1u);
  EXPECT_EQ(chunks.expired(), 1u);
  ASSERT_TRUE(chunks.add("{}", kReceived + 8 * core::kSecond).ok());
  EXPECT_EQ(chunks.pending(), 0u);
  EXPECT_EQ(chunks.expired(), 2u);
}

TEST(GelfChunks, PayloadsDecompressByTheirMagic) {
  const std::string json = R"({"short_message":"zipped"})";
  std::string storage;
  EXPECT_EQ(*gelf_payload(json, storage, 1 << 20), json);
  EXPECT_EQ(*gelf_payload(test::gzipped(json), storage, 1 << 20), json);
  EXPECT_EQ(*gelf_payload(test::deflated(json, 15), storage, 1 << 20), json);
  EXPECT_EQ(gelf_payload(test::gzipped(std::string(5000, ' ')), storage, 1000).error().code,
            core::Errc::too_large);
  EXPECT_EQ(gelf_payload("\x78garbage", storage, 1000).error().code, core::Errc::malformed);
}

}  // namespace
}  // namespace logpipe::ingest
