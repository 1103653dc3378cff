// RFC 6587 framing: octet counting and newline framing, detected per frame, fed in arbitrary
// pieces, with oversized and broken frames skipped without losing the frames around them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace std::string_literals;

#include "listeners/framing.hpp"

namespace logpipe::listeners {
namespace {

// Feeds `stream` in pieces of `piece` bytes (0: whole), then ends it.
std::vector<std::string> frames_of(std::string_view stream, std::size_t piece = 0,
                                   std::size_t max = 1024, FrameDecoder* out = nullptr) {
  FrameDecoder local(max);
  FrameDecoder& d = out ? *out : local;
  std::vector<std::string> frames;
  if (piece == 0) piece = stream.size() + 1;
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    d.append(stream.substr(at, piece));
    while (auto f = d.next())
      frames.emplace_back(*f);
  }
  if (auto f = d.finish()) frames.emplace_back(*f);
  return frames;
}

using Frames = std::vector<std::string>;

TEST(Framing, OctetCounting) {
  const std::string stream = "11 <13>1 - - x5 hello3 a\nb";
  EXPECT_EQ(frames_of(stream), (Frames{"<13>1 - - x", "hello", "a\nb"}));
  // Every split point, one byte at a time included.
  for (std::size_t piece = 1; piece < stream.size(); ++piece)
    EXPECT_EQ(frames_of(stream, piece), (Frames{"<13>1 - - x", "hello", "a\nb"})) << piece;
}

TEST(Framing, NewlineFramingWithCrlfNulAndNoFinalNewline) {
  const std::string stream = "<13>one\r\n<13>two\n\n<13>three\0<13>four"s;
  for (std::size_t piece : {0, 1, 2, 5})
    EXPECT_EQ(frames_of(stream, piece), (Frames{"<13>one", "<13>two", "<13>three", "<13>four"}));
}

TEST(Framing, MixedFramingPerFrame) {
  // rsyslog may switch after a reconnect; a file line starting with a year is text.
  const std::string stream = "5 <13>a<13>b\n7 <13>ccc2024-03-15T00:00:00Z host app: d\n3 end";
  EXPECT_EQ(frames_of(stream, 3),
            (Frames{"<13>a", "<13>b", "<13>ccc", "2024-03-15T00:00:00Z host app: d", "end"}));
}

TEST(Framing, OversizedOctetCountedFrameIsSkippedByItsCount) {
  FrameDecoder d(16);
  const std::string big(100, 'x');
  const auto frames = frames_of("3 one100 " + big + "3 two", 7, 16, &d);
  EXPECT_EQ(frames, (Frames{"one", "two"}));
  EXPECT_EQ(d.oversized(), 1u);
  EXPECT_LE(d.buffered(), 16u);
}

TEST(Framing, HugeCountIsSkippedWithoutHoldingIt) {
  FrameDecoder d(16);
  d.append("999999999 ");
  for (int i = 0; i < 100; ++i) {
    d.append(std::string(4096, 'y'));
    EXPECT_FALSE(d.next());
    EXPECT_EQ(d.buffered(), 0u);
  }
  EXPECT_EQ(d.oversized(), 1u);
}

TEST(Framing, OversizedLineIsSkippedToItsNewline) {
  FrameDecoder d(16);
  const auto frames = frames_of("<13>ok\n" + std::string(1000, 'z') + "\n<13>after\n", 10, 16, &d);
  EXPECT_EQ(frames, (Frames{"<13>ok", "<13>after"}));
  EXPECT_EQ(d.oversized(), 1u);
}

TEST(Framing, GarbageCountsAreText) {
  // Ten digits are no count; digits without a space are text; a lone count waits.
  EXPECT_EQ(frames_of("1234567890 x\n12abc\n"), (Frames{"1234567890 x", "12abc"}));
  FrameDecoder d(64);
  d.append("1");
  EXPECT_FALSE(d.next());  // the count may go on
  d.append("2 <13>1 - - ");
  EXPECT_FALSE(d.next());  // 10 of 12 bytes
  d.append("-xy\n");
  EXPECT_EQ(d.next(), "<13>1 - - -x");
  EXPECT_EQ(d.next(), "y");
  EXPECT_FALSE(d.next());
  EXPECT_FALSE(d.finish());
}

TEST(Framing, TruncatedOctetFrameAtTheEndIsCounted) {
  FrameDecoder d(64);
  const auto frames = frames_of("5 hello20 cut", 0, 64, &d);
  EXPECT_EQ(frames, (Frames{"hello"}));
  EXPECT_EQ(d.truncated(), 1u);
}

TEST(Framing, ZeroLengthFramesAndStrayNewlinesAreSkipped) {
  EXPECT_EQ(frames_of("0 \n\r\n3 abc\n\n"), (Frames{"abc"}));
}

}  // namespace
}  // namespace logpipe::listeners
