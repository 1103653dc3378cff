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

  // A connection taken from the pool until the lease is gone: it then goes back, unless it broke
  // or was discarded. For work that spans several tasks (a streamed export); `with` is the
  // short form for work done in one call.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    Connection& connection() { return *connection_; }
    // The connection's state is unknown (a transaction that could not be ended): close it
    // rather than hand it to the next user.
    void discard() { discard_ = true; }

   private:
    friend class Pool;
    Lease(Pool& pool, Connection connection) : pool_(&pool), connection_(std::move(connection)) {}
    void give_back();

    Pool* pool_ = nullptr;
    std::optional<Connection> connection_;
    bool discard_ = false;
  };

  // Waits at most `wait` for a free connection (Errc::unavailable then).
  core::Result<Lease> lease(std::chrono::milliseconds wait = std::chrono::milliseconds(5000));

  // Runs fn with a connection; waits at most `wait` for one to be free (Errc::unavailable then).
  template <class Fn>
  auto with(Fn&& fn, std::chrono::milliseconds wait = std::chrono::milliseconds(5000))
      -> decltype(fn(std::declval<Connection&>())) {
    auto taken = lease(wait);
    if (!taken) return taken.error();
    return fn(taken->connection());
  }

  std::size_t size() const { return size_; }

 private:
  void release(std::optional<Connection> connection);

  std::string url_;
  std::chrono::seconds connect_timeout_;
  std::size_t size_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<Connection> idle_;
  std::size_t capacity_;  // connections not currently leased (idle or not yet opened)
};

}  // namespace logpipe::store
