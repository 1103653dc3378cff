// Query-string access for handlers: ?a=1&b=x%20y
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logpipe::http {

std::string percent_decode(std::string_view text, bool plus_is_space);

// The decoded value of the first `name` parameter in `target`'s query string, if present.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

// Every parameter of `target`'s query string, decoded, in order ("flag" alone has value "").
std::vector<std::pair<std::string, std::string>> query_params(std::string_view target);

}  // namespace logpipe::http
