// HTTP/1.1 server on Boost.Beast, modelled on Beast's example/advanced/server: one acceptor, a
// session per connection on its own strand, keep-alive, pipelined requests answered in order.
//
// Protection: header and body size limits (413 with the JSON error body, then close), read
// timeouts for slow clients (a request must arrive whole within request_timeout; an idle
// keep-alive connection is closed after idle_timeout), `Expect: 100-continue` answered after
// the size check. Malformed HTTP gets 400 and close.
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

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, const Router& router,
         RequestObserver observer = {});
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

}  // namespace logpipe::http
