// A pipelined Redis connection on Asio for the serving path. Commands issued while a write is
// in flight are sent together in the next single write, so concurrent requests share round trips
// (group commit) without waiting on a timer.
//
// Failure handling: a broken connection fails every outstanding command: with Errc::unavailable
// when it was never written (certainly not applied), with Errc::timeout when it was written but
// not answered (it may have been applied: the outcome is unknown). Callers never claim success
// they cannot prove, and never claim failure they cannot prove either. After a connection is lost
// the client reconnects by itself, every `reconnect_min` doubling up to `reconnect_max`, so that
// it is connected again within about reconnect_max of Redis answering, whether or not commands
// arrive meanwhile; until then commands fail at once instead of piling up. A reply that takes
// longer than `reply_timeout` marks the connection dead.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "queue/redis.hpp"

namespace logpipe::queue {

struct AsyncClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reply_timeout{5000};
  // Attempts to a stopped Redis are refused at once and cost nothing; a short ceiling is what
  // bounds how long ingest keeps failing after Redis is back.
  std::chrono::milliseconds reconnect_min{20};
  std::chrono::milliseconds reconnect_max{150};
  std::size_t max_write_bytes = std::size_t{1} << 20;  // one coalesced write
};

class AsyncClient {
 public:
  using Callback = std::function<void(core::Result<ReplyPtr>)>;

  AsyncClient(boost::asio::io_context& io, RedisEndpoint endpoint, AsyncClientOptions options = {});
  ~AsyncClient();
  AsyncClient(const AsyncClient&) = delete;
  AsyncClient& operator=(const AsyncClient&) = delete;

  // Thread-safe. The callback runs on the client's strand: keep it short. An error reply from
  // Redis arrives as Errc::invalid_argument carrying Redis' message.
  void send(const std::vector<std::string_view>& args, Callback callback);
  // Fails outstanding commands and closes the connection (idempotent, thread-safe).
  void close();
  bool connected() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace logpipe::queue
