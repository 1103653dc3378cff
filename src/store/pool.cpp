#include "store/pool.hpp"

#include <utility>

namespace logpipe::store {

Pool::Pool(std::string url, std::size_t size, std::chrono::seconds connect_timeout)
    : url_(std::move(url)), connect_timeout_(connect_timeout), size_(size), capacity_(size) {}

core::Result<Pool::Lease> Pool::lease(std::chrono::milliseconds wait) {
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
      release(std::nullopt);
      return opened.error();
    }
    conn.emplace(std::move(opened).value());
  }
  return Lease(*this, std::move(*conn));
}

void Pool::release(std::optional<Connection> connection) {
  std::lock_guard lock(mutex_);
  if (connection && !connection->broken()) idle_.push_back(std::move(*connection));
  ++capacity_;
  available_.notify_one();
}

Pool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      connection_(std::move(other.connection_)),
      discard_(other.discard_) {
  other.connection_.reset();
}

Pool::Lease& Pool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::exchange(other.pool_, nullptr);
    connection_ = std::move(other.connection_);
    other.connection_.reset();
    discard_ = other.discard_;
  }
  return *this;
}

Pool::Lease::~Lease() {
  give_back();
}

void Pool::Lease::give_back() {
  if (!pool_) return;
  if (discard_) connection_.reset();  // closes it
  pool_->release(std::move(connection_));
  pool_ = nullptr;
  connection_.reset();
}

}  // namespace logpipe::store
