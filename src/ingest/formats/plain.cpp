// A line of text whose shape is unknown. The message is the line exactly as written (trailing
// spaces trimmed): nothing is cut out of it, so a search finds what grep on the file would. Two
// things are read from its start:
//   - a timestamp, when the line starts with one (optionally in brackets): 2024-02-29T13:55:36Z,
//     2024-02-29 13:55:36,123 (log4j, Python), 2024/02/29 13:55:36 (nginx's error log), with an
//     optional fraction and offset (none: UTC) → ts; otherwise ts is the receive time;
//   - a level word among the first five words: ERROR, warn, [error], <crit>, INFO:, … (any case,
//     brackets and a trailing colon ignored), or glog's "E1126 …" prefix (I, W, E, F) → level;
//     otherwise INFO.
// Never rejects a line of valid UTF-8; one longer than max_message_bytes is cut (attrs records
// truncated_from).
#include "ingest/formats/plain.hpp"

#include "ingest/formats/line.hpp"

namespace logpipe::ingest {
namespace {

using line::is_digit;
using line::is_space;

bool punctuation(char c) {
  switch (c) {
    case '[':
    case ']':
    case '(':
    case ')':
    case '<':
    case '>':
    case '{':
    case '}':
    case ':':
    case ',':
    case '|':
    case '-':
    case '=':
      return true;
    default:
      return false;
  }
}

std::optional<model::Level> glog_level(std::string_view s) {
  if (s.size() < 6 || !is_digit(s[1]) || !is_digit(s[2]) || !is_digit(s[3]) || !is_digit(s[4]) ||
      s[5] != ' ')
    return std::nullopt;
  switch (s[0]) {
    case 'I':
      return model::Level::info;
    case 'W':
      return model::Level::warning;
    case 'E':
      return model::Level::error;
    case 'F':
      return model::Level::fatal;
    default:
      return std::nullopt;
  }
}

std::optional<model::Level> find_level(std::string_view s) {
  if (auto l = glog_level(s)) return l;
  std::size_t pos = 0;
  for (int words = 0; words < 5 && pos < s.size();) {
    while (pos < s.size() && is_space(s[pos]))
      ++pos;
    const std::size_t start = pos;
    while (pos < s.size() && !is_space(s[pos]))
      ++pos;
    std::string_view word = s.substr(start, pos - start);
    while (!word.empty() && punctuation(word.front()))
      word.remove_prefix(1);
    while (!word.empty() && punctuation(word.back()))
      word.remove_suffix(1);
    if (word.empty()) continue;  // "-", "|": separators, not words
    if (auto l = line::level_word(word)) return l;
    ++words;
  }
  return std::nullopt;
}

// The timestamp the line starts with, and the rest of the line after it.
std::string_view leading_timestamp(std::string_view s, core::Micros& ts) {
  const std::size_t open = !s.empty() && s.front() == '[' ? 1 : 0;
  if (s.size() < open + 19 || !is_digit(s[open])) return s;
  core::Micros t = 0;
  const std::size_t n = line::scan_timestamp(s.substr(open), t);
  if (n == 0) return s;
  const std::size_t end = open + n;
  if (end < s.size() && !is_space(s[end]) && s[end] != ']' && s[end] != ',' && s[end] != ':' &&
      s[end] != '|')
    return s;  // 2024-02-29 13:55:36abc: not a timestamp after all
  ts = t;
  return s.substr(end);
}

bool parse_plain(std::string_view text, const DecodeOptions& options, model::Record& out,
                 std::string& why) {
  if (!line::valid_text(text, why)) return false;
  const std::string_view s = line::trim_right(text);
  if (s.empty() || line::trim(s).empty()) {
    why = "empty line";
    return false;
  }
  core::Micros ts = options.received_at;
  const std::string_view rest = leading_timestamp(s, ts);
  out.ts = ts;
  out.level = find_level(rest).value_or(model::Level::info);
  line::Attrs attrs;
  line::set_message(out, s, options, attrs);
  out.attrs_json = attrs.take();
  return true;
}

// Any line at all, at the lowest score: what auto falls back to.
int sniff_plain(std::string_view s) {
  return line::trim(s).empty() ? 0 : 1;
}

}  // namespace

Format plain_format() {
  Format f;
  f.name = "plain";
  f.sniff_line = sniff_plain;
  f.parse_line = parse_plain;
  f.decode = [](std::string_view body, const DecodeOptions& options) {
    return decode_lines(body, options, parse_plain);
  };
  return f;
}

}  // namespace logpipe::ingest
