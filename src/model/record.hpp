// The canonical log record (README "Records and errors") that every input format is decoded into,
// and the batch of records one request produces. The bottom of the module graph: the queue, the
// store and the query side depend on this, never on a parser.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace logpipe::model {

// Every record and every read belongs to one tenant; 1 is `default`, created by the first
// migration and used when authentication is off.
using TenantId = std::int32_t;
inline constexpr TenantId kDefaultTenant = 1;

// Ordered by severity, so `a < b` means a is less severe.
enum class Level : std::uint8_t { trace, debug, info, notice, warning, error, critical, fatal };

// "TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "FATAL".
const char* to_string(Level level);

// Case-insensitive; accepts the canonical names and the usual aliases: WARN, ERR, CRIT, EMERG,
// EMERGENCY, ALERT, PANIC, INFORMATION(AL), DBG, FATAL, SEVERE, and syslog severities "0".."7".
std::optional<Level> parse_level(std::string_view text);

// Syslog severity 0 (emerg) … 7 (debug).
std::optional<Level> level_from_syslog_severity(std::int64_t severity);

struct Record {
  core::Micros ts = 0;  // event time; the request's receive time when the sender gave none
  Level level = Level::info;
  std::string message;
  std::string device_id;
  std::string service;
  std::string app;
  std::string host;
  std::string attrs_json = "{}";  // always a compact JSON object
};

// All records of one request: the unit that becomes one stream entry.
struct Batch {
  core::Micros received_at = 0;
  TenantId tenant_id = kDefaultTenant;
  std::string source_format = "json";
  std::vector<Record> records;
};

}  // namespace logpipe::model
