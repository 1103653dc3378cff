// logfmt, by a hand-written scanner:
//
//   ts=2024-02-29T13:55:36.123Z level=warn msg="disk \"/data\" 91% full" component=tsdb retry
//
// A key is any run of bytes other than space, '=' and '"'; its value is a quoted string (Go's
// escapes: \" \\ \n \t \r \uXXXX …), or the bytes up to the next space (which may hold '=' or
// '"': URLs often do), or nothing (`key=`: ""), and a key alone is a flag ("true").
// ts|time|timestamp|t|@timestamp → ts (RFC 3339, or an epoch number in s, ms, µs or ns);
// level|lvl|severity|log_level → level; msg|message → message (none: the whole line);
// device_id, service|source, app|application, host|hostname → those fields; every other key →
// attrs, its value always a string: logfmt has no types, and a key whose JSON type changed from
// line to line ("5" then "5ms") would make attrs queries behave differently per row.
#include "ingest/formats/logfmt.hpp"

#include <fmt/format.h>

#include "core/json_writer.hpp"
#include "ingest/formats/line.hpp"

namespace logpipe::ingest {
namespace {

inline bool blank(char c) {
  return c == ' ' || c == '\t';
}

struct Pair {
  std::string_view key;
  std::string_view value;  // raw: between the quotes when quoted, escapes not undone
  bool has_value = false;  // key=…; false for a flag
  bool quoted = false;
  bool escaped = false;  // the quoted value has a backslash
};

enum class Next { pair, end, error };

// The pair at `pos` (spaces before it skipped); `why` says what is wrong on error.
Next next_pair(std::string_view s, std::size_t& pos, Pair& pair, std::string& why) {
  while (pos < s.size() && blank(s[pos]))
    ++pos;
  if (pos >= s.size()) return Next::end;
  const std::size_t start = pos;
  while (pos < s.size() && !blank(s[pos]) && s[pos] != '=' && s[pos] != '"')
    ++pos;
  if (pos == start) {
    why = fmt::format("a key is missing at column {}", start + 1);
    return Next::error;
  }
  pair = Pair{};
  pair.key = s.substr(start, pos - start);
  if (pos >= s.size() || blank(s[pos])) return Next::pair;
  if (s[pos] == '"') {
    why = fmt::format("unexpected '\"' in key at column {}", pos + 1);
    return Next::error;
  }
  ++pos;  // '='
  pair.has_value = true;
  if (pos < s.size() && s[pos] == '"') {
    pair.quoted = true;
    const std::size_t begin = ++pos;
    while (true) {
      pos = s.find_first_of("\"\\", pos);
      if (pos == std::string_view::npos) {
        why = fmt::format("the quoted value of {} is not closed", pair.key);
        return Next::error;
      }
      if (s[pos] == '"') break;
      pair.escaped = true;
      pos += 2;
      if (pos > s.size()) {
        why = fmt::format("the quoted value of {} is not closed", pair.key);
        return Next::error;
      }
    }
    pair.value = s.substr(begin, pos - begin);
    ++pos;
    return Next::pair;
  }
  const std::size_t begin = pos;
  while (pos < s.size() && !blank(s[pos]))
    ++pos;
  pair.value = s.substr(begin, pos - begin);
  return Next::pair;
}

unsigned hex4(std::string_view s, std::size_t at, bool& ok) {
  unsigned v = 0;
  ok = at + 4 <= s.size();
  for (std::size_t i = at; ok && i < at + 4; ++i) {
    const char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= static_cast<unsigned>(c - '0');
    else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
      v |= static_cast<unsigned>((c | 0x20) - 'a' + 10);
    else
      ok = false;
  }
  return v;
}

// Go's escapes undone; an unknown escape is kept as written. A lone surrogate becomes U+FFFD.
void unquote(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 >= raw.size()) {
      out.push_back(raw[i]);
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case '"':
      case '\\':
      case '/':
        out.push_back(e);
        break;
      case 'u': {
        bool ok = false;
        unsigned cp = hex4(raw, i + 1, ok);
        if (!ok) {
          out += "\\u";
          break;
        }
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < raw.size() && raw[i + 1] == '\\' &&
            raw[i + 2] == 'u') {
          bool ok2 = false;
          const unsigned low = hex4(raw, i + 3, ok2);
          if (ok2 && low >= 0xDC00 && low < 0xE000) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
          }
        }
        core::append_utf8(out, cp >= 0xD800 && cp < 0xE000 ? 0xFFFD : cp);
        break;
      }
      default:
        out.push_back('\\');
        out.push_back(e);
    }
  }
}

std::optional<model::Level> level_of(std::string_view text) {
  if (auto l = model::parse_level(text)) return l;
  if (auto l = line::level_word(text)) return l;
  // log15's four-letter names
  if (text == "dbug") return model::Level::debug;
  if (text == "eror") return model::Level::error;
  return std::nullopt;
}

bool parse_logfmt(std::string_view text, const DecodeOptions& options, model::Record& out,
                  std::string& why) {
  if (!line::valid_text(text, why)) return false;
  const std::string_view s = line::trim_right(text);
  out.ts = options.received_at;
  line::Attrs attrs;
  std::string value_storage;
  bool message_set = false;
  Pair pair;
  std::size_t pos = 0;
  while (true) {
    const Next next = next_pair(s, pos, pair, why);
    if (next == Next::error) return false;
    if (next == Next::end) break;
    std::string_view value = pair.value;
    if (pair.escaped) {
      unquote(value, value_storage);
      value = value_storage;
    }
    const line::Field field = line::classify(pair.key);
    switch (field) {
      case line::Field::message:
        if (!value.empty()) {
          line::set_message(out, value, options, attrs);
          message_set = true;
        }
        break;
      case line::Field::level: {
        if (!pair.has_value || value.empty()) break;
        const auto level = level_of(value);
        if (!level) {
          why = fmt::format(
              "{} \"{}\" is not a level (TRACE, DEBUG, INFO, NOTICE, WARNING, ERROR, "
              "CRITICAL, FATAL)",
              pair.key, value.substr(0, 32));
          return false;
        }
        out.level = *level;
        break;
      }
      case line::Field::ts:
        if (!pair.has_value || value.empty()) break;
        if (!line::parse_ts_value(value, out.ts)) {
          why = fmt::format("{} \"{}\" is not an RFC 3339 timestamp or an epoch number", pair.key,
                            value.substr(0, 40));
          return false;
        }
        break;
      case line::Field::device_id:
      case line::Field::service:
      case line::Field::app:
      case line::Field::host:
        if (!line::set_name(*line::name_field(out, field), value, pair.key, options, why))
          return false;
        break;
      case line::Field::ignored:
        break;
      case line::Field::other:
        if (pair.has_value)
          attrs.add(pair.key, value);
        else
          attrs.add(pair.key, "true");
        break;
    }
  }
  if (!message_set) line::set_message(out, s, options, attrs);
  if (out.message.empty()) {
    why = "empty line";
    return false;
  }
  out.attrs_json = attrs.take();
  return true;
}

// A line of logfmt starts with key=value and has at least two pairs among its first tokens, and
// more pairs than bare words: prose with a "retries=3" in it stays plain text.
int sniff_logfmt(std::string_view s) {
  std::size_t pos = 0;
  int pairs = 0, words = 0;
  Pair pair;
  std::string why;
  for (int token = 0; token < 8; ++token) {
    const Next next = next_pair(s, pos, pair, why);
    if (next == Next::error) return 0;
    if (next == Next::end) break;
    if (!pair.has_value) {
      if (token == 0) return 0;
      ++words;
    } else {
      ++pairs;
    }
  }
  return pairs >= 2 && words < pairs ? 60 : 0;
}

}  // namespace

Format logfmt_format() {
  Format f;
  f.name = "logfmt";
  f.sniff_line = sniff_logfmt;
  f.parse_line = parse_logfmt;
  f.decode = [](std::string_view body, const DecodeOptions& options) {
    return decode_lines(body, options, parse_logfmt);
  };
  return f;
}

}  // namespace logpipe::ingest
