// Maps (method, path) to a route. Patterns are literal segments and `{name}` captures of one
// segment, e.g. "/api/logs/{device_id}". Captured values are percent-decoded.
//
// Middleware runs once the request's head is read and before its body is: like an Envoy filter
// deciding on headers, a refusal (401, 403, 429…) answers at once and the body is never read, so
// an unauthorised 10 MiB upload costs nothing.
//
// The router also owns what every response carries, whoever answers it (decorate): security
// headers, CORS for the allowed origins, and headers set per path prefix; and the answer to
// OPTIONS, which comes from the table itself (options).
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "http/message.hpp"
#include "model/principal.hpp"

namespace logpipe::http {

class WebSocket;

using Handler = std::function<void(Request& request, RequestContext& context, Reply reply)>;
// Runs after the WebSocket handshake succeeded, with the upgrade request (its query string);
// the handler keeps the socket as long as it wants.
using WebSocketHandler = std::function<void(std::shared_ptr<WebSocket> socket,
                                            const Request& request, const RequestContext& context)>;

// One endpoint, described once: the router, the endpoint list, the OpenAPI check and the
// middleware (scope, body limit) all read it.
struct RouteSpec {
  bhttp::verb method = bhttp::verb::get;
  std::string pattern;
  std::string summary;
  model::Scope scope = model::Scope::none;  // what the principal needs; none: open to all
  std::size_t max_body_bytes = 0;           // 0: the server's max_body_bytes
  bool websocket = false;                   // an upgrade route: see WebSocketHandler
  // The application's own label (api: which protocol's error shape a refusal of this route
  // takes); the router does not read it.
  unsigned tag = 0;
  // Answered without a key even when keys are required (liveness probes).
  bool keyless = false;
};

// Decides on the head: nullopt lets the request through (it may fill context.principal), a
// response refuses it.
using Middleware =
    std::function<std::optional<Response>(const RequestHead& head, RequestContext& context)>;

class Router {
 public:
  void add(RouteSpec spec, Handler handler);
  void add(RouteSpec spec, WebSocketHandler handler);
  // A route without a description (tests, the worker's status endpoints).
  void add(bhttp::verb method, std::string pattern, Handler handler);
  // Middleware runs in the order added, on every matched request.
  void use(Middleware middleware);
  // Sets `name: value` on every response to a path under `prefix` ("/es" covers /es and /es/…,
  // "/" every path), whatever answers it: a handler, a middleware refusal, a 404, 405 or 413.
  // For protocols whose clients check a header on each reply (Elasticsearch's
  // X-Elastic-Product).
  void add_response_header(std::string prefix, std::string name, std::string value);
  // Origins whose browser pages may call the API (CORS): exact origins such as
  // "https://ui.example", or "*" for any. Empty (the default): no CORS headers at all. Never
  // Access-Control-Allow-Credentials: keys travel in headers, not cookies.
  void allow_origins(const std::vector<std::string>& origins);
  bool origin_allowed(std::string_view origin) const;

  // What every response gets, set by the server on each one (handlers, refusals, 404s, stream
  // heads): X-Content-Type-Options: nosniff; on HTML, a Content-Security-Policy without inline
  // script, Referrer-Policy and X-Frame-Options; CORS headers when `origin` (the request's
  // Origin, may be empty) is allowed; the prefix headers. `path` without the query string.
  void decorate(std::string_view path, std::string_view origin,
                bhttp::response_header<>& response) const;

  struct Match {
    const RouteSpec* spec = nullptr;  // null: no route for this method and path
    const Handler* handler = nullptr;
    const WebSocketHandler* websocket = nullptr;
    std::string route;  // the pattern, or "unmatched" (bounded metric label)
    PathParams params;
    bool method_not_allowed = false;  // the path exists under another method
    std::string allow;                // the Allow header for a 405
  };
  // `target` may contain a query string; it is ignored for matching.
  Match match(bhttp::verb method, std::string_view target) const;

  // The answer to OPTIONS on a path that has routes (`match` of the OPTIONS request, which says
  // which methods the path has): 204 with Allow; for a CORS preflight from an allowed origin
  // also Access-Control-Allow-Methods, -Allow-Headers and -Max-Age.
  Response options(const Request& request, const Match& match) const;

  // The first refusal of the middleware chain, if any.
  std::optional<Response> admit(const RequestHead& head, RequestContext& context) const;

  // Every route in registration order.
  std::vector<const RouteSpec*> routes() const;

 private:
  struct Route {
    RouteSpec spec;
    std::vector<std::string> segments;
    Handler handler;
    WebSocketHandler websocket;
  };
  void add_route(Route route);

  std::deque<Route> routes_;  // a deque: specs handed out by match() stay put
  std::vector<Middleware> middleware_;
  struct PrefixHeader {
    std::string prefix, name, value;
  };
  std::vector<PrefixHeader> prefix_headers_;
  std::vector<std::string> origins_;  // lower case
  bool any_origin_ = false;
};

}  // namespace logpipe::http
