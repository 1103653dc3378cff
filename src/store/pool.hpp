// A fixed-size pool of PostgreSQL connections for request handlers. Connections are opened
// lazily and replaced when found broken, so the pool recovers by itself after an outage.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/connection.hpp"

namespace logpipe::store {

class Pool {
 public:
  Pool(std::string url, std::size_t size,
       std::chrono::seconds connect_timeout = std::chrono::seconds(3));

  // Runs fn with a connection; waits at most `wait` for one to be free (Errc::unavailable then).
  template <class Fn>
  auto with(Fn&& fn, std::chrono::milliseconds wait = std::chrono::milliseconds(5000))
      -> decltype(fn(std::declval<Connection&>())) {
    auto lease = acquire(wait);
    if (!lease) return lease.error();
    auto result = fn(*lease->connection);
    release(std::move(*lease));
    return result;
  }

 private:
  struct Lease {
    std::optional<Connection> connection;
  };
  core::Result<Lease> acquire(std::chrono::milliseconds wait);
  void release(Lease lease);

  std::string url_;
  std::chrono::seconds connect_timeout_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Connection> idle_;
  std::size_t capacity_;  // connections not currently leased (idle or not yet opened)
};

}  // namespace logpipe::store
