#include "core/time.hpp"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>

namespace logpipe::core {

// Howard Hinnant's algorithms.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

namespace {

bool read_digits(std::string_view s, std::size_t& pos, std::size_t count, int& out) {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += count;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

Micros now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void append_rfc3339(std::string& out, Micros t) {
  std::int64_t days = t / 86'400'000'000LL;
  std::int64_t rem = t % 86'400'000'000LL;
  if (rem < 0) {
    rem += 86'400'000'000LL;
    --days;
  }
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  const std::int64_t secs = rem / 1'000'000;
  if (y < 0 || y > 9999) {  // outside RFC 3339's range: still exact, if not pretty
    fmt::format_to(std::back_inserter(out), "{:04}", y);
  } else {
    out.push_back(static_cast<char>('0' + y / 1000));
    out.push_back(static_cast<char>('0' + y / 100 % 10));
    out.push_back(static_cast<char>('0' + y / 10 % 10));
    out.push_back(static_cast<char>('0' + y % 10));
  }
  // The hot path of the worker's COPY rows: fixed-width digits, no formatting library.
  char tail[] = "-MM-DDTHH:MM:SS.uuuuuuZ";
  const auto two = [&tail](std::size_t at, std::int64_t v) {
    tail[at] = static_cast<char>('0' + v / 10);
    tail[at + 1] = static_cast<char>('0' + v % 10);
  };
  two(1, m);
  two(4, d);
  two(7, secs / 3600);
  two(10, secs / 60 % 60);
  two(13, secs % 60);
  std::int64_t micros = rem % 1'000'000;
  for (std::size_t i = 21; i >= 16; --i) {
    tail[i] = static_cast<char>('0' + micros % 10);
    micros /= 10;
  }
  out.append(tail, sizeof tail - 1);
}

std::string format_date(Micros t) {
  return format_rfc3339(t).substr(0, 10);
}

std::string format_rfc3339(Micros t) {
  std::string out;
  out.reserve(27);
  append_rfc3339(out, t);
  return out;
}

Result<Micros> parse_rfc3339(std::string_view s) {
  const auto bad = [&] { return make_error(Errc::invalid_field, "not an RFC 3339 timestamp"); };
  std::size_t pos = 0;
  // Zero-initialised although read_digits sets each before use: GCC's optimiser cannot see
  // through the short-circuits and warns (maybe-uninitialized) in Release builds.
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(s, pos, 4, year) || !expect(s, pos, '-') || !read_digits(s, pos, 2, month) ||
      !expect(s, pos, '-') || !read_digits(s, pos, 2, day))
    return bad();
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ')) return bad();
  ++pos;
  if (!read_digits(s, pos, 2, hour) || !expect(s, pos, ':') || !read_digits(s, pos, 2, minute) ||
      !expect(s, pos, ':') || !read_digits(s, pos, 2, second))
    return bad();
  if (month < 1 || month > 12 || day < 1 ||
      static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month)) || hour > 23 ||
      minute > 59 || second > 60)
    return bad();
  std::int64_t fraction = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) fraction = fraction * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad();
    for (int i = digits; i < 6; ++i)
      fraction *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (pos < s.size()) {
    const char z = s[pos];
    if (z == 'Z' || z == 'z') {
      ++pos;
    } else if (z == '+' || z == '-') {
      ++pos;
      int oh = 0, om = 0;
      if (!read_digits(s, pos, 2, oh)) return bad();
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !read_digits(s, pos, 2, om)) return bad();
      if (oh > 23 || om > 59) return bad();
      offset_seconds = (std::int64_t{oh} * 3600 + std::int64_t{om} * 60) * (z == '-' ? -1 : 1);
    } else {
      return bad();
    }
  }
  if (pos != s.size()) return bad();
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t secs = days * 86400 + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 +
                            std::min(second, 59) - offset_seconds;
  return secs * 1'000'000 + fraction;
}

Micros micros_from_epoch_number(double v) {
  const double a = std::fabs(v);
  if (a < 1e11) return static_cast<Micros>(std::llround(v * 1e6));  // seconds
  if (a < 1e14) return static_cast<Micros>(std::llround(v * 1e3));  // milliseconds
  if (a < 1e17) return static_cast<Micros>(std::llround(v));        // microseconds
  return static_cast<Micros>(std::llround(v / 1e3));                // nanoseconds
}

Micros micros_from_epoch_number(std::int64_t v) {
  const std::int64_t a = v < 0 ? -v : v;
  if (a < 100'000'000'000LL) return v * 1'000'000;  // seconds
  if (a < 100'000'000'000'000LL) return v * 1'000;  // milliseconds
  if (a < 100'000'000'000'000'000LL) return v;      // microseconds
  return v / 1'000;                                 // nanoseconds
}

std::optional<Micros> parse_duration(std::string_view text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (ec != std::errc() || end != text.data() + text.size() - 1 || n < 0) return std::nullopt;
  Micros unit = 0;
  switch (text.back()) {
    case 's':
      unit = kSecond;
      break;
    case 'm':
      unit = kMinute;
      break;
    case 'h':
      unit = kHour;
      break;
    case 'd':
      unit = kDay;
      break;
    default:
      return std::nullopt;
  }
  if (n > 3650 * kDay / unit) return std::nullopt;  // ten years is plenty
  return n * unit;
}

}  // namespace logpipe::core
