// The reading side of Server-Sent Events (text/event-stream, the WHATWG HTML standard's "event
// stream interpretation"), as `logpipe tail` reads GET /api/v1/tail. Pure: bytes in, events out,
// whatever way the network splits them (a CRLF across two reads is one line end). No I/O, so it
// is unit-tested and fuzzed on its own.
//
// What the standard says and this follows: lines end with CRLF, LF or CR; a line starting with
// ':' is a comment (keep-alive pings); "field:value" with one space after the colon dropped, a
// line without a colon is a field with an empty value; `data` lines of one event are joined with
// LF; an empty line dispatches the event (none when it had no data); `event` sets its type
// ("message" when absent), `id` the last event id (kept across events, ignored when it holds a
// NUL), `retry` the reconnection delay (ASCII digits only, else ignored); other fields are
// ignored; a UTF-8 BOM at the start of the stream is skipped.
//
// Unlike a browser's, its memory is bounded: a line or an event's data beyond max_event_bytes
// is an error (the connection is then not worth reading on).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace logpipe::http {

struct SseEvent {
  std::string type = "message";
  std::string data;  // the data lines joined by LF, without a final LF
  std::string id;    // the last event id when the event was dispatched ("" for none)

  bool operator==(const SseEvent&) const = default;
};

class SseParser {
 public:
  static constexpr std::size_t kDefaultMaxEventBytes = std::size_t{16} << 20;
  explicit SseParser(std::size_t max_event_bytes = kDefaultMaxEventBytes)
      : max_event_bytes_(max_event_bytes) {}

  // Parses `bytes` (any piece of the stream) and appends each event it completes to `events`.
  // Errc::too_large when a line or an event's data exceeds max_event_bytes: the parser then
  // stays failed (until restart()), as the stream's framing can no longer be trusted.
  core::Status feed(std::string_view bytes, std::vector<SseEvent>& events);

  // A new connection: the partial line and event are dropped (an event cut by the end of a
  // connection is not dispatched), the BOM may come again; the last event id and the retry
  // delay are kept, as the standard keeps them across reconnections.
  void restart();

  // The last `retry:` the server sent, if any.
  std::optional<std::chrono::milliseconds> retry() const { return retry_; }
  const std::string& last_event_id() const { return last_event_id_; }
  // Comment lines seen so far (keep-alive pings), for tests and diagnostics.
  std::size_t comments() const { return comments_; }

 private:
  void line(std::string_view text, std::vector<SseEvent>& events);
  core::Status too_large() const;

  std::size_t max_event_bytes_;
  std::string line_;           // the current line, not yet ended
  std::string data_;           // the current event's data, each line followed by LF
  std::string type_;           // the current event's type, "" for "message"
  std::string last_event_id_;  // kept across events and connections
  std::optional<std::chrono::milliseconds> retry_;
  std::size_t comments_ = 0;
  std::size_t bom_seen_ = 0;  // bytes of the BOM matched at the start of the stream
  bool at_start_ = true;      // nothing but (part of) a BOM read yet
  bool after_cr_ = false;     // the last line ended with CR: a LF next belongs to it
  bool failed_ = false;
};

}  // namespace logpipe::http
