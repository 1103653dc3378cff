// Request/response types shared by the server, the router and the API handlers.
#pragma once

#include <boost/beast/http.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "model/principal.hpp"

namespace logpipe::http {

namespace bhttp = boost::beast::http;

using Request = bhttp::request<bhttp::string_body>;
using RequestHead = bhttp::request_header<>;
using Response = bhttp::response<bhttp::string_body>;

using PathParams = std::vector<std::pair<std::string, std::string>>;

struct RouteSpec;

// What the server and the middleware know about a request, for its handler. Lives until the
// request is answered. The tenant comes only from `principal`, which middleware sets.
struct RequestContext {
  const RouteSpec* route = nullptr;
  PathParams params;
  // The client's X-Request-Id when it sent a sane one (nginx propagates it), else generated;
  // echoed in the response.
  std::string request_id;
  model::Principal principal;
  // The client's address: the socket's peer, or behind a trusted proxy (ServerOptions::
  // trusted_proxies) the client its X-Forwarded-For names. Per-address limits and the audit log
  // use it.
  std::string peer;

  // The value of path parameter `name`; empty when the route has none of that name.
  std::string_view param(std::string_view name) const;
};

// A response body written in chunks (Transfer-Encoding: chunked), for exports and Server-Sent
// Events. Thread-safe. Backpressure: `write` queues one chunk and calls `written(true)` once the
// socket has taken it, so a producer that waits for that callback holds at most one chunk in
// memory; `written(false)` (or `open() == false`) means the client is gone: stop producing.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual void write(std::string chunk, std::function<void(bool written)> written = {}) = 0;
  // Ends the body (the last chunk); the connection then serves its next request.
  virtual void finish() = 0;
  // Ends the body abnormally, for a failure after the head went out: the connection is closed
  // without the last chunk, so the client can tell that the body is incomplete. Chunks not yet
  // written are dropped (their `written(false)`).
  virtual void abort() = 0;
  virtual bool open() const = 0;
};

// Completes a request, exactly once, from any thread: either a whole response, or a head whose
// body follows as a stream. The server writes on the connection's strand.
class Reply {
 public:
  struct Target {
    virtual ~Target() = default;
    virtual void send(Response&& response) = 0;
    virtual std::shared_ptr<ResponseStream> stream(Response&& head) = 0;
  };
  Reply() = default;
  explicit Reply(std::shared_ptr<Target> target) : target_(std::move(target)) {}

  void operator()(Response&& response) const { target_->send(std::move(response)); }
  // `head`'s body is ignored; Transfer-Encoding: chunked is set.
  std::shared_ptr<ResponseStream> stream(Response&& head) const {
    return target_->stream(std::move(head));
  }
  explicit operator bool() const { return static_cast<bool>(target_); }

 private:
  std::shared_ptr<Target> target_;
};

// A JSON response with Content-Type application/json and the request's version/keep-alive.
Response json_response(const RequestHead& request, bhttp::status status, std::string body);

// The error body of every failed request:
// {"error":{"code":…,"message":…,"details":[{"index","field","message"}]}}
std::string error_body(std::string_view code, std::string_view message,
                       const std::vector<core::ErrorDetail>& details = {});
Response error_response(const RequestHead& request, bhttp::status status, std::string_view code,
                        std::string_view message,
                        const std::vector<core::ErrorDetail>& details = {});

// Maps an Error's code to its HTTP status and error code string (core::http_status_of) and sets
// Retry-After where retrying soon is the right move (503, 429).
Response error_response(const RequestHead& request, const core::Error& error);

// Retry-After on a refusal that waiting fixes (unavailable, overloaded, rate_limited): the
// error's retry_after_seconds, at least 1. Every protocol's error shape uses it.
void set_retry_after(Response& response, const core::Error& error);

// Whether a request's Accept-Encoding admits a gzip body: gzip (or x-gzip, or *) listed without
// q=0 (RFC 9110 §12.5.3).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace logpipe::http
