// libFuzzer target: the OTLP logs decoders. The first byte picks JSON or protobuf; the rest is
// the body. Never a crash; what is accepted holds the record invariants; refusals are only
// malformed or too large.
#include <cstdint>

#include "decoded.hpp"
#include "ingest/formats/otlp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  ingest::DecodeOptions options;
  options.max_records = 64;
  options.max_depth = 16;
  options.max_message_bytes = 1024;
  options.max_name_bytes = 32;
  auto decoded = data[0] % 2 == 0 ? ingest::otlp::decode_json(body, options)
                                  : ingest::otlp::decode_protobuf(body, options);
  if (!decoded) {
    check(decoded.error().code == core::Errc::malformed ||
          decoded.error().code == core::Errc::too_large);
    return 0;
  }
  fuzz::check_decoded(*decoded, options);
  return 0;
}
