// User patterns (RE2 with named groups) as line formats, and in format=auto.
#include <gtest/gtest.h>

#include "core/time.hpp"
#include "ingest/auto_detect.hpp"
#include "ingest/formats/pattern.hpp"

namespace logpipe::ingest {
namespace {

using model::Level;
using model::Record;

constexpr core::Micros kReceived = 1'731'580'200'000'000;  // 2024-11-14T10:30:00Z

DecodeOptions options() {
  DecodeOptions o;
  o.received_at = kReceived;
  return o;
}

core::Micros at(std::string_view rfc3339) {
  return core::parse_rfc3339(rfc3339).value();
}

Format pattern(std::string regex, std::string ts_format = "") {
  auto f = pattern_format({"myapp", std::move(regex), std::move(ts_format)});
  EXPECT_TRUE(f.ok()) << f.error().message;
  return std::move(f).value();
}

Record parsed(const Format& f, std::string_view line) {
  Record r;
  std::string why;
  EXPECT_TRUE(f.parse_line(line, options(), r, why)) << line << ": " << why;
  return r;
}

TEST(Pattern, NamedGroupsFillTheRecordAndTheRestGoesToAttrs) {
  const Format f =
      pattern(R"(^(?P<ts>\S+ \S+) \[(?P<level>\w+)\] (?P<service>[\w-]+)(?: pid=(?P<pid>\d+))?: )"
              R"((?P<message>.*)$)",
              "%Y-%m-%d %H:%M:%S");
  EXPECT_EQ(f.name, "myapp");
  Record r = parsed(f, "2024-02-29 23:59:59 [warn] billing-api pid=42: card declined  ");
  EXPECT_EQ(r.ts, at("2024-02-29T23:59:59Z"));
  EXPECT_EQ(r.level, Level::warning);
  EXPECT_EQ(r.service, "billing-api");
  EXPECT_EQ(r.message, "card declined");
  EXPECT_EQ(r.attrs_json, R"({"pid":"42"})");
  r = parsed(f, "2024-02-29 23:59:59 [ERROR] billing-api: no pid");
  EXPECT_EQ(r.attrs_json, "{}") << "an optional group that took no part is left out";
  EXPECT_EQ(f.sniff_line("2024-02-29 23:59:59 [ERROR] billing-api: x"), 70);
  EXPECT_EQ(f.sniff_line("something else"), 0);

  std::string why;
  EXPECT_FALSE(f.parse_line("something else", options(), r, why));
  EXPECT_EQ(why, "does not match pattern myapp");
  EXPECT_FALSE(f.parse_line("2024-02-30 10:00:00 [info] a: b", options(), r, why));
  EXPECT_NE(why.find("ts_format"), std::string::npos);
  EXPECT_FALSE(f.parse_line("2024-02-28 10:00:00 [loud] a: b", options(), r, why));
  EXPECT_NE(why.find("level"), std::string::npos);
}

TEST(Pattern, TimestampFormats) {
  Record r = parsed(pattern(R"(^(?P<ts>\S+) (?P<msg>.*))", "epoch_ms"), "1709214936123 hi");
  EXPECT_EQ(r.ts, 1'709'214'936'123'000);
  EXPECT_EQ(r.message, "hi");
  r = parsed(pattern(R"(^(?P<ts>\S+) (?P<msg>.*))", "epoch"), "1709214936.5 hi");
  EXPECT_EQ(r.ts, 1'709'214'936'500'000);
  r = parsed(pattern(R"(^(?P<ts>\S+) (?P<msg>.*))"), "2024-02-29T10:00:00.25+02:00 hi");
  EXPECT_EQ(r.ts, at("2024-02-29T08:00:00.25Z"));
  r = parsed(pattern(R"(^\[(?P<timestamp>[^\]]+)\] (?P<message>.*))", "%d/%b/%Y:%T %z"),
             "[29/Feb/2024:13:55:36 -0700] x");
  EXPECT_EQ(r.ts, at("2024-02-29T20:55:36Z"));
  // Without a year (syslog-like): the receive time's year.
  r = parsed(pattern(R"(^(?P<ts>\w+ +\d+ [\d:]+\.\d+) (?P<message>.*))", "%b %e %H:%M:%S.%f"),
             "Nov  9 08:07:06.5 x");
  EXPECT_EQ(r.ts, at("2024-11-09T08:07:06.5Z"));
  // A date more than a day ahead of the receive time is last year's (December read in January).
  r = parsed(pattern(R"(^(?P<ts>\w+ +\d+ [\d:]+) (?P<message>.*))", "%b %e %T"),
             "Dec 31 23:00:00 x");
  EXPECT_EQ(r.ts, at("2023-12-31T23:00:00Z"));
}

TEST(Pattern, WithoutAMessageGroupTheMessageIsTheLine) {
  const Record r = parsed(pattern(R"(^user=(?P<user>\w+))"), "user=bob did things");
  EXPECT_EQ(r.message, "user=bob did things");
  EXPECT_EQ(r.attrs_json, R"({"user":"bob"})");
}

// Found by fuzz_line_pattern: a line of CRs matches ".*" but leaves no message.
TEST(Pattern, ALineOfOnlyCarriageReturnsIsRejectedNotStoredEmpty) {
  const Format f = pattern(R"(^(?P<anything>.*)$)");
  Record r;
  std::string why;
  EXPECT_FALSE(f.parse_line("\r\r", options(), r, why));
  EXPECT_EQ(why, "the line is blank");
  auto decoded = decode_lines("first\n\r\r\r\nlast\n", options(), f.parse_line);
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->records.size(), 2u);
  EXPECT_EQ(decoded->problems.at(0).index, 2);
}

TEST(Pattern, BadPatternsAreErrorsNamingThem) {
  auto bad = pattern_format({"broken", "(?P<x>unclosed", ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("pattern \"broken\": invalid regex"), std::string::npos)
      << bad.error().message;
  bad = pattern_format({"p", "x", "%Q"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("%Q is not supported"), std::string::npos);
  bad = pattern_format({"has space", "x", ""});
  ASSERT_FALSE(bad.ok());
  auto taken = formats_with_patterns({{"apache", "x", ""}});
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.error().message, "pattern \"apache\": the name is taken by a built-in format");
  taken = formats_with_patterns({{"auto", "x", ""}});
  ASSERT_FALSE(taken.ok());
}

TEST(Pattern, TakesPartInAutoDetection) {
  auto formats = formats_with_patterns(
      {{"myapp", R"(^(?P<ts>\S+ \S+) \[(?P<level>\w+)\] (?P<message>.*)$)", "%Y-%m-%d %H:%M:%S"}});
  ASSERT_TRUE(formats.ok()) << formats.error().message;
  AutoDetect detect(**formats);
  auto decoded = detect.decode(
      "2024-02-29 10:00:00 [error] from myapp\n"
      "2024-02-29 10:00:00 ERROR plain text\n"
      "level=info msg=\"logfmt [x]\" a=b\n"
      "{\"message\":\"2024-02-29 10:00:00 [error] json wins\"}\n",
      options());
  ASSERT_TRUE(decoded.ok());
  const std::vector<std::string_view> names(decoded->record_formats.begin(),
                                            decoded->record_formats.end());
  EXPECT_EQ(names, (std::vector<std::string_view>{"myapp", "plain", "logfmt", "json"}));
  EXPECT_EQ(decoded->records[0].message, "from myapp");
  EXPECT_EQ(decoded->records[0].level, Level::error);
}

}  // namespace
}  // namespace logpipe::ingest
