#include <gtest/gtest.h>

#include <random>

#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace logpipe::core {
namespace {

TEST(Time, FormatsAndParsesRoundTrip) {
  const Micros t = 1'731'580'200'123'456;  // 2024-11-14T10:30:00.123456Z
  EXPECT_EQ(format_rfc3339(t), "2024-11-14T10:30:00.123456Z");
  auto parsed = parse_rfc3339("2024-11-14T10:30:00.123456Z");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, t);
}

TEST(Time, ParsesOffsetsAndFractions) {
  auto a = parse_rfc3339("2024-11-14T12:30:00+02:00");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(format_rfc3339(*a), "2024-11-14T10:30:00.000000Z");
  auto b = parse_rfc3339("2024-11-14 10:30:00.5-0130");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(format_rfc3339(*b), "2024-11-14T12:00:00.500000Z");
  auto c = parse_rfc3339("2024-11-14T10:30:00.123456789Z");  // nanoseconds truncated
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c % 1'000'000, 123456);
  auto no_zone = parse_rfc3339("2024-11-14T10:30:00");
  ASSERT_TRUE(no_zone.ok());
  EXPECT_EQ(format_rfc3339(*no_zone), "2024-11-14T10:30:00.000000Z");
}

TEST(Time, RejectsGarbage) {
  for (const char* bad :
       {"", "yesterday", "2024-13-01T00:00:00Z", "2024-11-14", "2024-11-14T25:00:00Z",
        "2024-11-14T10:30:00Zjunk", "2024-11-14T10:30:00."}) {
    EXPECT_FALSE(parse_rfc3339(bad).ok()) << bad;
  }
}

TEST(Time, EpochNumbersByMagnitude) {
  using I = std::int64_t;
  EXPECT_EQ(micros_from_epoch_number(I{1'731'580'200}), 1'731'580'200'000'000);          // s
  EXPECT_EQ(micros_from_epoch_number(I{1'731'580'200'123}), 1'731'580'200'123'000);      // ms
  EXPECT_EQ(micros_from_epoch_number(I{1'731'580'200'123'456}), 1'731'580'200'123'456);  // µs
  EXPECT_EQ(micros_from_epoch_number(I{1'731'580'200'123'456'789}), 1'731'580'200'123'456);
  EXPECT_EQ(micros_from_epoch_number(1.5), 1'500'000);
  EXPECT_EQ(micros_from_epoch_number(1731580200.25), 1'731'580'200'250'000);
  EXPECT_EQ(micros_from_epoch_number(1.731580200123e12), 1'731'580'200'123'000);
}

TEST(Time, NegativeTimesFormat) {
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(JsonWriter, BuildsNestedDocuments) {
  JsonWriter w;
  w.begin_object()
      .field("a", 1)
      .field("b", "x")
      .key("c")
      .begin_array()
      .value(true)
      .null()
      .raw(R"({"k":[1,2]})")
      .end_array()
      .field("d", 1.5)
      .end_object();
  EXPECT_EQ(w.str(), R"({"a":1,"b":"x","c":[true,null,{"k":[1,2]}],"d":1.5})");
}

TEST(JsonWriter, EscapesStrings) {
  std::string out;
  append_json_string(out, "quote\" back\\ nl\n tab\t ctl\x01 ünï 日本");
  EXPECT_EQ(out, "\"quote\\\" back\\\\ nl\\n tab\\t ctl\\u0001 ünï 日本\"");
}

TEST(JsonWriter, ReplacesInvalidUtf8) {
  std::string out;
  append_json_string(out, std::string("a\xff"
                                      "b\xc3",
                                      4));
  EXPECT_EQ(out,
            "\"a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace logpipe::core

namespace logpipe::core {
namespace {

TEST(Time, FormatRoundTripsThroughParseAcrossTheCalendar) {
  std::mt19937_64 rng(42);
  // Years 0001..9999, micros included; negative values are before 1970.
  std::uniform_int_distribution<Micros> any(-62'135'596'800'000'000LL, 253'402'300'799'999'999LL);
  for (int i = 0; i < 200'000; ++i) {
    const Micros t = any(rng);
    const std::string text = format_rfc3339(t);
    ASSERT_EQ(text.size(), 27u) << text;
    auto back = parse_rfc3339(text);
    ASSERT_TRUE(back.ok()) << text;
    ASSERT_EQ(*back, t) << text;
  }
  std::string out = "x";
  append_rfc3339(out, 0);
  EXPECT_EQ(out, "x1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(format_rfc3339(951'782'400'000'000), "2000-02-29T00:00:00.000000Z");
}

}  // namespace
}  // namespace logpipe::core
