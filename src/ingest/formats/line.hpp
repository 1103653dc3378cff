// Inside the line formats (apache, logfmt, plain, user patterns): what they share to turn one
// line of text into a canonical record — text checks, the field names of README "Records and
// errors", level words, timestamps written by hand-rolled scanners (no regex, no locale), and a
// small builder for the attrs object. Everything here is a pure function of its input.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "ingest/format.hpp"
#include "model/record.hpp"

namespace logpipe::ingest::line {

inline bool is_space(char c) {
  return c == ' ' || c == '\t';
}
inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view text);  // spaces and tabs, both ends
std::string_view trim_right(std::string_view text);

// A line a record can be made of: valid UTF-8 (PostgreSQL refuses anything else, and would
// refuse the whole batch with it). False with `why` set otherwise.
bool valid_text(std::string_view line, std::string& why);

// What a key of a line format names, with the aliases of README "Records and errors" (those of
// the JSON formats), plus `lvl` and `t` (Go's logfmt loggers).
enum class Field { message, level, ts, device_id, service, app, host, ignored, other };
Field classify(std::string_view key);
// The record's member for a name field (device_id, service, app, host); null for the others.
std::string* name_field(model::Record& record, Field field);

// The attrs object being built: keys and values are escaped as JSON; a key given twice is kept
// twice, and PostgreSQL's jsonb keeps the last one.
class Attrs {
 public:
  void add(std::string_view key, std::string_view value);
  void add_number(std::string_view key, std::int64_t value);
  void add_true(std::string_view key);
  bool empty() const { return out_.empty(); }
  std::string take();  // "{}" when nothing was added

 private:
  void key(std::string_view key);
  std::string out_;
};

// Sets `out.message` to `text`; longer than max_message_bytes: cut at a character boundary, and
// attrs gets "truncated_from" (the length in bytes before the cut). A log line is not dropped for
// its length.
void set_message(model::Record& out, std::string_view text, const DecodeOptions& options,
                 Attrs& attrs);

// device_id, service, app, host: at most max_name_bytes. False with `why` set otherwise.
bool set_name(std::string& field, std::string_view value, std::string_view key,
              const DecodeOptions& options, std::string& why);

// A level word as logs write it near their start: TRACE, DEBUG/DBG, INFO, NOTICE, WARN/WARNING,
// ERROR/ERR, CRIT/CRITICAL, ALERT, EMERG, FATAL, PANIC, SEVERE in any case. Unlike
// model::parse_level, never a digit: a number in text is not a severity.
std::optional<model::Level> level_word(std::string_view word);

// "Jan" … "Dec" (any case) → 1 … 12; 0 otherwise.
unsigned month_from_abbr(std::string_view abbr);

// A date and time at the start of `text`: YYYY-MM-DD or YYYY/MM/DD, 'T' or ' ', HH:MM:SS, an
// optional fraction after '.' or ',' (truncated to microseconds), an optional zone (Z, +hh:mm,
// +hhmm, +hh; none: UTC). The length consumed, or 0 when `text` does not start with one (an
// impossible date, such as 2023-02-29, is none).
std::size_t scan_timestamp(std::string_view text, core::Micros& out);

// 10/Oct/2000:13:55:36 -0700 (Apache's %t, nginx's $time_local, without the brackets), an
// optional fraction after the seconds. False when `text` is not exactly that.
bool parse_clf_time(std::string_view text, core::Micros& out);

// The micros of a civil date and time, `offset_seconds` east of UTC; false for an impossible
// date or time or one outside years 1-9999.
bool civil_to_micros(std::int64_t year, unsigned month, unsigned day, unsigned hour,
                     unsigned minute, unsigned second, std::int64_t micros,
                     std::int64_t offset_seconds, core::Micros& out);

// A timestamp value as text (logfmt's ts=, a pattern's ts group by default): RFC 3339 / ISO
// 8601, or an epoch number in seconds, milliseconds, microseconds or nanoseconds (a fraction
// allowed). False when it is neither, or out of range (years 1-9999).
bool parse_ts_value(std::string_view text, core::Micros& out);

}  // namespace logpipe::ingest::line
