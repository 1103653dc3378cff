// Inside the listeners module: what a listener does with one message (a frame of a TCP or TLS
// connection, a UDP datagram) once the transport has cut it out. One decoder per protocol;
// the transport code (listener.cpp) is the same for all of them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ingest/format.hpp"
#include "listeners/listener.hpp"
#include "model/record.hpp"

namespace logpipe::listeners {

class MessageDecoder {
 public:
  struct Rejection {
    std::string_view reason;  // the metric label: malformed, oversized, too_many_pending
    std::string why;          // for the log
  };

  virtual ~MessageDecoder() = default;
  // Appends the record of `message` to `out`, or nothing while a message is incomplete (a GELF
  // chunk); the rejection when the message cannot be taken. Called on one strand per transport
  // at a time: UDP state (chunks) needs no lock, TCP frames carry none.
  virtual std::optional<Rejection> decode(std::string_view transport, std::string_view message,
                                          const ingest::DecodeOptions& options,
                                          std::vector<model::Record>& out) = 0;
  // Messages lost inside the decoder so far (GELF chunks that stopped coming).
  virtual std::uint64_t incomplete() const { return 0; }
};

// "syslog": RFC 5424 and 3164 (ingest/formats/syslog). "gelf": GELF 1.1 JSON; over UDP chunked
// and zlib/gzip-compressed as Graylog takes it (ingest/formats/gelf_chunks), over TCP one
// NUL-terminated JSON message per frame.
std::unique_ptr<MessageDecoder> make_decoder(Protocol protocol);

}  // namespace logpipe::listeners
