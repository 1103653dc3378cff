#include "http/router.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "http/query_string.hpp"

namespace logpipe::http {
namespace {

// Splits "/a/b/" into {"a", "b"}: the leading slash is implied and a trailing slash is ignored,
// so "/x/" and "/x" are the same route. "/" has no segments.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.empty()) return segments;
  for (;;) {
    const auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// Captures the parameters if `segments` fits the route's pattern.
std::optional<PathParams> match_segments(const std::vector<std::string>& pattern,
                                         const std::vector<std::string_view>& segments) {
  if (pattern.size() != segments.size()) return std::nullopt;
  PathParams params;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const std::string_view p = pattern[i];
    if (!is_param(p)) {
      if (p != segments[i]) return std::nullopt;
      continue;
    }
    if (segments[i].empty()) return std::nullopt;
    params.emplace_back(std::string(p.substr(1, p.size() - 2)), percent_decode(segments[i], false));
  }
  return params;
}

// A literal segment beats a capture at the first position where two patterns differ, so
// "/logs/filter" wins over "/logs/{id}" whatever the registration order.
bool more_specific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const bool a_param = is_param(a[i]);
    const bool b_param = is_param(b[i]);
    if (a_param != b_param) return !a_param;
  }
  return false;
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find_first_of("?#"));
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// HTML pages (/docs) load their script and style from the server itself and nothing else: no
// inline script, no other origin, no framing, no plugins; fetch() only back to this server.
constexpr std::string_view kHtmlPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
// What a browser page may send on a cross-origin call (the keys, JSON, compressed bodies, a
// request id); a preflight's answer is cached for this long.
constexpr std::string_view kCorsAllowHeaders =
    "X-API-Key, Authorization, Content-Type, Content-Encoding, X-Request-Id";
constexpr std::string_view kCorsMaxAge = "600";
// What a page's script may read of a response beyond the safelisted headers.
constexpr std::string_view kCorsExposeHeaders = "X-Request-Id, Retry-After";

void add_vary_origin(bhttp::response_header<>& response) {
  const auto vary = response[bhttp::field::vary];
  if (vary.empty()) {
    response.set(bhttp::field::vary, "Origin");
  } else if (lower(vary).find("origin") == std::string::npos) {
    response.set(bhttp::field::vary, std::string(vary) + ", Origin");
  }
}

}  // namespace

void Router::add_route(Route route) {
  for (const auto segment : split_path(route.spec.pattern))
    route.segments.emplace_back(segment);
  routes_.push_back(std::move(route));
}

void Router::add(RouteSpec spec, Handler handler) {
  spec.websocket = false;
  add_route({std::move(spec), {}, std::move(handler), {}});
}

void Router::add(RouteSpec spec, WebSocketHandler handler) {
  spec.websocket = true;
  add_route({std::move(spec), {}, {}, std::move(handler)});
}

void Router::add(bhttp::verb method, std::string pattern, Handler handler) {
  RouteSpec spec;
  spec.method = method;
  spec.pattern = std::move(pattern);
  add(std::move(spec), std::move(handler));
}

void Router::use(Middleware middleware) {
  middleware_.push_back(std::move(middleware));
}

void Router::add_response_header(std::string prefix, std::string name, std::string value) {
  if (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  prefix_headers_.push_back({std::move(prefix), std::move(name), std::move(value)});
}

void Router::allow_origins(const std::vector<std::string>& origins) {
  origins_.clear();
  any_origin_ = false;
  for (const auto& origin : origins) {
    if (origin == "*") {
      any_origin_ = true;
    } else if (!origin.empty()) {
      origins_.push_back(lower(origin));
    }
  }
}

bool Router::origin_allowed(std::string_view origin) const {
  if (origin.empty()) return false;
  if (any_origin_) return true;
  if (origins_.empty()) return false;
  const std::string wanted = lower(origin);
  return std::find(origins_.begin(), origins_.end(), wanted) != origins_.end();
}

void Router::decorate(std::string_view path, std::string_view origin,
                      bhttp::response_header<>& response) const {
  response.set("X-Content-Type-Options", "nosniff");
  if (lower(response[bhttp::field::content_type]).starts_with("text/html")) {
    response.set("Content-Security-Policy", kHtmlPolicy);
    response.set("Referrer-Policy", "no-referrer");
    response.set(bhttp::field::x_frame_options, "DENY");
  }
  // With an allowlist the answer depends on the Origin, so caches must key on it, allowed or
  // not; with "*" it does not.
  if (!origins_.empty() && !any_origin_) add_vary_origin(response);
  if (origin_allowed(origin)) {
    response.set(bhttp::field::access_control_allow_origin,
                 any_origin_ ? std::string_view("*") : origin);
    response.set(bhttp::field::access_control_expose_headers, kCorsExposeHeaders);
  }
  for (const auto& h : prefix_headers_) {
    const bool under =
        h.prefix == "/" || (path.starts_with(h.prefix) &&
                            (path.size() == h.prefix.size() || path[h.prefix.size()] == '/'));
    if (under) response.set(h.name, h.value);
  }
}

Response Router::options(const Request& request, const Match& match) const {
  Response response{bhttp::status::no_content, request.version()};
  const std::string allow = match.allow + ", OPTIONS";
  response.set(bhttp::field::allow, allow);
  // A preflight: the browser asks whether its page may send this method with these headers.
  const bool preflight = request.count(bhttp::field::access_control_request_method) > 0;
  if (preflight && origin_allowed(request[bhttp::field::origin])) {
    response.set(bhttp::field::access_control_allow_methods, allow);
    response.set(bhttp::field::access_control_allow_headers, kCorsAllowHeaders);
    response.set(bhttp::field::access_control_max_age, kCorsMaxAge);
  }
  response.keep_alive(request.keep_alive());
  return response;  // no Content-Length: a 204 has no body
}

std::optional<Response> Router::admit(const RequestHead& head, RequestContext& context) const {
  for (const auto& m : middleware_) {
    if (auto refusal = m(head, context)) return refusal;
  }
  return std::nullopt;
}

std::vector<const RouteSpec*> Router::routes() const {
  std::vector<const RouteSpec*> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_)
    out.push_back(&r.spec);
  return out;
}

Router::Match Router::match(bhttp::verb method, std::string_view target) const {
  const auto segments = split_path(path_of(target));
  Match result;
  result.route = "unmatched";
  const Route* best = nullptr;
  const Route* other_method = nullptr;
  std::vector<bhttp::verb> allowed;
  for (const auto& route : routes_) {
    auto params = match_segments(route.segments, segments);
    if (!params) continue;
    if (std::find(allowed.begin(), allowed.end(), route.spec.method) == allowed.end())
      allowed.push_back(route.spec.method);
    if (route.spec.method != method) {
      if (!other_method) other_method = &route;
      continue;
    }
    if (!best || more_specific(route.segments, best->segments)) {
      best = &route;
      result.params = std::move(*params);
    }
  }
  if (best) {
    result.spec = &best->spec;
    if (best->spec.websocket) {
      result.websocket = &best->websocket;
    } else {
      result.handler = &best->handler;
    }
    result.route = best->spec.pattern;
    return result;
  }
  if (other_method) {
    result.method_not_allowed = true;
    // The path is known, so its pattern is still a bounded label.
    result.route = other_method->spec.pattern;
    for (const auto verb : allowed) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += bhttp::to_string(verb);
    }
  }
  return result;
}

}  // namespace logpipe::http
