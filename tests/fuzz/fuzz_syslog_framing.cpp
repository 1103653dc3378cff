// libFuzzer target: RFC 6587 framing (listeners/framing) on arbitrary bytes fed in arbitrary
// pieces. Frames must not depend on where the reads split the stream (compared with the same
// bytes fed whole), never exceed the limit, never be empty, and the decoder must never hold
// more than one message and one read.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "listeners/framing.hpp"

namespace {

using logpipe::listeners::FrameDecoder;

struct Run {
  std::vector<std::string> frames;
  std::uint64_t oversized = 0;
  std::uint64_t truncated = 0;
};

Run feed(std::string_view stream, std::size_t max, const std::vector<std::size_t>& pieces) {
  using logpipe::fuzz::check;
  FrameDecoder decoder(max);
  Run run;
  std::size_t at = 0, p = 0;
  while (at < stream.size()) {
    const std::size_t n = pieces.empty() ? stream.size() : pieces[p++ % pieces.size()];
    const std::string_view piece = stream.substr(at, n);
    at += piece.size();
    decoder.append(piece);
    while (auto frame = decoder.next()) {
      check(!frame->empty() && frame->size() <= max);
      run.frames.emplace_back(*frame);
    }
    check(decoder.buffered() <= max + 16 + piece.size());
  }
  if (auto frame = decoder.finish()) {
    check(!frame->empty() && frame->size() <= max);
    run.frames.emplace_back(*frame);
  }
  run.oversized = decoder.oversized();
  run.truncated = decoder.truncated();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using logpipe::fuzz::check;
  if (size < 3) return 0;
  // First byte: the limit; next two: the read sizes (1-16 and 1-256 bytes, alternating).
  const std::size_t max = 1 + data[0] % 64;
  const std::vector<std::size_t> pieces = {1 + data[1] % 16u, 1 + data[2] % 256u};
  const std::string_view stream(reinterpret_cast<const char*>(data) + 3, size - 3);
  const Run whole = feed(stream, max, {});
  const Run split = feed(stream, max, pieces);
  check(whole.frames == split.frames);
  check(whole.oversized == split.oversized);
  check(whole.truncated == split.truncated);
  return 0;
}
