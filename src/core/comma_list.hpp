// The entries of an HTTP-style comma-separated list ("a, b,c"): optional whitespace around each
// trimmed, empty ones skipped (RFC 9110 §5.6.1).
#pragma once

#include <string_view>
#include <vector>

namespace logpipe::core {

inline std::vector<std::string_view> comma_list(std::string_view list) {
  std::vector<std::string_view> entries;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view entry = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    const auto first = entry.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    entries.push_back(entry.substr(first, entry.find_last_not_of(" \t") - first + 1));
  }
  return entries;
}

}  // namespace logpipe::core
