// libFuzzer target: the Loki push decoders. The first byte picks JSON, an uncompressed
// PushRequest, or a snappy block (decoded under a 1 MiB cap, then read as a PushRequest, as the
// endpoint does); the rest is the body. Never a crash; what is accepted holds the record
// invariants; refusals are only malformed or too large.
#include <cstdint>
#include <string>

#include "decoded.hpp"
#include "ingest/formats/loki.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  ingest::DecodeOptions options;
  options.max_records = 64;
  options.max_depth = 16;
  options.max_message_bytes = 1024;
  options.max_name_bytes = 32;
  std::string uncompressed;
  core::Result<ingest::Decoded> decoded = core::make_error(core::Errc::internal, "");
  switch (data[0] % 3) {
    case 0:
      decoded = ingest::loki::decode_json(body, options);
      break;
    case 1:
      decoded = ingest::loki::decode_protobuf(body, options);
      break;
    default: {
      constexpr std::size_t kCap = 1 << 20;
      auto status = ingest::decode_snappy(body, kCap, uncompressed);
      if (!status) {
        check(status.error().code == core::Errc::malformed ||
              status.error().code == core::Errc::too_large);
        return 0;
      }
      check(uncompressed.size() <= kCap);
      decoded = ingest::loki::decode_protobuf(uncompressed, options);
    }
  }
  if (!decoded) {
    check(decoded.error().code == core::Errc::malformed ||
          decoded.error().code == core::Errc::too_large);
    return 0;
  }
  fuzz::check_decoded(*decoded, options);
  (void)ingest::loki::parse_labels(body);
  return 0;
}
