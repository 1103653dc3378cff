// HTTP/1.1 + WebSocket server on Boost.Beast, modelled on Beast's example/advanced/server: one
// acceptor (listener.cpp), a session per connection on its own strand (session.cpp) with
// keep-alive and pipelined requests answered in order, and WebSocket sessions that an upgrade
// hands the socket to (websocket_session.cpp).
//
// A request's life: head read → route matched → header checks (body limit of the route,
// Transfer-Encoding, middleware such as authentication) → body read → handler → a whole
// response or a chunked stream. A refusal on the head answers without reading the body.
//
// Protection (each limit a ServerOptions field, each refusal counted through the
// ConnectionObserver): a request's head must be whole within header_timeout (slowloris), at most
// max_header_bytes and max_header_count fields (431 with the JSON error body, then close); its
// body must arrive within body_timeout and, after a short grace, at min_body_rate on average
// (408, then close), and be no longer than the route's limit (413); an idle keep-alive connection
// is closed after idle_timeout; a response must be taken by the client within write_timeout.
// `Expect: 100-continue` is answered after the header checks. At most max_connections are open
// (at the cap the oldest idle connection is closed for a new one; without an idle one the new one
// is refused), and at most max_connections_per_ip from one client address (beyond, refused;
// trusted_proxies are exempt, as every client behind them has their address).
// Malformed HTTP gets 400 and close; a transfer coding other than chunked gets 501.
//
// TLS: with `tls`, the port speaks HTTPS only (TLS 1.2+), WebSocket over TLS too; each connection
// takes the context's current certificate, so a reload (tls::ServerContext::reload) reaches new
// connections while open ones keep theirs. A failed handshake is counted and closed.
//
// Every response, whoever answers it, passes through Router::decorate (security headers, CORS,
// a prefix's headers), and OPTIONS on a path of the table is answered from the table (Allow, CORS
// preflight) without running middleware.
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
#include "http/forwarded.hpp"
#include "http/router.hpp"

namespace logpipe::tls {
class ServerContext;
}

namespace logpipe::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;  // 0: any free port (see Server::port())
  std::size_t max_body_bytes = std::size_t{10} << 20;
  std::size_t max_header_bytes = std::size_t{64} << 10;  // request line and header fields
  std::size_t max_header_count = 100;                    // header fields
  // From a new connection's first read (after its TLS handshake), or a later request's first
  // byte, to the end of the header. A TLS handshake gets as long again.
  std::chrono::milliseconds header_timeout{10'000};
  // From the end of the header to the end of the body.
  std::chrono::milliseconds body_timeout{60'000};
  // Bytes per second a body must average once min_body_rate_grace has passed (TCP's slow start,
  // a client warming up); 0: no minimum.
  std::size_t min_body_rate = 1024;
  std::chrono::milliseconds min_body_rate_grace{3'000};
  // The client must take a response (each chunk of a stream) within this.
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};  // between requests
  std::size_t max_connections = 10'000;            // HTTP and WebSocket together
  std::size_t max_connections_per_ip = 0;          // an IPv6 client by its /64; 0: no limit
  // Peers whose X-Forwarded-For names the client (RequestContext::peer; see forwarded.hpp).
  // They are not held to max_connections_per_ip: every client behind them shares their address.
  TrustedProxies trusted_proxies;
  std::shared_ptr<tls::ServerContext> tls;  // HTTPS only when set
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

// Connection-level events, for metrics (http_connection_events_total{event}): "evicted" (an idle
// connection closed to make room), "refused" (a new connection closed at max_connections),
// "refused_per_ip" (at max_connections_per_ip), "accept_failed", "tls_failed" (handshake),
// "idle_timeout", and the refusals that end a connection: "header_timeout", "body_timeout",
// "body_too_slow" (408), "header_too_large", "too_many_headers" (431), "body_too_large" (413),
// "malformed" (400), "unsupported_transfer_coding" (501); and "forwarded_for_rejected": a trusted
// proxy's X-Forwarded-For had a malformed entry or too many (the request goes on, its client the
// last good address: see forwarded.hpp).
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
