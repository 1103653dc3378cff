// Query strings, ?a=1&b=x%20y: read by handlers, written by clients.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logpipe::http {

std::string percent_decode(std::string_view text, bool plus_is_space);

// RFC 3986 percent-encoding of a query component: everything but letters, digits and "-._~"
// becomes %XX (UTF-8 byte by byte), so '&', '=', '+' and spaces arrive as sent whichever way the
// receiving side decodes '+'.
std::string percent_encode(std::string_view text);

// "a=1&b=x%20y": each name and value percent-encoded, in order.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& params);

// The decoded value of the first `name` parameter in `target`'s query string, if present.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

// Every parameter of `target`'s query string, decoded, in order ("flag" alone has value "").
std::vector<std::pair<std::string, std::string>> query_params(std::string_view target);

}  // namespace logpipe::http
