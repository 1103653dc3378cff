#include "store/pool.hpp"

namespace logpipe::store {

Pool::Pool(std::string url, std::size_t size, std::chrono::seconds connect_timeout)
    : url_(std::move(url)), connect_timeout_(connect_timeout), capacity_(size) {}

core::Result<Pool::Lease> Pool::acquire(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  if (!available_.wait_for(lock, wait, [&] { return capacity_ > 0; }))
    return core::make_error(core::Errc::unavailable, "postgres: no free connection in the pool");
  --capacity_;
  std::optional<Connection> conn;
  if (!idle_.empty()) {
    conn.emplace(std::move(idle_.back()));
    idle_.pop_back();
  }
  lock.unlock();
  if (!conn || conn->broken()) {
    auto opened = Connection::open(url_, connect_timeout_);
    if (!opened) {
      std::lock_guard relock(mutex_);
      ++capacity_;
      available_.notify_one();
      return opened.error();
    }
    conn.emplace(std::move(opened).value());
  }
  return Lease{std::move(conn)};
}

void Pool::release(Lease lease) {
  std::lock_guard lock(mutex_);
  if (lease.connection && !lease.connection->broken())
    idle_.push_back(std::move(*lease.connection));
  ++capacity_;
  available_.notify_one();
}

}  // namespace logpipe::store
