// HTTP-style comma-separated lists ("a, b,c", RFC 9110 §5.6.1): their entries, and the optional
// whitespace (spaces, tabs) around each.
#pragma once

#include <string_view>
#include <vector>

namespace logpipe::core {

// `text` without the spaces and tabs around it.
inline std::string_view trim_ows(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The entries, each trimmed; empty ones skipped.
inline std::vector<std::string_view> comma_list(std::string_view list) {
  std::vector<std::string_view> entries;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view entry = trim_ows(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (!entry.empty()) entries.push_back(entry);
  }
  return entries;
}

}  // namespace logpipe::core
