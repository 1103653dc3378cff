// libFuzzer target: the Server-Sent Events parser (http/sse_parser) on arbitrary bytes fed in
// arbitrary pieces. Events, the retry delay, the last event id and the comments seen must not
// depend on where the reads split the stream (compared with the same bytes fed whole), and no
// event's data may exceed the limit.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "http/sse_parser.hpp"

namespace {

using logpipe::http::SseEvent;
using logpipe::http::SseParser;

struct Run {
  std::vector<SseEvent> events;
  bool failed = false;
  std::optional<std::chrono::milliseconds> retry;
  std::string last_event_id;
  std::size_t comments = 0;
};

Run feed(std::string_view stream, std::size_t max, const std::vector<std::size_t>& pieces) {
  using logpipe::fuzz::check;
  SseParser parser(max);
  Run run;
  std::size_t at = 0, p = 0;
  while (at < stream.size() && !run.failed) {
    const std::size_t n = pieces.empty() ? stream.size() : pieces[p++ % pieces.size()];
    const std::string_view piece = stream.substr(at, n);
    at += piece.size();
    run.failed = !parser.feed(piece, run.events).ok();
  }
  for (const auto& event : run.events)
    check(event.data.size() <= max && !event.type.empty());
  run.retry = parser.retry();
  run.last_event_id = parser.last_event_id();
  run.comments = parser.comments();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using logpipe::fuzz::check;
  if (size < 3) return 0;
  // First byte: the limit; next two: the read sizes (1-16 and 1-256 bytes, alternating).
  const std::size_t max = 1 + data[0] % 128;
  const std::vector<std::size_t> pieces = {1 + data[1] % 16u, 1 + data[2] % 256u};
  const std::string_view stream(reinterpret_cast<const char*>(data) + 3, size - 3);
  const Run whole = feed(stream, max, {});
  const Run split = feed(stream, max, pieces);
  check(whole.events == split.events);
  check(whole.failed == split.failed);
  check(whole.retry == split.retry);
  check(whole.last_event_id == split.last_event_id);
  check(whole.comments == split.comments);
  return 0;
}
