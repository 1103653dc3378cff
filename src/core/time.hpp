// Timestamps are microseconds since the Unix epoch, UTC, everywhere inside logpipe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace logpipe::core {

using Micros = std::int64_t;

inline constexpr Micros kSecond = 1'000'000;
inline constexpr Micros kMinute = 60 * kSecond;
inline constexpr Micros kHour = 60 * kMinute;
inline constexpr Micros kDay = 24 * kHour;

// The start of the `unit` (a minute, an hour, a day: UTC) that holds t; right for t < 0 too.
constexpr Micros floor_to(Micros t, Micros unit) {
  return t - ((t % unit) + unit) % unit;
}

// The end of the `unit` that holds t, or t itself when it starts one.
constexpr Micros ceil_to(Micros t, Micros unit) {
  return floor_to(t + unit - 1, unit);
}

Micros now_micros();

// Days since 1970-01-01 of a proleptic Gregorian date, and back (any year, month 1-12).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d);
// 28 … 31 (leap years counted); 0 for a month outside 1-12.
unsigned days_in_month(std::int64_t y, unsigned m);

// "2024-11-14T10:30:00.123456Z"
std::string format_rfc3339(Micros t);
void append_rfc3339(std::string& out, Micros t);
// The UTC date of t: "2024-11-14".
std::string format_date(Micros t);

// Accepts RFC 3339 / ISO 8601: date and time separated by 'T' or ' ', optional fraction (any
// number of digits, truncated to microseconds), and 'Z', '+hh:mm', '+hhmm' or no zone (= UTC).
Result<Micros> parse_rfc3339(std::string_view text);

// "15m" → 15 minutes: a count and one of s, m, h, d; at most ten years. nullopt otherwise.
std::optional<Micros> parse_duration(std::string_view text);

// Epoch number in seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude
// the way shippers send them (Vector, Fluent Bit, Loki).
Micros micros_from_epoch_number(double value);
// The same for integers, exactly (a double can't hold nanoseconds since 1970).
Micros micros_from_epoch_number(std::int64_t value);

}  // namespace logpipe::core
