#include "ingest/formats/gelf_chunks.hpp"

#include <fmt/format.h>

#include "ingest/format.hpp"

namespace logpipe::ingest {
namespace {

constexpr std::size_t kHeader = 12;  // magic (2), message id (8), sequence number, count
constexpr std::size_t kMaxChunks = 128;

bool chunked(std::string_view d) {
  return d.size() >= 2 && static_cast<unsigned char>(d[0]) == 0x1e &&
         static_cast<unsigned char>(d[1]) == 0x0f;
}

}  // namespace

core::Result<std::optional<std::string>> GelfChunks::add(std::string_view datagram,
                                                         core::Micros now) {
  expire(now);
  if (!chunked(datagram)) return std::optional<std::string>(std::string(datagram));
  if (datagram.size() <= kHeader)
    return core::make_error(core::Errc::malformed, "GELF chunk shorter than its header");
  std::uint64_t id = 0;
  for (std::size_t i = 2; i < 10; ++i)
    id = (id << 8) | static_cast<unsigned char>(datagram[i]);
  const std::size_t sequence = static_cast<unsigned char>(datagram[10]);
  const std::size_t count = static_cast<unsigned char>(datagram[11]);
  if (count == 0 || count > kMaxChunks || sequence >= count) {
    if (auto it = pending_.find(id); it != pending_.end()) drop(it);
    return core::make_error(
        core::Errc::malformed,
        fmt::format("GELF chunk {} of {}: at most {} chunks", sequence, count, kMaxChunks));
  }
  const std::string_view data = datagram.substr(kHeader);
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    if (count == 1) return std::optional<std::string>(std::string(data));
    if (pending_.size() >= limits_.max_messages || bytes_ + data.size() > limits_.max_bytes)
      return core::make_error(core::Errc::too_large,
                              "too many incomplete GELF messages; this one is dropped");
    it =
        pending_.emplace(id, Pending{now, std::vector<std::optional<std::string>>(count), 0}).first;
  } else if (it->second.chunks.size() != count) {
    drop(it);
    return core::make_error(core::Errc::malformed,
                            "GELF chunks of one message disagree on their count");
  } else if (bytes_ + data.size() > limits_.max_bytes) {
    drop(it);
    return core::make_error(core::Errc::too_large,
                            "too many incomplete GELF messages; this one is dropped");
  }
  Pending& p = it->second;
  if (p.chunks[sequence]) return std::optional<std::string>();  // a repeated datagram
  p.chunks[sequence] = std::string(data);
  bytes_ += data.size();
  if (++p.received < count) return std::optional<std::string>();
  std::string whole;
  for (auto& chunk : p.chunks)
    whole += *chunk;
  bytes_ -= whole.size();
  pending_.erase(it);
  return std::optional<std::string>(std::move(whole));
}

void GelfChunks::drop(std::map<std::uint64_t, Pending>::iterator it) {
  for (const auto& chunk : it->second.chunks) {
    if (chunk) bytes_ -= chunk->size();
  }
  pending_.erase(it);
}

void GelfChunks::expire(core::Micros now) {
  // A sweep per second at most: a flood of datagrams must not make each one scan the table.
  if (now - last_sweep_ < core::kSecond) return;
  last_sweep_ = now;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now - it->second.first_seen <= limits_.timeout) {
      ++it;
      continue;
    }
    ++expired_;
    drop(it++);
  }
}

core::Result<std::string_view> gelf_payload(std::string_view payload, std::string& storage,
                                            std::size_t max_decoded_bytes) {
  if (payload.size() >= 2 && static_cast<unsigned char>(payload[0]) == 0x1f &&
      static_cast<unsigned char>(payload[1]) == 0x8b)
    return decode_content("gzip", payload, storage, max_decoded_bytes);
  if (!payload.empty() && static_cast<unsigned char>(payload[0]) == 0x78)
    return decode_content("deflate", payload, storage, max_decoded_bytes);
  if (payload.size() > max_decoded_bytes)
    return core::make_error(core::Errc::too_large, "GELF message larger than the limit");
  return payload;
}

}  // namespace logpipe::ingest
