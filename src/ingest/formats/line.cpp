#include "ingest/formats/line.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/json_writer.hpp"

namespace logpipe::ingest::line {
namespace {

// 0001-01-01 and 9999-12-31T23:59:59.999999Z: what PostgreSQL and RFC 3339 both represent.
constexpr core::Micros kMinTs = -62'135'596'800'000'000LL;
constexpr core::Micros kMaxTs = 253'402'300'799'999'999LL;

bool digits(std::string_view s, std::size_t at, std::size_t n, unsigned& out) {
  if (at + n > s.size()) return false;
  unsigned v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  out = v;
  return true;
}

// ".123456789" or ",123" at `pos`: advances past it; the fraction in micros.
std::int64_t fraction(std::string_view s, std::size_t& pos) {
  if (pos + 1 >= s.size() || (s[pos] != '.' && s[pos] != ',') || !is_digit(s[pos + 1])) return 0;
  ++pos;
  std::int64_t micros = 0;
  int n = 0;
  for (; pos < s.size() && is_digit(s[pos]); ++pos, ++n) {
    if (n < 6) micros = micros * 10 + (s[pos] - '0');
  }
  for (; n < 6; ++n)
    micros *= 10;
  return micros;
}

// Z, +hh:mm, +hhmm or +hh at `pos`; advances past it. False for a malformed offset.
bool zone(std::string_view s, std::size_t& pos, std::int64_t& offset_seconds) {
  offset_seconds = 0;
  if (pos >= s.size()) return true;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
    return true;
  }
  if (s[pos] != '+' && s[pos] != '-') return true;
  const bool east = s[pos] == '+';
  unsigned h = 0, m = 0;
  std::size_t p = pos + 1;
  if (!digits(s, p, 2, h)) return false;
  p += 2;
  if (p < s.size() && s[p] == ':') {
    if (!digits(s, p + 1, 2, m)) return false;
    p += 3;
  } else if (digits(s, p, 2, m)) {
    p += 2;
  }
  if (h > 23 || m > 59) return false;
  offset_seconds = (std::int64_t{h} * 3600 + std::int64_t{m} * 60) * (east ? 1 : -1);
  pos = p;
  return true;
}

}  // namespace

std::string_view trim(std::string_view text) {
  std::size_t b = 0, e = text.size();
  while (b < e && is_space(text[b]))
    ++b;
  while (e > b && is_space(text[e - 1]))
    --e;
  return text.substr(b, e - b);
}

std::string_view trim_right(std::string_view text) {
  std::size_t e = text.size();
  while (e > 0 && (is_space(text[e - 1]) || text[e - 1] == '\r'))
    --e;
  return text.substr(0, e);
}

bool valid_text(std::string_view line, std::string& why) {
  if (simdjson::validate_utf8(line.data(), line.size())) return true;
  why = "is not valid UTF-8";
  return false;
}

std::string* name_field(model::Record& record, Field field) {
  switch (field) {
    case Field::device_id:
      return &record.device_id;
    case Field::service:
      return &record.service;
    case Field::app:
      return &record.app;
    case Field::host:
      return &record.host;
    default:
      return nullptr;
  }
}

Field classify(std::string_view key) {
  switch (key.size()) {
    case 1:
      if (key == "t") return Field::ts;
      break;
    case 2:
      if (key == "ts") return Field::ts;
      break;
    case 3:
      if (key == "msg") return Field::message;
      if (key == "lvl") return Field::level;
      if (key == "app") return Field::app;
      break;
    case 4:
      if (key == "time") return Field::ts;
      if (key == "host") return Field::host;
      break;
    case 5:
      if (key == "level") return Field::level;
      break;
    case 6:
      if (key == "source") return Field::service;
      break;
    case 7:
      if (key == "message") return Field::message;
      if (key == "service") return Field::service;
      break;
    case 8:
      if (key == "severity") return Field::level;
      if (key == "hostname") return Field::host;
      break;
    case 9:
      if (key == "log_level") return Field::level;
      if (key == "device_id") return Field::device_id;
      if (key == "timestamp") return Field::ts;
      if (key == "tenant_id") return Field::ignored;  // the tenant comes from the API key
      break;
    case 10:
      if (key == "@timestamp") return Field::ts;
      break;
    case 11:
      if (key == "application") return Field::app;
      break;
    default:
      break;
  }
  return Field::other;
}

void Attrs::key(std::string_view key) {
  out_.push_back(out_.empty() ? '{' : ',');
  core::append_json_string(out_, key);
  out_.push_back(':');
}

void Attrs::add(std::string_view k, std::string_view value) {
  key(k);
  core::append_json_string(out_, value);
}

void Attrs::add_number(std::string_view k, std::int64_t value) {
  key(k);
  fmt::format_to(std::back_inserter(out_), "{}", value);
}

void Attrs::add_true(std::string_view k) {
  key(k);
  out_ += "true";
}

std::string Attrs::take() {
  if (out_.empty()) return "{}";
  out_.push_back('}');
  return std::move(out_);
}

void set_message(model::Record& out, std::string_view text, const DecodeOptions& options,
                 Attrs& attrs) {
  if (text.size() <= options.max_message_bytes) {
    out.message.assign(text);
    return;
  }
  std::size_t cut = options.max_message_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;  // not inside a character
  out.message.assign(text.substr(0, cut));
  attrs.add_number("truncated_from", static_cast<std::int64_t>(text.size()));
}

bool set_name(std::string& field, std::string_view value, std::string_view key,
              const DecodeOptions& options, std::string& why) {
  if (value.size() > options.max_name_bytes) {
    why = fmt::format("{} is longer than {} bytes", key, options.max_name_bytes);
    return false;
  }
  field.assign(value);
  return true;
}

std::optional<model::Level> level_word(std::string_view word) {
  if (word.size() < 3 || word.size() > 8) return std::nullopt;
  std::array<char, 8> up{};
  for (std::size_t i = 0; i < word.size(); ++i) {
    const char c = word[i];
    up[i] = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  }
  const std::string_view w(up.data(), word.size());
  using model::Level;
  switch (w[0]) {
    case 'T':
      if (w == "TRACE") return Level::trace;
      break;
    case 'D':
      if (w == "DEBUG" || w == "DBG") return Level::debug;
      break;
    case 'I':
      if (w == "INFO") return Level::info;
      break;
    case 'N':
      if (w == "NOTICE") return Level::notice;
      break;
    case 'W':
      if (w == "WARN" || w == "WARNING") return Level::warning;
      break;
    case 'E':
      if (w == "ERROR" || w == "ERR") return Level::error;
      if (w == "EMERG") return Level::fatal;
      break;
    case 'C':
      if (w == "CRIT" || w == "CRITICAL") return Level::critical;
      break;
    case 'A':
      if (w == "ALERT") return Level::critical;
      break;
    case 'F':
      if (w == "FATAL") return Level::fatal;
      break;
    case 'P':
      if (w == "PANIC") return Level::fatal;
      break;
    case 'S':
      if (w == "SEVERE") return Level::error;
      break;
    default:
      break;
  }
  return std::nullopt;
}

unsigned month_from_abbr(std::string_view abbr) {
  if (abbr.size() != 3) return 0;
  static constexpr std::string_view kMonths = "janfebmaraprmayjunjulaugsepoctnovdec";
  char lower[3];
  for (std::size_t i = 0; i < 3; ++i)
    lower[i] = static_cast<char>(abbr[i] | 0x20);  // ASCII letters only: others never match
  for (unsigned m = 0; m < 12; ++m) {
    if (std::memcmp(kMonths.data() + std::size_t{m} * 3, lower, 3) == 0) return m + 1;
  }
  return 0;
}

bool civil_to_micros(std::int64_t year, unsigned month, unsigned day, unsigned hour,
                     unsigned minute, unsigned second, std::int64_t micros,
                     std::int64_t offset_seconds, core::Micros& out) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > core::days_in_month(year, month) || hour > 23 || minute > 59 || second > 60)
    return false;
  const std::int64_t secs = core::days_from_civil(year, month, day) * 86400 +
                            std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 +
                            std::min(second, 59u) - offset_seconds;
  const core::Micros t = secs * 1'000'000 + micros;
  if (t < kMinTs || t > kMaxTs) return false;
  out = t;
  return true;
}

std::size_t scan_timestamp(std::string_view s, core::Micros& out) {
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (s.size() < 19 || !digits(s, 0, 4, y) || (s[4] != '-' && s[4] != '/') || s[7] != s[4] ||
      !digits(s, 5, 2, mo) || !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != ' ') ||
      !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
      !digits(s, 17, 2, se))
    return 0;
  std::size_t pos = 19;
  const std::int64_t micros = fraction(s, pos);
  std::int64_t offset = 0;
  if (!zone(s, pos, offset)) return 0;
  if (!civil_to_micros(y, mo, d, h, mi, se, micros, offset, out)) return 0;
  return pos;
}

bool parse_clf_time(std::string_view s, core::Micros& out) {
  // 10/Oct/2000:13:55:36 -0700
  unsigned d = 0, y = 0, h = 0, mi = 0, se = 0;
  if (s.size() < 26 || !digits(s, 0, 2, d) || s[2] != '/' || s[6] != '/' || !digits(s, 7, 4, y) ||
      s[11] != ':' || !digits(s, 12, 2, h) || s[14] != ':' || !digits(s, 15, 2, mi) ||
      s[17] != ':' || !digits(s, 18, 2, se))
    return false;
  const unsigned mo = month_from_abbr(s.substr(3, 3));
  if (mo == 0) return false;
  std::size_t pos = 20;
  const std::int64_t micros = fraction(s, pos);
  if (pos >= s.size() || s[pos] != ' ') return false;
  ++pos;
  std::int64_t offset = 0;
  if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-') || !zone(s, pos, offset) ||
      pos != s.size())
    return false;
  return civil_to_micros(y, mo, d, h, mi, se, micros, offset, out);
}

bool parse_ts_value(std::string_view text, core::Micros& out) {
  if (text.empty()) return false;
  core::Micros t = 0;
  if (text.size() >= 19 && scan_timestamp(text, t) == text.size()) {
    out = t;
    return true;
  }
  // An epoch number: digits, an optional sign and fraction.
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (text.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(first, last, n);
    if (ec != std::errc() || p != last || n == std::numeric_limits<std::int64_t>::min())
      return false;
    t = core::micros_from_epoch_number(n);
  } else {
    double n = 0;
    auto [p, ec] = std::from_chars(first, last, n);
    if (ec != std::errc() || p != last || !(std::abs(n) < 1e20)) return false;
    t = core::micros_from_epoch_number(n);
  }
  if (t < kMinTs || t > kMaxTs) return false;
  out = t;
  return true;
}

}  // namespace logpipe::ingest::line
