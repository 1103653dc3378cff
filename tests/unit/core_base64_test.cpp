#include <gtest/gtest.h>

#include "core/base64.hpp"
#include "core/time.hpp"

namespace logpipe::core {
namespace {

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), plain);
    // Unpadded input decodes too (the url alphabet never pads).
    std::string unpadded = encoded;
    while (!unpadded.empty() && unpadded.back() == '=')
      unpadded.pop_back();
    EXPECT_EQ(base64_decode(unpadded), plain);
    EXPECT_EQ(base64_encode(plain, Base64::url), unpadded);
  }
}

TEST(Base64, AlphabetsAndBadInput) {
  const std::string bytes = "\xfb\xff\xfe";
  EXPECT_EQ(base64_encode(bytes), "+//+");
  EXPECT_EQ(base64_encode(bytes, Base64::url), "-__-");
  EXPECT_EQ(base64_decode("-__-", Base64::url), bytes);
  EXPECT_FALSE(base64_decode("-__-"));
  EXPECT_FALSE(base64_decode("+//+", Base64::url));
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z"));  // a lone 6-bit group
  EXPECT_FALSE(base64_decode("Zm9vY"));
}

TEST(Durations, UnitsAndBounds) {
  EXPECT_EQ(parse_duration("30s"), 30 * kSecond);
  EXPECT_EQ(parse_duration("15m"), 15 * kMinute);
  EXPECT_EQ(parse_duration("2h"), 2 * kHour);
  EXPECT_EQ(parse_duration("90d"), 90 * kDay);
  EXPECT_EQ(parse_duration("0s"), 0);
  EXPECT_EQ(parse_duration("3650d"), 3650 * kDay);
  EXPECT_FALSE(parse_duration("3651d"));
  EXPECT_FALSE(parse_duration("d"));
  EXPECT_FALSE(parse_duration("-1d"));
  EXPECT_FALSE(parse_duration("1w"));
  EXPECT_FALSE(parse_duration("1.5h"));
  EXPECT_FALSE(parse_duration(""));
}

}  // namespace
}  // namespace logpipe::core
