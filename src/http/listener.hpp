// Inside the server (not part of http's contract): the acceptor, the registry of open
// connections, and what sessions share.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "http/server.hpp"

namespace logpipe::http::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

inline constexpr std::string_view kRequestIdHeader = "X-Request-Id";

// An open connection as the listener sees it: something to shut down, and how long it has been
// idle (waiting for a request or a message) for eviction at the connection cap.
class Connection {
 public:
  virtual ~Connection() = default;
  // Posts to the connection's strand: close at once if idle, else after the current response.
  virtual void shutdown() = 0;
  // Closes at once (eviction): only called while idle_since() says it is idle.
  virtual void evict() = 0;
  // Steady-clock ticks since the connection went idle; 0 while it is busy.
  std::int64_t idle_since() const { return idle_since_.load(std::memory_order_relaxed); }

 protected:
  void mark_idle() {
    idle_since_.store(Clock::now().time_since_epoch().count(), std::memory_order_relaxed);
  }
  void mark_busy() { idle_since_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> idle_since_{0};
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, ServerOptions options, const Router& router,
           RequestObserver observer, ConnectionObserver connection_observer);

  core::Status listen();
  void start();
  void shutdown();
  unsigned short port() const { return port_.load(); }

  asio::io_context& io() { return io_; }
  const ServerOptions& options() const { return options_; }
  const Router& router() const { return router_; }
  void observe(const RequestOutcome& outcome) const;
  // A connection event for metrics (see ConnectionObserver).
  void count(std::string_view event) const;
  // False once shutting down: the connection is then dropped. `address` is the client's, counted
  // against max_connections_per_ip while the connection is registered.
  bool add(const std::shared_ptr<Connection>& connection, const asio::ip::address& address);
  void remove(const Connection* connection);
  std::size_t connections() {
    std::lock_guard lock(mutex_);
    return connections_.size();
  }
  std::size_t connections_from(const asio::ip::address& address);
  // A request id for a request that brought none.
  std::string next_request_id();

 private:
  void accept();
  void on_accept(error_code ec, tcp::socket socket);
  void retry_accept_later();
  // At the cap: closes the longest-idle connection; false when none is idle.
  bool evict_oldest_idle();

  asio::io_context& io_;
  const ServerOptions options_;
  const Router& router_;
  const RequestObserver observer_;
  const ConnectionObserver connection_observer_;
  tcp::acceptor acceptor_;  // used on its strand once started
  asio::steady_timer retry_timer_;
  std::atomic<unsigned short> port_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> request_ids_{0};
  std::string id_prefix_;
  Clock::time_point last_accept_error_log_{};
  std::size_t accept_errors_unlogged_ = 0;
  std::mutex mutex_;  // guards connections_, per_address_ and the transition of stopping_
  struct Registered {
    std::weak_ptr<Connection> connection;
    asio::ip::address address;
  };
  std::unordered_map<const Connection*, Registered> connections_;
  std::unordered_map<asio::ip::address, std::size_t> per_address_;
};

// What max_connections_per_ip counts by: an IPv4 address (an IPv4-mapped IPv6 one too), an IPv6
// client by its /64, since one host usually holds a whole /64 (as the rate limits count).
asio::ip::address client_key(const asio::ip::address& address);

// Starts the HTTP session of an accepted connection (HTTPS when the options have `tls`).
void start_session(tcp::socket&& socket, const asio::ip::address& address,
                   const std::shared_ptr<Listener>& listener);

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Takes over an upgraded connection: the handshake answers `request`, then `handler` gets the
// socket. Any bytes the client sent after its upgrade request are in `buffer`. Over TLS the
// stream's context comes along, since the stream refers to it.
void start_websocket(boost::beast::tcp_stream&& stream, boost::beast::flat_buffer&& buffer,
                     Request&& request, RequestContext&& context, const WebSocketHandler& handler,
                     const asio::ip::address& address, const std::shared_ptr<Listener>& listener);
void start_websocket(TlsStream&& stream, std::shared_ptr<asio::ssl::context> tls_context,
                     boost::beast::flat_buffer&& buffer, Request&& request,
                     RequestContext&& context, const WebSocketHandler& handler,
                     const asio::ip::address& address, const std::shared_ptr<Listener>& listener);

}  // namespace logpipe::http::detail
