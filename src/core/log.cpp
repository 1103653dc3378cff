#include "core/log.hpp"

#include <unistd.h>

#include <atomic>

#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace logpipe::core::log {
namespace {

std::atomic<Level> min_level{Level::info};

const char* name(Level level) {
  switch (level) {
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "info";
}

}  // namespace

void set_min_level(Level level) {
  min_level = level;
}

bool set_min_level(std::string_view n) {
  for (Level l : {Level::debug, Level::info, Level::warn, Level::error}) {
    if (n == name(l)) {
      set_min_level(l);
      return true;
    }
  }
  return false;
}

void write(Level level, std::string_view message, Fields fields) {
  if (level < min_level.load(std::memory_order_relaxed)) return;
  JsonWriter w;
  w.begin_object()
      .field("ts", format_rfc3339(now_micros()))
      .field("level", name(level))
      .field("msg", message);
  for (const auto& [k, v] : fields)
    w.field(k, v);
  w.end_object();
  std::string line = w.take();
  line.push_back('\n');
  // One write(2) per line keeps lines from different threads whole.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace logpipe::core::log
