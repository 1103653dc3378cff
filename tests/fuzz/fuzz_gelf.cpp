// libFuzzer target: GELF. Odd first byte: the body is a GELF HTTP request for decode_gelf. Even:
// the body is a sequence of UDP datagrams (2-byte big-endian length, bytes) for the chunk
// reassembler, every completed payload decompressed and decoded as the UDP listener would.
// Nothing may crash, hang or leak; the reassembler's bookkeeping must stay within its limits.
#include <simdjson.h>

#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "ingest/formats/gelf.hpp"
#include "ingest/formats/gelf_chunks.hpp"

namespace {

using namespace logpipe;
using fuzz::check;

void check_decoded(const core::Result<ingest::Decoded>& decoded,
                   const ingest::DecodeOptions& options) {
  if (!decoded) return;
  check(decoded->records.size() <= options.max_records);
  check((decoded->problem_count == 0) == (decoded->rejected_items == 0));
  simdjson::dom::parser parser;
  for (const auto& record : decoded->records) {
    check(!record.message.empty());
    simdjson::dom::element attrs;
    check(parser.parse(record.attrs_json).get(attrs) == simdjson::SUCCESS && attrs.is_object());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  ingest::DecodeOptions options;
  options.max_records = 64;
  options.max_depth = 16;
  if (data[0] & 1) {
    check_decoded(ingest::decode_gelf(body, options), options);
    return 0;
  }
  ingest::GelfChunks chunks({.max_messages = 4, .max_bytes = 4096, .timeout = 5 * core::kSecond});
  core::Micros now = 0;
  while (body.size() >= 2) {
    const std::size_t n =
        (static_cast<unsigned char>(body[0]) << 8) | static_cast<unsigned char>(body[1]);
    body.remove_prefix(2);
    const std::string_view datagram = body.substr(0, n);
    body.remove_prefix(datagram.size());
    ++now;  // a second per datagram: a message's chunks expire five datagrams on
    auto payload = chunks.add(datagram, now * core::kSecond);
    check(chunks.pending() <= 4);
    if (!payload || !payload->has_value()) continue;
    std::string storage;
    auto text = ingest::gelf_payload(**payload, storage, 1 << 16);
    if (text) check_decoded(ingest::decode_gelf(*text, options), options);
  }
  return 0;
}
