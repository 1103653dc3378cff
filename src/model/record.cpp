#include "model/record.hpp"

#include <array>
#include <cctype>

namespace logpipe::model {

const char* to_string(Level level) {
  static constexpr std::array<const char*, 8> names = {"TRACE",   "DEBUG", "INFO",     "NOTICE",
                                                       "WARNING", "ERROR", "CRITICAL", "FATAL"};
  return names[static_cast<std::size_t>(level)];
}

std::optional<Level> level_from_syslog_severity(std::int64_t severity) {
  switch (severity) {
    case 0:
    case 1:
      return Level::fatal;
    case 2:
      return Level::critical;
    case 3:
      return Level::error;
    case 4:
      return Level::warning;
    case 5:
      return Level::notice;
    case 6:
      return Level::info;
    case 7:
      return Level::debug;
    default:
      return std::nullopt;
  }
}

std::optional<Level> parse_level(std::string_view text) {
  std::string upper;
  upper.reserve(text.size());
  for (char c : text)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper.size() == 1 && upper[0] >= '0' && upper[0] <= '7')
    return level_from_syslog_severity(upper[0] - '0');
  struct Alias {
    std::string_view name;
    Level level;
  };
  static constexpr Alias aliases[] = {
      {"TRACE", Level::trace},   {"DEBUG", Level::debug},      {"DBG", Level::debug},
      {"INFO", Level::info},     {"INFORMATION", Level::info}, {"INFORMATIONAL", Level::info},
      {"NOTICE", Level::notice}, {"WARNING", Level::warning},  {"WARN", Level::warning},
      {"ERROR", Level::error},   {"ERR", Level::error},        {"CRITICAL", Level::critical},
      {"CRIT", Level::critical}, {"SEVERE", Level::critical},  {"FATAL", Level::fatal},
      {"EMERG", Level::fatal},   {"EMERGENCY", Level::fatal},  {"ALERT", Level::fatal},
      {"PANIC", Level::fatal},
  };
  for (const auto& a : aliases) {
    if (upper == a.name) return a.level;
  }
  return std::nullopt;
}

}  // namespace logpipe::model
