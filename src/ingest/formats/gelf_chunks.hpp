// GELF over UDP: a datagram is a whole message, or one chunk of one (magic 0x1e 0x0f, an 8-byte
// message id, a sequence number, a sequence count of at most 128); a message's payload may be
// zlib- or gzip-compressed. Pure (no sockets): the UDP listener feeds datagrams in and decodes the
// payloads that come out with the "gelf" format.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"

namespace logpipe::ingest {

class GelfChunks {
 public:
  struct Limits {
    std::size_t max_messages = 1024;                // incomplete messages held at once
    std::size_t max_bytes = std::size_t{32} << 20;  // their chunks, in all
    core::Micros timeout = 5 * core::kSecond;       // Graylog's: then the message is dropped
  };
  GelfChunks() = default;
  explicit GelfChunks(Limits limits) : limits_(limits) {}

  // The whole (maybe still compressed) payload when `datagram` is a message or completes one;
  // nullopt while chunks are missing. A malformed chunk, or one that does not fit the limits, is
  // an error (Errc::malformed, Errc::too_large) and drops its message.
  core::Result<std::optional<std::string>> add(std::string_view datagram, core::Micros now);

  // Incomplete messages dropped so far because their chunks stopped coming.
  std::uint64_t expired() const { return expired_; }
  std::size_t pending() const { return pending_.size(); }

 private:
  struct Pending {
    core::Micros first_seen = 0;
    std::vector<std::optional<std::string>> chunks;
    std::size_t received = 0;
  };
  void expire(core::Micros now);
  void drop(std::map<std::uint64_t, Pending>::iterator it);

  Limits limits_;
  std::map<std::uint64_t, Pending> pending_;
  std::size_t bytes_ = 0;
  std::uint64_t expired_ = 0;
  core::Micros last_sweep_ = 0;
};

// A GELF payload without its compression, told by its first bytes (zlib 0x78, gzip 0x1f 0x8b,
// else as is); decoding stops at `max_decoded_bytes` (Errc::too_large).
core::Result<std::string_view> gelf_payload(std::string_view payload, std::string& storage,
                                            std::size_t max_decoded_bytes);

}  // namespace logpipe::ingest
