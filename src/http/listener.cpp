#include "http/listener.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <random>

#include "core/log.hpp"

namespace logpipe::http {
namespace detail {
namespace {

// Accept errors such as EMFILE persist for a while; retrying at once would spin a core.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// ...and logging each retry would fill the log: one line per interval, with the count.
constexpr std::chrono::seconds kAcceptErrorLogInterval{10};

std::string display_address(std::string_view host, unsigned short port) {
  const bool ipv6 = host.find(':') != std::string_view::npos && host.front() != '[';
  std::string out = ipv6 ? "[" + std::string(host) + "]" : std::string(host);
  return out + ":" + std::to_string(port);
}

// Numeric addresses (IPv6 optionally in brackets) and "localhost" need no DNS; anything else
// goes through the system resolver, which is acceptable once at start-up.
core::Result<tcp::endpoint> resolve(asio::io_context& io, std::string_view host,
                                    unsigned short port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) return core::Error(core::Errc::invalid_argument, "the host is empty");
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  if (host == "localhost") return tcp::endpoint(asio::ip::address_v4::loopback(), port);
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty())
    return core::Error(core::Errc::invalid_argument, "cannot resolve host: " + ec.message());
  return results.begin()->endpoint();
}

// Request ids are "<process prefix>-<counter>": unique across restarts and instances without
// a random draw per request.
std::string random_prefix() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

}  // namespace

asio::ip::address client_key(const asio::ip::address& address) {
  if (!address.is_v6()) return address;
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6);
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6(bytes);
}

Listener::Listener(asio::io_context& io, ServerOptions options, const Router& router,
                   RequestObserver observer, ConnectionObserver connection_observer)
    : io_(io),
      options_(std::move(options)),
      router_(router),
      observer_(std::move(observer)),
      connection_observer_(std::move(connection_observer)),
      acceptor_(asio::make_strand(io)),
      retry_timer_(acceptor_.get_executor()),
      id_prefix_(random_prefix()) {}

core::Status Listener::listen() {
  const std::string where = display_address(options_.host, options_.port);
  auto fail = [&](core::Errc code, const std::string& why) {
    error_code ignored;
    acceptor_.close(ignored);
    return core::Error(code, "cannot listen on " + where + ": " + why);
  };
  auto endpoint = resolve(io_, options_.host, options_.port);
  if (!endpoint) return fail(endpoint.error().code, endpoint.error().message);

  error_code ec;
  if (acceptor_.open(endpoint->protocol(), ec); ec)
    return fail(core::Errc::unavailable, ec.message());
  if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec); ec)
    return fail(core::Errc::unavailable, ec.message());
  if (acceptor_.bind(*endpoint, ec); ec) return fail(core::Errc::unavailable, ec.message());
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec)
    return fail(core::Errc::unavailable, ec.message());
  const auto local = acceptor_.local_endpoint(ec);
  if (ec) return fail(core::Errc::unavailable, ec.message());
  port_ = local.port();
  return {};
}

void Listener::start() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
}

void Listener::shutdown() {
  std::vector<std::weak_ptr<Connection>> open;
  {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true)) return;
    open.reserve(connections_.size());
    for (const auto& entry : connections_)
      open.push_back(entry.second.connection);
  }
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
  for (const auto& weak : open)
    if (auto connection = weak.lock()) connection->shutdown();
}

void Listener::accept() {
  if (stopping_ || !acceptor_.is_open()) return;
  acceptor_.async_accept(asio::make_strand(io_), boost::beast::bind_front_handler(
                                                     &Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(error_code ec, tcp::socket socket) {
  if (stopping_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    count("accept_failed");
    // Out of descriptors: an idle keep-alive connection is the cheapest to give back.
    if (ec == asio::error::no_descriptors || ec.value() == ENFILE) evict_oldest_idle();
    ++accept_errors_unlogged_;
    if (const auto now = Clock::now(); now - last_accept_error_log_ >= kAcceptErrorLogInterval) {
      core::log::error("accept failed", {{"error", ec.message()},
                                         {"times", std::to_string(accept_errors_unlogged_)}});
      last_accept_error_log_ = now;
      accept_errors_unlogged_ = 0;
    }
    return retry_accept_later();
  }
  error_code ec_remote;
  const auto address = socket.remote_endpoint(ec_remote).address();
  const auto refuse = [&](std::string_view event) {
    count(event);
    error_code ignored;
    socket.close(ignored);
    accept();
  };
  if (ec_remote) return refuse("accept_failed");  // already gone
  // One client's connections are its own problem: another client's idle one is not closed for
  // them. A trusted proxy is many clients, each limited per request by its forwarded address.
  if (options_.max_connections_per_ip > 0 && !options_.trusted_proxies.contains(address) &&
      connections_from(address) >= options_.max_connections_per_ip)
    return refuse("refused_per_ip");
  // Every connection is busy: the new client is the one to turn away.
  if (connections() >= options_.max_connections && !evict_oldest_idle()) return refuse("refused");
  start_session(std::move(socket), address, shared_from_this());
  accept();
}

bool Listener::evict_oldest_idle() {
  std::shared_ptr<Connection> oldest;
  std::int64_t oldest_since = 0;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [key, registered] : connections_) {
      const auto since = key->idle_since();
      if (since == 0 || (oldest && since >= oldest_since)) continue;
      if (auto connection = registered.connection.lock()) {
        oldest = std::move(connection);
        oldest_since = since;
      }
    }
  }
  if (!oldest) return false;
  count("evicted");
  oldest->evict();
  return true;
}

void Listener::retry_accept_later() {
  retry_timer_.expires_after(kAcceptRetryDelay);
  retry_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->accept();
  });
}

void Listener::observe(const RequestOutcome& outcome) const {
  if (!observer_) return;
  try {
    observer_(outcome);
  } catch (const std::exception& e) {
    core::log::error("request observer failed", {{"error", e.what()}});
  }
}

void Listener::count(std::string_view event) const {
  if (connection_observer_) connection_observer_(event);
}

bool Listener::add(const std::shared_ptr<Connection>& connection,
                   const asio::ip::address& address) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  if (connections_.emplace(connection.get(), Registered{connection, client_key(address)}).second)
    ++per_address_[client_key(address)];
  return true;
}

void Listener::remove(const Connection* connection) {
  std::lock_guard lock(mutex_);
  const auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  if (const auto count = per_address_.find(it->second.address);
      count != per_address_.end() && --count->second == 0)
    per_address_.erase(count);
  connections_.erase(it);
}

std::size_t Listener::connections_from(const asio::ip::address& address) {
  std::lock_guard lock(mutex_);
  const auto it = per_address_.find(client_key(address));
  return it == per_address_.end() ? 0 : it->second;
}

std::string Listener::next_request_id() {
  return fmt::format("{}-{}", id_prefix_, ++request_ids_);
}

}  // namespace detail

struct Server::Impl : detail::Listener {
  using Listener::Listener;
};

Server::Server(boost::asio::io_context& io, ServerOptions options, const Router& router,
               RequestObserver observer, ConnectionObserver connection_observer)
    : impl_(std::make_shared<Impl>(io, std::move(options), router, std::move(observer),
                                   std::move(connection_observer))) {}

// Pending operations hold the Impl, so it outlives the Server; shutting down makes them end.
Server::~Server() {
  impl_->shutdown();
}

core::Status Server::listen() {
  return impl_->listen();
}

void Server::start() {
  impl_->start();
}

void Server::shutdown() {
  impl_->shutdown();
}

std::size_t Server::connections() const {
  return impl_->connections();
}

unsigned short Server::port() const {
  return impl_->port();
}

std::size_t raise_open_files_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::size_t{1} << 20
                                         : static_cast<std::size_t>(limit.rlim_cur);
}

}  // namespace logpipe::http
