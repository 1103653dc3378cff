// libFuzzer target: the protobuf wire reader on arbitrary bytes. Every len field is read again
// as a nested message (as the decoders do), down to the nesting limit. Reading must never
// crash or read out of bounds, every field's bytes must lie inside its message, and an error
// must stop the reader for good.
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "ingest/protobuf.hpp"

namespace {

using namespace logpipe::ingest::protobuf;
using logpipe::fuzz::check;

void walk(const Reader& parent, std::string_view message) {
  Reader r = parent.sub(message);
  Field f;
  while (r.next(f)) {
    check(f.number > 0);
    if (f.type == WireType::len) {
      check(f.bytes.data() >= message.data() &&
            f.bytes.data() + f.bytes.size() <= message.data() + message.size());
      walk(r, f.bytes);
    }
  }
  if (r.failed()) check(!r.next(f));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const char* p = bytes.data();
  std::uint64_t v = 0;
  if (read_varint(&p, bytes.data() + bytes.size(), v))
    check(p > bytes.data() && p - bytes.data() <= 10);
  walk(Reader(""), bytes);
  return 0;
}
