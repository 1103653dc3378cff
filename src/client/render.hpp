// What `logpipe query` reads from GET /api/v1/logs and how it prints it. The API's log objects
// are kept as the server wrote them, so json and ndjson output is the API's JSON byte for byte;
// a table row shows the time, level, device/service and message of one log.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace logpipe::client {

struct LogEntry {
  std::string json;  // the API's object, as sent
  std::string ts, level, message;
  std::optional<std::string> device_id, service, host;  // null in the API when the sender gave none
};

struct LogPage {
  std::vector<LogEntry> logs;
  std::optional<std::string> next_cursor;  // set when more logs follow
};

// A 200 answer's body: {"logs":[…],"count":N,"next_cursor":"…"|null}. Errc::malformed when it is
// not that.
core::Result<LogPage> parse_log_page(std::string_view body);

// One of the API's log objects (an item of a page, a record of the live tail). Errc::malformed
// when it is not an object with ts, level and message.
core::Result<LogEntry> parse_log(std::string_view json);

// "<ts> <LEVEL, padded> <device_id>/<service> <message>\n" ("-" for a missing device or
// service). Control characters in the log's text are shown escaped (\n, \x1b, …): a log must not
// break the one-row-per-log layout or drive the terminal. `color` wraps the level in its ANSI
// colour.
std::string table_row(const LogEntry& log, bool color);
// The API's object on one line.
std::string ndjson_row(const LogEntry& log);
// The API's objects as one JSON array, one object per line.
std::string json_array(std::span<const LogEntry> logs);

// Text as the terminal shows it, appended to `out`: C0 and C1 control characters (ESC, CSI,
// line breaks) escaped (\n, \x1b, \u009b), everything else (UTF-8 included) as it is.
void append_printable(std::string& out, std::string_view text);

// A refused request as one line: "422 invalid_field: level must be a level (…)" from the API's
// error body ({"error":{"code","message","details"}}); details beyond the first follow on lines
// of their own. A body that is not the API's error (a proxy's page) gives the status line and
// the start of the body.
std::string describe_error(unsigned status, std::string_view reason, std::string_view body);

}  // namespace logpipe::client
