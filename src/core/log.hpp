// Structured logging: one JSON object per line on stderr, e.g.
//   {"ts":"…","level":"info","msg":"serving","addr":"127.0.0.1:8080"}
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace logpipe::core::log {

enum class Level { debug, info, warn, error };

using Fields = std::initializer_list<std::pair<std::string_view, std::string>>;

void set_min_level(Level level);
// Accepts debug|info|warn|error; returns false for anything else.
bool set_min_level(std::string_view name);

void write(Level level, std::string_view message, Fields fields = {});

inline void debug(std::string_view m, Fields f = {}) {
  write(Level::debug, m, f);
}
inline void info(std::string_view m, Fields f = {}) {
  write(Level::info, m, f);
}
inline void warn(std::string_view m, Fields f = {}) {
  write(Level::warn, m, f);
}
inline void error(std::string_view m, Fields f = {}) {
  write(Level::error, m, f);
}

}  // namespace logpipe::core::log
