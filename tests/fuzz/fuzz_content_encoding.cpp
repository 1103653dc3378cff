// libFuzzer target: Content-Encoding decoding of untrusted bodies (gzip, deflate, zstd, snappy, and
// lists of them). The first byte picks the coding; the rest is the body. Decoding must never crash,
// never return more than the cap, and refuse only as malformed, too large or unsupported.
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "ingest/format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  if (size == 0) return 0;
  constexpr std::string_view kCodings[] = {"gzip",       "deflate",     "zstd",
                                           "gzip, zstd", "zstd, gzip",  "deflate, deflate",
                                           "snappy",     "gzip, snappy"};
  const std::string_view coding = kCodings[data[0] % std::size(kCodings)];
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  constexpr std::size_t kCap = 1 << 20;
  std::string storage;
  auto decoded = ingest::decode_content(coding, body, storage, kCap);
  if (decoded) {
    check(decoded->size() <= kCap);
  } else {
    const auto code = decoded.error().code;
    check(code == core::Errc::malformed || code == core::Errc::too_large ||
          code == core::Errc::unsupported);
  }
  return 0;
}
