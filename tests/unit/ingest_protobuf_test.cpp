// The protobuf wire reader and snappy decoding: never trusting a byte of input.
#include <gtest/gtest.h>
#include <snappy.h>

#include "ingest/format.hpp"
#include "ingest/protobuf.hpp"

namespace logpipe::ingest::protobuf {
namespace {

std::vector<Field> read_all(std::string_view bytes, std::string* error = nullptr) {
  Reader r(bytes);
  std::vector<Field> out;
  Field f;
  while (r.next(f))
    out.push_back(f);
  if (error) *error = r.failed() ? r.error() : "";
  return out;
}

TEST(ProtobufReader, ReadsEveryWireType) {
  std::string m;
  put_varint_field(m, 1, 150);
  put_fixed64(m, 2, 0x0102030405060708ULL);
  put_len(m, 3, "testing");
  put_fixed32(m, 4, 0xdeadbeef);
  put_varint_field(m, 536870911, ~std::uint64_t{0});  // the largest field number, 10-byte varint
  std::string error;
  const auto fields = read_all(m, &error);
  EXPECT_EQ(error, "");
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0].number, 1u);
  EXPECT_EQ(fields[0].value, 150u);
  EXPECT_EQ(fields[1].type, WireType::i64);
  EXPECT_EQ(fields[1].value, 0x0102030405060708ULL);
  EXPECT_EQ(fields[2].bytes, "testing");
  EXPECT_EQ(fields[3].value, 0xdeadbeefu);
  EXPECT_EQ(fields[4].number, 536870911u);
  EXPECT_EQ(fields[4].value, ~std::uint64_t{0});
  EXPECT_EQ(as_int64(fields[4]), -1);
}

TEST(ProtobufReader, TheSpecExampleBytes) {
  // protobuf.dev's encoding guide: field 1 = 150 is 08 96 01.
  const auto fields = read_all(std::string_view("\x08\x96\x01", 3));
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].value, 150u);
}

TEST(ProtobufReader, RefusesHugeAndTruncatedVarints) {
  std::string error;
  // 11 continuation bytes: longer than any 64-bit varint.
  read_all(std::string("\x08") + std::string(11, '\xff') + "\x01", &error);
  EXPECT_NE(error, "");
  // 10 bytes whose last one carries more than bit 63.
  read_all(std::string("\x08") + std::string(9, '\xff') + "\x02", &error);
  EXPECT_NE(error, "");
  // The input ends inside the varint.
  read_all(std::string("\x08\x96", 2), &error);
  EXPECT_NE(error, "");
  // A tag that never ends.
  read_all(std::string(5, '\x80'), &error);
  EXPECT_NE(error, "");
}

TEST(ProtobufReader, RefusesFieldsRunningPastTheEnd) {
  std::string error;
  read_all(std::string("\x1a\x05"
                       "abc",
                       5),
           &error);  // length 5, 3 bytes left
  EXPECT_NE(error, "");
  // A length near 2^64 must not wrap around a bounds check.
  read_all(std::string("\x1a") + std::string(9, '\xff') + "\x01" + "x", &error);
  EXPECT_NE(error, "");
  read_all(std::string("\x11\x01\x02\x03", 4), &error);  // fixed64 with 3 bytes
  EXPECT_NE(error, "");
  read_all(std::string("\x25\x01", 2), &error);  // fixed32 with 1 byte
  EXPECT_NE(error, "");
}

TEST(ProtobufReader, GroupsFieldZeroAndBadWireTypesAreMalformed) {
  std::string error;
  read_all(std::string("\x0b\x0c", 2), &error);  // start group 1, end group 1
  EXPECT_NE(error, "");
  read_all(std::string("\x00\x01", 2), &error);  // field number 0
  EXPECT_NE(error, "");
  read_all(std::string("\x0e\x01", 2), &error);  // wire type 6
  EXPECT_NE(error, "");
  read_all(std::string("\x0f\x01", 2), &error);  // wire type 7
  EXPECT_NE(error, "");
}

TEST(ProtobufReader, AnErrorStopsEverything) {
  std::string m;
  put_varint_field(m, 1, 1);
  m += "\x0b";  // a group
  put_varint_field(m, 2, 2);
  Reader r(m);
  Field f;
  EXPECT_TRUE(r.next(f));
  EXPECT_FALSE(r.next(f));
  EXPECT_TRUE(r.failed());
  EXPECT_FALSE(r.next(f));
}

TEST(ProtobufReader, NestingIsBounded) {
  Reader r("");
  for (int i = 0; i < kMaxDepth; ++i)
    r = r.sub("");
  EXPECT_FALSE(r.failed());
  r = r.sub("");
  EXPECT_TRUE(r.failed());
}

TEST(ProtobufReader, EmptyMessageHasNoFields) {
  std::string error;
  EXPECT_TRUE(read_all("", &error).empty());
  EXPECT_EQ(error, "");
}

std::string snappied(std::string_view text) {
  std::string out;
  snappy::Compress(text.data(), text.size(), &out);
  return out;
}

TEST(Snappy, DecodesABlock) {
  const std::string text(100000, 'x');
  std::string out;
  ASSERT_TRUE(decode_snappy(snappied(text), 1 << 20, out));
  EXPECT_EQ(out, text);
  std::string storage;
  auto decoded = decode_content("snappy", snappied("hello"), storage);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, "hello");
}

TEST(Snappy, TheCapIsCheckedOnTheStatedLengthBeforeDecoding) {
  const std::string text(4096, 'x');
  std::string out;
  ASSERT_TRUE(decode_snappy(snappied(text), 4096, out));  // exactly the cap
  auto over = decode_snappy(snappied(text), 4095, out);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, core::Errc::too_large);
  // A header claiming 3 GiB followed by nothing: refused without allocating.
  std::string bomb;
  put_varint(bomb, std::uint64_t{3} << 30);
  bomb += "\x00";
  over = decode_snappy(bomb, std::size_t{64} << 20, out);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, core::Errc::too_large);
  EXPECT_LT(out.capacity(), std::size_t{1} << 20);
}

TEST(Snappy, CorruptAndTruncatedBlocksAreMalformed) {
  const std::string good = snappied(std::string(1000, 'a') + "tail");
  std::string out;
  auto truncated = decode_snappy(good.substr(0, good.size() - 3), 1 << 20, out);
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().code, core::Errc::malformed);
  auto empty = decode_snappy("", 1 << 20, out);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, core::Errc::malformed);
  std::string bad = good;
  bad[bad.size() / 2] = '\xff';
  bad[bad.size() / 2 + 1] = '\xff';
  auto corrupt = decode_snappy(bad, 1 << 20, out);
  if (corrupt) {
    EXPECT_LE(out.size(), std::size_t{1} << 20);  // a corrupted block may still decode
  }
}

}  // namespace
}  // namespace logpipe::ingest::protobuf
