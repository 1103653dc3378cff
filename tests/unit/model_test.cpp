#include <gtest/gtest.h>

#include "model/record.hpp"

namespace logpipe::model {
namespace {

TEST(Levels, CanonicalNamesAliasesAndSeverities) {
  EXPECT_EQ(parse_level("warn"), Level::warning);
  EXPECT_EQ(parse_level("Warning"), Level::warning);
  EXPECT_EQ(parse_level("ERR"), Level::error);
  EXPECT_EQ(parse_level("crit"), Level::critical);
  EXPECT_EQ(parse_level("EMERG"), Level::fatal);
  EXPECT_EQ(parse_level("informational"), Level::info);
  EXPECT_EQ(parse_level("trace"), Level::trace);
  EXPECT_EQ(parse_level("notice"), Level::notice);
  EXPECT_EQ(parse_level("3"), Level::error);
  EXPECT_EQ(parse_level("7"), Level::debug);
  EXPECT_EQ(parse_level("8"), std::nullopt);
  EXPECT_EQ(parse_level("LOUD"), std::nullopt);
  EXPECT_EQ(parse_level(""), std::nullopt);
  EXPECT_STREQ(to_string(Level::warning), "WARNING");
  EXPECT_STREQ(to_string(Level::fatal), "FATAL");
  EXPECT_EQ(level_from_syslog_severity(0), Level::fatal);
  EXPECT_EQ(level_from_syslog_severity(5), Level::notice);
  EXPECT_EQ(level_from_syslog_severity(-1), std::nullopt);
}

}  // namespace
}  // namespace logpipe::model
