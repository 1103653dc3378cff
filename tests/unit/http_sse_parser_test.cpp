// The Server-Sent Events parser: the framing cases of the standard's event stream interpretation,
// each fed whole and byte by byte (a read may end anywhere, a CRLF may be split).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/sse_parser.hpp"

namespace logpipe::http {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

// The events of `stream` fed whole; the test fails when feeding it one byte at a time and in
// pieces of 3 gives anything else.
std::vector<SseEvent> events_of(std::string_view stream, SseParser* out = nullptr) {
  std::vector<SseEvent> whole;
  SseParser parser;
  EXPECT_TRUE(parser.feed(stream, whole).ok());
  for (const std::size_t piece : {std::size_t{1}, std::size_t{3}}) {
    SseParser split;
    std::vector<SseEvent> events;
    for (std::size_t at = 0; at < stream.size(); at += piece)
      EXPECT_TRUE(split.feed(stream.substr(at, piece), events).ok());
    EXPECT_EQ(events, whole) << "fed in pieces of " << piece;
    EXPECT_EQ(split.retry(), parser.retry());
    EXPECT_EQ(split.last_event_id(), parser.last_event_id());
    EXPECT_EQ(split.comments(), parser.comments());
  }
  if (out != nullptr) *out = parser;
  return whole;
}

SseEvent message(std::string data, std::string id = "") {
  return {"message", std::move(data), std::move(id)};
}

TEST(SseParser, OneRecordPerDataEvent) {
  EXPECT_EQ(events_of("data: {\"a\":1}\n\ndata: {\"b\":2}\n\n"),
            (std::vector<SseEvent>{message("{\"a\":1}"), message("{\"b\":2}")}));
}

TEST(SseParser, AnEventWaitsForItsEmptyLine) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed("data: x\n", events).ok());
  EXPECT_TRUE(events.empty());
  ASSERT_TRUE(parser.feed("\n", events).ok());
  EXPECT_EQ(events, (std::vector<SseEvent>{message("x")}));
}

TEST(SseParser, NamedEventsAndTheDefaultType) {
  EXPECT_EQ(events_of("event: dropped\ndata: {\"dropped\":12}\n\ndata: next\n\n"),
            (std::vector<SseEvent>{{"dropped", "{\"dropped\":12}", ""}, message("next")}));
}

TEST(SseParser, MultiLineDataIsJoinedWithLineFeeds) {
  EXPECT_EQ(events_of("data: one\ndata: two\ndata\ndata:  four\n\n"),
            (std::vector<SseEvent>{message("one\ntwo\n\n four")}));
}

TEST(SseParser, EveryLineEndingAndMixesOfThem) {
  const std::vector<SseEvent> expected{message("a"), message("b"), message("c")};
  EXPECT_EQ(events_of("data: a\r\n\r\ndata: b\r\n\r\ndata: c\r\n\r\n"), expected);
  EXPECT_EQ(events_of("data: a\r\rdata: b\r\rdata: c\r\r"), expected);
  EXPECT_EQ(events_of("data: a\n\ndata: b\r\rdata: c\r\n\n"), expected);
  // CR then LF is one line end, not an empty line: no event between.
  EXPECT_EQ(events_of("data: a\r\ndata: b\r\n\r\n"), (std::vector<SseEvent>{message("a\nb")}));
}

TEST(SseParser, ACrlfSplitAcrossReadsIsOneLineEnd) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed("data: a\r", events).ok());
  ASSERT_TRUE(parser.feed("\ndata: b\r", events).ok());
  ASSERT_TRUE(parser.feed("\n\r", events).ok());
  ASSERT_TRUE(parser.feed("\n", events).ok());
  EXPECT_EQ(events, (std::vector<SseEvent>{message("a\nb")}));
}

TEST(SseParser, CommentsArePingsAndDispatchNothing) {
  SseParser parser;
  EXPECT_EQ(events_of(": ping\n\n:\n\ndata: x\n: in the middle\n\n", &parser),
            (std::vector<SseEvent>{message("x")}));
  EXPECT_EQ(parser.comments(), 3u);
}

TEST(SseParser, FieldSyntax) {
  // No space after the colon; only one space dropped; a line without a colon is a field with an
  // empty value; unknown fields are ignored; a field name is case-sensitive.
  EXPECT_EQ(events_of("data:x\n\ndata:  y\n\nfoo: bar\nDATA: no\ndata\n\n"),
            (std::vector<SseEvent>{message("x"), message(" y"), message("")}));
  EXPECT_EQ(events_of("data: a:b: c\n\n"), (std::vector<SseEvent>{message("a:b: c")}));
}

TEST(SseParser, AnEventWithoutDataIsNotDispatchedAndItsTypeIsForgotten) {
  EXPECT_EQ(events_of("event: dropped\n\ndata: x\n\n"), (std::vector<SseEvent>{message("x")}));
}

TEST(SseParser, TheLastEventIdIsKeptAcrossEvents) {
  SseParser parser;
  EXPECT_EQ(
      events_of("id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: x\0y\ndata: d\n\n"sv, &parser),
      (std::vector<SseEvent>{message("a", "1"), message("b", "1"), message("c", ""),
                             message("d", "")}));
}

TEST(SseParser, RetryTakesDigitsOnly) {
  SseParser parser;
  events_of("retry: 2500\n\n", &parser);
  EXPECT_EQ(parser.retry(), 2500ms);
  // What is not a number leaves the last one in force.
  events_of("retry: 2500\nretry: 1x\nretry: -1\nretry: \nretry: 99999999999999999999999\n",
            &parser);
  EXPECT_EQ(parser.retry(), 2500ms);
  events_of("retry:0\n", &parser);
  EXPECT_EQ(parser.retry(), 0ms);
  EXPECT_TRUE(events_of("data: x\nretry: 10\n\n", &parser) ==
              (std::vector<SseEvent>{message("x")}));
  EXPECT_EQ(parser.retry(), 10ms);
}

TEST(SseParser, ALeadingByteOrderMarkIsSkippedOnce) {
  EXPECT_EQ(events_of("\xEF\xBB\xBF"
                      "data: a\n\n"),
            (std::vector<SseEvent>{message("a")}));
  // Not at the start: a field name that is no field.
  EXPECT_EQ(events_of("\n\xEF\xBB\xBF"
                      "data: a\n\ndata: b\n\n"),
            (std::vector<SseEvent>{message("b")}));
  // The start of a BOM that is none belongs to the first line.
  EXPECT_EQ(events_of("\xEF\xBB"
                      "data: a\n\ndata: b\n\n"),
            (std::vector<SseEvent>{message("b")}));
}

TEST(SseParser, AnUnfinishedEventIsDroppedOnRestartTheIdAndRetryAreKept) {
  SseParser parser;
  std::vector<SseEvent> events;
  ASSERT_TRUE(parser.feed("retry: 300\nid: 4\ndata: cut", events).ok());
  parser.restart();
  ASSERT_TRUE(parser
                  .feed("\xEF\xBB\xBF"
                        "data: whole\n\n",
                        events)
                  .ok());
  EXPECT_EQ(events, (std::vector<SseEvent>{message("whole", "4")}));
  EXPECT_EQ(parser.retry(), 300ms);
}

TEST(SseParser, ALineOrEventBeyondTheLimitFailsTheStream) {
  {
    SseParser parser(16);
    std::vector<SseEvent> events;
    ASSERT_TRUE(parser.feed("data: 0123456789\n\n", events).ok());
    EXPECT_EQ(events.size(), 1u);
    const auto status = parser.feed("data: 0123456789ab", events);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, core::Errc::too_large);
    EXPECT_FALSE(parser.feed("\n\n", events).ok());  // stays failed
    EXPECT_EQ(events.size(), 1u);
  }
  {
    SseParser parser(16);
    std::vector<SseEvent> events;
    EXPECT_FALSE(parser.feed("data: 01234567\ndata: 01234567\n\n", events).ok());
    EXPECT_TRUE(events.empty());
  }
}

}  // namespace
}  // namespace logpipe::http
