// Transport framing of syslog over a byte stream (RFC 6587), kept apart from the decoding of a
// message (ingest/formats/syslog), as Fluent Bit's in_syslog keeps its framing and parsers:
//
//   octet counting       "LEN SP MSG": LEN is 1-9 digits, MSG exactly LEN bytes (RFC 5425 over
//                        TLS, rsyslog's and syslog-ng's choice for RFC 5424)
//   non-transparent      MSG then LF (a CR before it dropped); NUL ends a frame too, as some
//                        senders use it
//
// The framing is detected at the start of EVERY frame, not once per connection: a frame that
// starts with a digit run and a space is octet-counted, anything else runs to the next LF or NUL
// (syslog messages start with '<', file lines with a letter or a year; a digit run not followed
// by a space is text). Stray LF/CR/NUL between frames are skipped. So a sender may switch, as
// rsyslog does after a reconnect.
//
// Memory is bounded: at most max_message_bytes + one read are held. A frame longer than
// max_message_bytes is skipped whole (an octet-counted one by its count, a line up to its LF),
// counted in oversized(), and the connection goes on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace logpipe::listeners {

class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_message_bytes) : max_(max_message_bytes) {}

  // Adds the bytes of one read. Frames returned before stay valid until this is called again.
  void append(std::string_view data);
  // The next complete frame, or nullopt when more bytes are needed.
  std::optional<std::string_view> next();
  // The stream ended (call once next() returned nullopt): the rest of a non-transparent frame
  // without its LF (a sender that closes without a newline), or nullopt. An octet-counted frame cut
  // short is lost (truncated()).
  std::optional<std::string_view> finish();

  std::size_t buffered() const { return buffer_.size() - pos_; }
  std::uint64_t oversized() const { return oversized_; }
  std::uint64_t truncated() const { return truncated_; }

 private:
  std::size_t max_;
  std::string buffer_;
  std::size_t pos_ = 0;         // start of the unread bytes in buffer_
  std::size_t skip_bytes_ = 0;  // the rest of an oversized octet-counted frame
  bool skip_line_ = false;      // the rest of an oversized line, up to its LF
  std::size_t scanned_ = 0;     // bytes of the current line already searched for its end
  std::uint64_t oversized_ = 0;
  std::uint64_t truncated_ = 0;
};

}  // namespace logpipe::listeners
