// HTTP/1.1 + WebSocket server on Boost.Beast, modelled on Beast's example/advanced/server: one
// acceptor (listener.cpp), a session per connection on its own strand (session.cpp) with
// keep-alive and pipelined requests answered in order, and WebSocket sessions that an upgrade
// hands the socket to (websocket_session.cpp).
//
// A request's life: head read → route matched → header checks (body limit of the route,
// Transfer-Encoding, middleware such as authentication) → body read → handler → a whole
// response or a chunked stream. A refusal on the head answers without reading the body.
//
// Protection: header and body size limits (413 with the JSON error body, then close), read
// timeouts for slow clients (a request must arrive whole within request_timeout; an idle
// keep-alive connection is closed after idle_timeout), `Expect: 100-continue` answered after
// the header checks, at most max_connections open (at the cap the oldest idle connection is
// closed for a new one; without an idle one the new one is refused). Malformed HTTP gets 400 and
// close; a transfer coding other than chunked gets 501.
//
// shutdown(): stop accepting, close idle connections at once, let in-flight requests finish
// and their responses go out, then close those connections too. The io_context then runs out
// of work by itself.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "http/router.hpp"

namespace logpipe::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (see Server::port())
  std::size_t max_body_bytes = std::size_t{10} << 20;
  std::size_t max_header_bytes = std::size_t{64} << 10;
  std::chrono::milliseconds request_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::size_t max_connections = 10'000;  // HTTP and WebSocket together
};

// Called once per answered request, after the response is written (for metrics and access logs).
struct RequestOutcome {
  bhttp::verb method;
  std::string_view route;  // Router::Match::route
  unsigned status;
  double seconds;  // from the request's last byte read to the response written
  std::size_t request_bytes;
  std::size_t response_bytes;
};
using RequestObserver = std::function<void(const RequestOutcome&)>;

// Connection-level events, for metrics: "evicted" (an idle connection closed to make room),
// "refused" (a new connection closed at the cap), "accept_failed".
using ConnectionObserver = std::function<void(std::string_view event)>;

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, const Router& router,
         RequestObserver observer = {}, ConnectionObserver connection_observer = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; an error value when the address is invalid or in use.
  core::Status listen();
  void start();     // begins accepting (after listen)
  void shutdown();  // thread-safe, idempotent
  // Open connections; after shutdown() it reaches 0 once every in-flight response is written.
  std::size_t connections() const;
  unsigned short port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (a server's connections are file descriptors)
// and returns the soft limit now in force.
std::size_t raise_open_files_limit();

}  // namespace logpipe::http
