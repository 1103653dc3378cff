// Group commit for the ingest path (docs/ARCHITECTURE.md): appends requests' encoded batches to a
// Redis stream, coalescing concurrent requests into ONE entry. While an XADD is in flight, batches
// that arrive join the next entry, which goes out as soon as that XADD is answered: no timer, so an
// idle server adds no latency and a busy one writes few, large, well-compressed entries (and its
// workers handle few entries). An entry is bounded by max_entry_bytes; beyond that a further
// XADD is pipelined at once.
//
// Every request's callback runs once, with the id of the entry that holds its records, only
// after Redis acknowledged that entry, or with the error that failed it (then none of its
// records were stored).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "queue/async_client.hpp"

namespace logpipe::queue {

struct AppenderOptions {
  // Also bounds what a worker decodes at once: 256 KiB of compressed batches is ~5000 records.
  std::size_t max_entry_bytes = std::size_t{256} << 10;
  std::size_t max_in_flight = 1;  // XADDs awaiting their reply before batches wait to coalesce
};

class StreamAppender {
 public:
  using Callback = std::function<void(core::Result<std::string> entry_id)>;

  StreamAppender(AsyncClient& redis, std::string stream, AppenderOptions options = {});
  ~StreamAppender();
  StreamAppender(const StreamAppender&) = delete;
  StreamAppender& operator=(const StreamAppender&) = delete;

  // Thread-safe. `encoded_batch` is an encode_batch() output.
  void append(std::string encoded_batch, Callback callback);
  // Several batches of one request, always in the same entry: stored together or not at all.
  void append(std::vector<std::string> encoded_batches, Callback callback);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace logpipe::queue
