#include "ingest/formats/syslog.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <vector>

#include "core/json_writer.hpp"
#include "core/time.hpp"

namespace logpipe::ingest {
namespace syslog {
namespace {

// 0001-01-01 and 9999-12-31T23:59:59.999999Z: what PostgreSQL and RFC 3339 both represent.
constexpr core::Micros kMinTs = -62'135'596'800'000'000LL;
constexpr core::Micros kMaxTs = 253'402'300'799'999'999LL;
constexpr std::string_view kBom = "\xEF\xBB\xBF";
// Repeated PARAM-NAMEs of one SD element become arrays; finding them is quadratic, so an element
// with more params than this (never seen outside an attack) keeps them as they come.
constexpr std::size_t kMaxGroupedParams = 64;

// rsyslog's names (RFC 5424 §6.2.1 gives only descriptions).
constexpr std::array<std::string_view, 24> kFacilities = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}

// A cursor over one message. Reads past the end see '\0' and never match a wanted character.
struct Scanner {
  std::string_view s;
  std::size_t i = 0;

  bool done() const { return i >= s.size(); }
  char peek(std::size_t k = 0) const { return i + k < s.size() ? s[i + k] : '\0'; }
  bool at(char c, std::size_t k = 0) const { return i + k < s.size() && s[i + k] == c; }
  bool eat(char c) {
    if (!at(c)) return false;
    ++i;
    return true;
  }
  void skip_spaces() {
    while (at(' '))
      ++i;
  }
  // Up to the next SP (or the end).
  std::string_view token() {
    const auto sp = s.find(' ', i);
    const std::size_t end = sp == std::string_view::npos ? s.size() : sp;
    const std::string_view t = s.substr(i, end - i);
    i = end;
    return t;
  }
  std::string_view rest() const { return i < s.size() ? s.substr(i) : std::string_view(); }
  // Exactly n digits.
  bool digits(std::size_t n, int& out) {
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = peek(k);
      if (!is_digit(c)) return false;
      v = v * 10 + (c - '0');
    }
    i += n;
    out = v;
    return true;
  }
};

unsigned days_in_month(std::int64_t year, unsigned month) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

struct Clock {
  int hour = 0, minute = 0, second = 0;
  core::Micros micros = 0;
  bool fraction = false;  // a fraction was given (even .000)
};

bool valid_date(std::int64_t year, int month, int day) {
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 &&
         static_cast<unsigned>(day) <= days_in_month(year, static_cast<unsigned>(month));
}

core::Micros to_micros(std::int64_t year, int month, int day, const Clock& c) {
  const std::int64_t days =
      core::days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 24 + c.hour) * 60 + c.minute) * 60 * core::kSecond + c.second * core::kSecond +
         c.micros;
}

// hh:mm:ss[.fraction]: any number of fraction digits, truncated to microseconds. A leap second
// (:60) is read as :59.
bool read_clock(Scanner& sc, Clock& c) {
  if (!sc.digits(2, c.hour) || !sc.eat(':') || !sc.digits(2, c.minute) || !sc.eat(':') ||
      !sc.digits(2, c.second))
    return false;
  if (c.hour > 23 || c.minute > 59 || c.second > 60) return false;
  if (c.second == 60) c.second = 59;
  c.micros = 0;
  if (sc.at('.') && is_digit(sc.peek(1))) {
    ++sc.i;
    c.fraction = true;
    core::Micros scale = 100'000;
    while (is_digit(sc.peek())) {
      c.micros += (sc.peek() - '0') * scale;
      scale /= 10;
      ++sc.i;
    }
  }
  return true;
}

// RFC 3339 as RFC 5424 uses it: YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm). Without `require_zone`
// (an ISO timestamp in a BSD header) a missing zone is UTC.
bool read_iso(Scanner& sc, bool require_zone, core::Micros& out) {
  int year = 0, month = 0, day = 0;
  Clock c;
  if (!sc.digits(4, year) || !sc.eat('-') || !sc.digits(2, month) || !sc.eat('-') ||
      !sc.digits(2, day) || !(sc.eat('T') || sc.eat('t')) || !read_clock(sc, c))
    return false;
  if (!valid_date(year, month, day)) return false;
  core::Micros offset = 0;
  if (sc.eat('Z') || sc.eat('z')) {
  } else if (sc.at('+') || sc.at('-')) {
    const bool minus = sc.peek() == '-';
    ++sc.i;
    int oh = 0, om = 0;
    if (!sc.digits(2, oh)) return false;
    sc.eat(':');  // RFC 5424 wants it; ±hhmm seen too
    if (!sc.digits(2, om) || oh > 23 || om > 59) return false;
    offset = (oh * 60 + om) * core::kMinute * (minus ? -1 : 1);
  } else if (require_zone) {
    return false;
  }
  const core::Micros ts = to_micros(year, month, day, c) - offset;
  if (ts < kMinTs || ts > kMaxTs) return false;
  out = ts;
  return true;
}

// "Mmm dd hh:mm:ss" (day space- or zero-padded, or one digit), optionally with the year before
// the time ("Mmm dd yyyy hh:mm:ss", network gear) and a fraction (Cisco's msec). Without a
// year: the year that puts the time closest to `received_at`.
bool read_bsd(Scanner& sc, core::Micros received_at, core::Micros& out, bool& fraction) {
  int month = 0;
  for (std::size_t m = 0; m < kMonths.size(); ++m) {
    const auto name = kMonths[m];
    if (lower(sc.peek()) == name[0] && lower(sc.peek(1)) == name[1] &&
        lower(sc.peek(2)) == name[2]) {
      month = static_cast<int>(m) + 1;
      break;
    }
  }
  if (month == 0 || !sc.at(' ', 3)) return false;
  sc.i += 4;
  sc.eat(' ');  // "Oct  1"
  int day = 0;
  if (is_digit(sc.peek()) && is_digit(sc.peek(1))) {
    sc.digits(2, day);
  } else if (!sc.digits(1, day)) {
    return false;
  }
  if (!sc.eat(' ')) return false;
  int year = 0;
  if (is_digit(sc.peek()) && is_digit(sc.peek(1)) && is_digit(sc.peek(2)) && is_digit(sc.peek(3)) &&
      sc.at(' ', 4)) {
    sc.digits(4, year);
    ++sc.i;
  }
  Clock c;
  if (!read_clock(sc, c)) return false;
  fraction = c.fraction;
  if (year != 0) {
    if (!valid_date(year, month, day)) return false;
    out = to_micros(year, month, day, c);
    return true;
  }
  std::int64_t received_year = 0;
  unsigned rm = 0, rd = 0;
  core::civil_from_days(core::floor_to(received_at, core::kDay) / core::kDay, received_year, rm,
                        rd);
  bool found = false;
  core::Micros best = 0;
  for (std::int64_t y = received_year - 1; y <= received_year + 1; ++y) {
    if (!valid_date(y, month, day)) continue;  // Feb 29 outside leap years
    const core::Micros t = to_micros(y, month, day, c);
    const auto distance = [&](core::Micros v) {
      return v > received_at ? v - received_at : received_at - v;
    };
    if (!found || distance(t) < distance(best)) best = t;
    found = true;
  }
  if (!found) return false;
  out = best;
  return true;
}

// <PRI>: 1-3 digits, 0 … 191. False when the message does not start with '<'; `bad` when it
// does but the PRI is invalid.
bool read_pri(Scanner& sc, int& pri, bool& bad) {
  bad = false;
  if (!sc.at('<')) return false;
  std::size_t k = 1;
  int v = 0;
  while (k <= 3 && is_digit(sc.peek(k))) {
    v = v * 10 + (sc.peek(k) - '0');
    ++k;
  }
  if (k == 1 || !sc.at('>', k) || v > 191) {
    bad = true;
    return false;
  }
  sc.i += k + 1;
  pri = v;
  return true;
}

// The parts of a message before they become a record.
struct Parts {
  int pri = -1;  // -1: none
  core::Micros ts = 0;
  std::string_view host, app, procid, msgid, message;
  std::string_view seq, mnemonic;  // Cisco
  std::string_view sd;             // the raw STRUCTURED-DATA, "" when nil or malformed
};

// `name[pid]:`, `name:` or `name[pid]` (a tag), split into name and pid.
bool split_tag(std::string_view token, std::string_view& name, std::string_view& pid) {
  if (token.empty()) return false;
  bool colon = false;
  if (token.back() == ':') {
    token.remove_suffix(1);
    colon = true;
  }
  pid = {};
  const auto open = token.find('[');
  if (open != std::string_view::npos) {
    if (token.back() != ']' || open == 0) return false;
    pid = token.substr(open + 1, token.size() - open - 2);
    token = token.substr(0, open);
  } else if (!colon) {
    return false;
  }
  if (token.empty()) return false;
  name = token;
  return true;
}

// After a BSD header's timestamp: [host] [tag[pid]:] message.
void read_host_tag_message(Scanner& sc, Parts& p) {
  sc.skip_spaces();
  const std::size_t first = sc.i;
  std::string_view name, pid;
  const std::string_view token1 = sc.token();
  if (split_tag(token1, name, pid)) {  // no hostname: a local socket's form
    p.app = name;
    p.procid = pid;
    sc.eat(' ');
    p.message = sc.rest();
    return;
  }
  if (sc.done()) {  // a lone word: the message, not a host
    sc.i = first;
    p.message = sc.rest();
    return;
  }
  p.host = token1;
  sc.eat(' ');
  const std::size_t second = sc.i;
  if (split_tag(sc.token(), name, pid)) {
    p.app = name;
    p.procid = pid;
    sc.eat(' ');
  } else {
    sc.i = second;
  }
  p.message = sc.rest();
}

// "%FAC-SEV-MNEMONIC: " at the start of a Cisco message.
std::string_view cisco_mnemonic(std::string_view message) {
  if (message.size() < 6 || message[0] != '%') return {};
  const auto colon = message.find(':');
  if (colon == std::string_view::npos || colon > 64) return {};
  const std::string_view m = message.substr(1, colon - 1);
  int dashes = 0;
  for (char c : m) {
    if (c == '-') {
      ++dashes;
    } else if (!(is_upper(c) || is_digit(c) || c == '_')) {
      return {};
    }
  }
  return dashes >= 2 ? m : std::string_view();
}

// RFC 3164 and what passes for it, after the PRI (or from the start without one).
bool read_bsd_message(Scanner& sc, core::Micros received_at, bool has_pri, Parts& p,
                      std::string& why) {
  // Cisco IOS: "<189>52: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: …"; * or . marks a clock
  // that is not synchronised.
  bool cisco = false;
  if (has_pri && is_digit(sc.peek())) {
    std::size_t k = 0;
    while (is_digit(sc.peek(k)))
      ++k;
    if (sc.at(':', k) && sc.at(' ', k + 1)) {
      p.seq = sc.s.substr(sc.i, k);
      sc.i += k + 2;
      cisco = true;
    }
  }
  if (has_pri && (sc.at('*') || sc.at('.'))) {
    ++sc.i;
    cisco = true;
  }
  const std::size_t start = sc.i;
  bool fraction = false;
  bool timed = read_bsd(sc, received_at, p.ts, fraction);
  if (!timed) {
    sc.i = start;
    timed = read_iso(sc, false, p.ts);
  }
  if (!timed) {
    sc.i = start;
    if (!has_pri) {
      why = "not syslog: no <PRI> and no timestamp at the start";
      return false;
    }
    // "<PRI>tag: message" or just "<PRI>message" (MikroTik without BSD headers, embedded
    // devices): the receive time.
    p.ts = received_at;
    std::string_view name, pid;
    if (split_tag(sc.token(), name, pid)) {
      p.app = name;
      p.procid = pid;
      sc.eat(' ');
    } else {
      sc.i = start;
    }
    p.message = sc.rest();
    return true;
  }
  // Cisco's "hh:mm:ss.mmm UTC: " (show-timezone) and ": " right after the time: no host, no tag.
  if ((cisco || fraction) && sc.at(' ') && is_upper(sc.peek(1))) {
    std::size_t k = 1;
    while (k <= 6 && is_upper(sc.peek(k)))
      ++k;
    if (sc.at(':', k)) sc.i += k;
  }
  if (sc.at(':') && (sc.at(' ', 1) || sc.i + 1 == sc.s.size())) {
    sc.i = std::min(sc.i + 2, sc.s.size());
    p.message = sc.rest();
  } else {
    read_host_tag_message(sc, p);
  }
  p.mnemonic = cisco_mnemonic(p.message);
  return true;
}

// SD-NAME: 1*32 PRINTUSASCII except '=', SP, ']', '"' (longer names tolerated).
std::string_view read_sd_name(Scanner& sc) {
  const std::size_t start = sc.i;
  while (!sc.done()) {
    const char c = sc.peek();
    if (c <= ' ' || c > '~' || c == '=' || c == ']' || c == '"') break;
    ++sc.i;
  }
  return sc.s.substr(start, sc.i - start);
}

struct Param {
  std::string_view name;
  std::string_view raw;  // the value between its quotes, escapes still in
};

// PARAM-VALUE with \" \\ \] undone; any other backslash stays (RFC 5424 §6.3.3).
void append_param_value(std::string& out, std::string_view raw) {
  std::string value;
  value.reserve(raw.size());
  for (std::size_t k = 0; k < raw.size(); ++k) {
    if (raw[k] == '\\' && k + 1 < raw.size() &&
        (raw[k + 1] == '"' || raw[k + 1] == '\\' || raw[k + 1] == ']')) {
      ++k;
    }
    value.push_back(raw[k]);
  }
  core::append_json_string(out, value);
}

// The params of one element as JSON members; a repeated name gives an array of its values.
void append_params(std::string& out, const std::vector<Param>& params) {
  out.push_back('{');
  for (std::size_t a = 0; a < params.size(); ++a) {
    const bool grouped = params.size() <= kMaxGroupedParams;
    bool earlier = false;
    std::size_t same = 1;
    if (grouped) {
      for (std::size_t b = 0; b < a && !earlier; ++b)
        earlier = params[b].name == params[a].name;
      if (earlier) continue;
      for (std::size_t b = a + 1; b < params.size(); ++b)
        same += params[b].name == params[a].name ? 1 : 0;
    }
    if (out.back() != '{') out.push_back(',');
    core::append_json_string(out, params[a].name);
    out.push_back(':');
    if (same == 1) {
      append_param_value(out, params[a].raw);
      continue;
    }
    out.push_back('[');
    for (std::size_t b = a; b < params.size(); ++b) {
      if (params[b].name != params[a].name) continue;
      if (out.back() != '[') out.push_back(',');
      append_param_value(out, params[b].raw);
    }
    out.push_back(']');
  }
  out.push_back('}');
}

// STRUCTURED-DATA = 1*SD-ELEMENT, each "[" SD-ID *(SP PARAM-NAME "=" DQUOTE value DQUOTE) "]",
// as JSON members of attrs.sd appended to `sd_json` ("" when malformed, so that the caller
// makes the rest the message).
bool read_structured_data(Scanner& sc, std::string& sd_json) {
  thread_local std::vector<Param> params;
  // clear + push_back: GCC 12 -O3 reports a false -Wrestrict on assigning a literal here.
  sd_json.clear();
  sd_json.push_back('{');
  while (sc.at('[')) {
    ++sc.i;
    const std::string_view id = read_sd_name(sc);
    if (id.empty()) return false;
    params.clear();
    while (sc.eat(' ')) {
      const std::string_view name = read_sd_name(sc);
      if (name.empty() || !sc.eat('=') || !sc.eat('"')) return false;
      const std::size_t start = sc.i;
      while (!sc.done() && sc.peek() != '"') {
        sc.i += sc.peek() == '\\' && sc.i + 1 < sc.s.size() ? 2 : 1;
      }
      if (!sc.at('"')) return false;
      params.push_back({name, sc.s.substr(start, sc.i - start)});
      ++sc.i;
    }
    if (!sc.eat(']')) return false;
    if (sd_json.size() > 1) sd_json.push_back(',');
    core::append_json_string(sd_json, id);
    sd_json.push_back(':');
    append_params(sd_json, params);
  }
  sd_json.push_back('}');
  return true;
}

// RFC 5424 after "<PRI>VERSION SP".
bool read_5424(Scanner& sc, Parts& p, std::string& sd_json, core::Micros received_at,
               std::string& why) {
  if (sc.eat('-')) {
    p.ts = received_at;
  } else if (!read_iso(sc, true, p.ts)) {
    why = "RFC 5424: invalid TIMESTAMP";
    return false;
  }
  const char* names[] = {"HOSTNAME", "APP-NAME", "PROCID", "MSGID"};
  std::string_view* fields[] = {&p.host, &p.app, &p.procid, &p.msgid};
  for (std::size_t f = 0; f < 4; ++f) {
    if (!sc.eat(' ')) {
      why = fmt::format("RFC 5424: the header ends before {}", names[f]);
      return false;
    }
    const std::string_view value = sc.token();
    if (value.empty()) {
      why = fmt::format("RFC 5424: empty {}", names[f]);
      return false;
    }
    *fields[f] = value == "-" ? std::string_view() : value;
  }
  if (!sc.eat(' ')) {
    why = "RFC 5424: the header ends before STRUCTURED-DATA";
    return false;
  }
  const std::size_t sd_start = sc.i;
  if (sc.eat('-') && (sc.done() || sc.at(' '))) {
    sd_json.clear();
  } else {
    sc.i = sd_start;
    if (!read_structured_data(sc, sd_json) || !(sc.done() || sc.at(' ')) || sd_json.size() <= 2) {
      // Not structured data after all (a sender that leaves out the "-"): the message.
      sd_json.clear();
      sc.i = sd_start;
      p.message = sc.rest();
      return true;
    }
    p.sd = sc.s.substr(sd_start, sc.i - sd_start);
  }
  sc.eat(' ');
  p.message = sc.rest();
  return true;
}

bool too_long(std::string_view value, const char* field, const DecodeOptions& options,
              std::string& why) {
  if (value.size() <= options.max_name_bytes) return false;
  why = fmt::format("{} longer than {} bytes", field, options.max_name_bytes);
  return true;
}

void add_attr(std::string& attrs, std::string_view key, std::string_view value) {
  if (attrs.size() > 1) attrs.push_back(',');
  attrs.push_back('"');
  attrs.append(key);
  attrs += "\":";
  core::append_json_string(attrs, value);
}

}  // namespace

bool parse(std::string_view message, const DecodeOptions& options, model::Record& out,
           std::string& why) {
  while (!message.empty() &&
         (message.back() == '\n' || message.back() == '\r' || message.back() == '\0'))
    message.remove_suffix(1);
  if (message.starts_with(kBom)) message.remove_prefix(kBom.size());
  // Syslog promises no encoding; PostgreSQL wants UTF-8. The check is SIMD-fast; the repair runs
  // only for the rare message that needs it.
  thread_local std::string repaired;
  if (!simdjson::validate_utf8(message.data(), message.size())) {
    repaired.clear();
    core::append_valid_utf8(repaired, message);
    message = repaired;
  }

  Scanner sc{message};
  Parts p;
  int pri = 0;
  bool bad_pri = false;
  const bool has_pri = read_pri(sc, pri, bad_pri);
  if (bad_pri) {
    why = "invalid <PRI> (a number 0-191 expected)";
    return false;
  }
  thread_local std::string sd_json;
  sd_json.clear();
  bool parsed = false;
  if (has_pri) {
    p.pri = pri;
    // VERSION: 1-2 digits, then SP.
    const std::size_t after_pri = sc.i;
    std::size_t k = 0;
    while (k < 2 && is_digit(sc.peek(k)))
      ++k;
    if (k > 0 && sc.at(' ', k) && sc.peek() != '0') {
      const bool version_1 = k == 1 && sc.peek() == '1';
      sc.i += k + 1;
      if (read_5424(sc, p, sd_json, options.received_at, why)) {
        parsed = true;
      } else if (version_1) {
        return false;
      } else {
        p = Parts{};
        p.pri = pri;
        sd_json.clear();
        sc.i = after_pri;
      }
    }
  }
  if (!parsed && !read_bsd_message(sc, options.received_at, has_pri, p, why)) return false;

  if (p.message.starts_with(kBom)) p.message.remove_prefix(kBom.size());
  if (p.message.empty()) p.message = p.sd;  // structured data only: searchable as text
  if (p.message.empty()) {
    why = "empty message";
    return false;
  }
  if (p.message.size() > options.max_message_bytes) {
    why = fmt::format("message longer than {} bytes", options.max_message_bytes);
    return false;
  }
  if (too_long(p.host, "HOSTNAME", options, why) || too_long(p.app, "APP-NAME", options, why))
    return false;

  out.ts = p.ts;
  out.level = p.pri < 0 ? model::Level::info : *model::level_from_syslog_severity(p.pri & 7);
  out.message.assign(p.message);
  out.device_id.clear();
  out.app.clear();
  out.host.assign(p.host);
  out.service.assign(p.app);
  std::string& attrs = out.attrs_json;
  attrs.clear();
  attrs.push_back('{');  // not assign("{"): GCC 12 -O3's false -Wrestrict
  if (p.pri >= 0) add_attr(attrs, "facility", kFacilities[static_cast<std::size_t>(p.pri >> 3)]);
  if (!p.procid.empty()) add_attr(attrs, "procid", p.procid);
  if (!p.msgid.empty()) add_attr(attrs, "msgid", p.msgid);
  if (!p.seq.empty()) add_attr(attrs, "seq", p.seq);
  if (!p.mnemonic.empty()) add_attr(attrs, "mnemonic", p.mnemonic);
  if (!sd_json.empty()) {
    attrs += attrs.size() == 1 ? "\"sd\":" : ",\"sd\":";
    attrs += sd_json;
  }
  attrs.push_back('}');
  return true;
}

int sniff_line(std::string_view line) {
  Scanner sc{line};
  int pri = 0;
  bool bad = false;
  if (read_pri(sc, pri, bad)) return sc.at('1') && sc.at(' ', 1) ? 90 : 85;
  if (bad) return 0;
  Parts p;
  bool fraction = false;
  if (read_bsd(sc, 0, p.ts, fraction)) {
    if (!sc.eat(' ')) return 0;
    return sc.token().empty() ? 0 : 60;
  }
  sc.i = 0;
  if (!read_iso(sc, false, p.ts) || !sc.eat(' ') || sc.token().empty() || !sc.eat(' ')) return 0;
  std::string_view name, pid;
  return split_tag(sc.token(), name, pid) ? 40 : 0;
}

}  // namespace syslog

Format syslog_format() {
  Format f;
  f.name = "syslog";
  f.sniff = [](std::string_view head) {
    return syslog::sniff_line(head.substr(0, head.find('\n')));
  };
  f.decode = [](std::string_view body, const DecodeOptions& options) {
    return decode_lines(body, options, syslog::parse);
  };
  f.sniff_line = syslog::sniff_line;
  f.parse_line = syslog::parse;
  return f;
}

}  // namespace logpipe::ingest
