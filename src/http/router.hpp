// Maps (method, path) to a handler. Patterns are literal segments and `{name}` captures of one
// segment, e.g. "/api/logs/{device_id}". Captured values are percent-decoded.
#pragma once

#include <string>
#include <vector>

#include "http/message.hpp"

namespace logpipe::http {

using Handler = std::function<void(Request& request, const PathParams& params, Reply reply)>;

class Router {
 public:
  void add(bhttp::verb method, std::string pattern, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: no route for this method and path
    std::string route;                 // the pattern, or "unmatched" (bounded metric label)
    PathParams params;
    bool method_not_allowed = false;  // the path exists under another method
    std::string allow;                // the Allow header for a 405
  };
  // `target` may contain a query string; it is ignored for matching.
  Match match(bhttp::verb method, std::string_view target) const;

 private:
  struct Route {
    bhttp::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace logpipe::http
