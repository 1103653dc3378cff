#include "http/router.hpp"

#include <algorithm>
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

void Router::decorate(std::string_view path, Response& response) const {
  for (const auto& h : prefix_headers_) {
    const bool under =
        h.prefix == "/" || (path.starts_with(h.prefix) &&
                            (path.size() == h.prefix.size() || path[h.prefix.size()] == '/'));
    if (under) response.set(h.name, h.value);
  }
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
