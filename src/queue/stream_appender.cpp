#include "queue/stream_appender.hpp"

#include <mutex>
#include <vector>

#include "queue/batch_codec.hpp"
#include "queue/stream_consumer.hpp"

namespace logpipe::queue {

struct StreamAppender::Impl : std::enable_shared_from_this<StreamAppender::Impl> {
  struct Group {
    std::vector<std::string> batches;
    std::vector<Callback> callbacks;
    std::size_t bytes = 0;
  };

  Impl(AsyncClient& r, std::string s, AppenderOptions o)
      : redis(r), stream(std::move(s)), options(o) {}

  AsyncClient& redis;
  const std::string stream;
  const AppenderOptions options;

  std::mutex mutex;
  Group waiting;  // batches that arrived while max_in_flight XADDs were out
  std::size_t in_flight = 0;

  void append(std::vector<std::string> batches, Callback callback) {
    std::size_t bytes = 0;
    for (const auto& b : batches)
      bytes += b.size();
    Group ready;
    {
      std::lock_guard lock(mutex);
      const bool full = !waiting.batches.empty() && waiting.bytes + bytes > options.max_entry_bytes;
      if (full) {  // the waiting group is as large as an entry gets: send it now
        ready = std::move(waiting);
        waiting = {};
        ++in_flight;
      }
      waiting.bytes += bytes;
      for (auto& b : batches)
        waiting.batches.push_back(std::move(b));
      waiting.callbacks.push_back(std::move(callback));
      if (!full && in_flight < options.max_in_flight) {
        ready = std::move(waiting);
        waiting = {};
        ++in_flight;
      }
    }
    if (!ready.batches.empty()) send(std::move(ready));
  }

  void send(Group group) {
    const std::string payload = encode_entry(group.batches);
    redis.send({"XADD", stream, "*", field::payload, payload},
               [self = shared_from_this(),
                callbacks = std::move(group.callbacks)](core::Result<ReplyPtr> reply) {
                 core::Result<std::string> id =
                     reply ? core::Result<std::string>(std::string(reply_string(**reply)))
                           : core::Result<std::string>(reply.error());
                 for (const auto& cb : callbacks)
                   cb(id);
                 self->on_reply();
               });
  }

  void on_reply() {
    Group next;
    {
      std::lock_guard lock(mutex);
      --in_flight;
      if (waiting.batches.empty()) return;
      next = std::move(waiting);
      waiting = {};
      ++in_flight;
    }
    send(std::move(next));
  }
};

StreamAppender::StreamAppender(AsyncClient& redis, std::string stream, AppenderOptions options)
    : impl_(std::make_shared<Impl>(redis, std::move(stream), options)) {}

StreamAppender::~StreamAppender() = default;

void StreamAppender::append(std::string encoded_batch, Callback callback) {
  std::vector<std::string> batches;
  batches.push_back(std::move(encoded_batch));
  impl_->append(std::move(batches), std::move(callback));
}

void StreamAppender::append(std::vector<std::string> encoded_batches, Callback callback) {
  impl_->append(std::move(encoded_batches), std::move(callback));
}

}  // namespace logpipe::queue
