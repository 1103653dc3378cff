#include "ingest/formats/pattern.hpp"

#include <fmt/format.h>
#include <re2/re2.h>

#include <charconv>
#include <cmath>
#include <optional>

#include "ingest/formats/line.hpp"

namespace logpipe::ingest {
namespace {

using core::Errc;

// How a pattern's ts group is read.
struct TsFormat {
  enum class Kind { rfc3339, epoch, epoch_ms, custom } kind = Kind::rfc3339;
  std::string layout;  // custom: strptime-like
};

constexpr std::string_view kDirectives = "YmdeHMSfbzTF%";

core::Result<TsFormat> ts_format_of(const std::string& text) {
  TsFormat f;
  if (text.empty() || text == "rfc3339") return f;
  if (text == "epoch") {
    f.kind = TsFormat::Kind::epoch;
    return f;
  }
  if (text == "epoch_ms") {
    f.kind = TsFormat::Kind::epoch_ms;
    return f;
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') continue;
    if (i + 1 == text.size() || kDirectives.find(text[i + 1]) == std::string_view::npos)
      return core::make_error(
          Errc::invalid_argument,
          fmt::format("ts_format \"{}\": %{} is not supported (rfc3339, epoch, epoch_ms, or "
                      "%Y %m %d %e %H %M %S %f %b %z %T %F %%)",
                      text, i + 1 < text.size() ? text.substr(i + 1, 1) : ""));
    ++i;
  }
  f.kind = TsFormat::Kind::custom;
  f.layout = text;
  return f;
}

bool number(std::string_view s, std::size_t& pos, std::size_t max_digits, unsigned& out) {
  std::size_t n = 0;
  unsigned v = 0;
  while (pos < s.size() && n < max_digits && line::is_digit(s[pos])) {
    v = v * 10 + static_cast<unsigned>(s[pos++] - '0');
    ++n;
  }
  out = v;
  return n > 0;
}

// The strptime-like layout applied to `s`, all of it. Without %Y, the year is the receive time's
// (the year before when that would put the time more than a day ahead: a December line read in
// January).
bool parse_layout(std::string_view layout, std::string_view s, core::Micros received,
                  core::Micros& out) {
  unsigned year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  bool has_year = false;
  std::int64_t micros = 0, offset = 0;
  std::size_t pos = 0;
  std::string expanded;
  if (layout.find("%T") != std::string_view::npos || layout.find("%F") != std::string_view::npos) {
    for (std::size_t i = 0; i < layout.size(); ++i) {
      if (layout[i] == '%' && i + 1 < layout.size() && layout[i + 1] == 'T') {
        expanded += "%H:%M:%S";
        ++i;
      } else if (layout[i] == '%' && i + 1 < layout.size() && layout[i + 1] == 'F') {
        expanded += "%Y-%m-%d";
        ++i;
      } else {
        expanded.push_back(layout[i]);
        if (layout[i] == '%' && i + 1 < layout.size()) expanded.push_back(layout[++i]);
      }
    }
    layout = expanded;
  }
  for (std::size_t i = 0; i < layout.size(); ++i) {
    const char c = layout[i];
    if (c == ' ') {  // one or more spaces ("Feb  9")
      if (pos >= s.size() || !line::is_space(s[pos])) return false;
      while (pos < s.size() && line::is_space(s[pos]))
        ++pos;
      continue;
    }
    if (c != '%' || i + 1 == layout.size()) {
      if (pos >= s.size() || s[pos] != c) return false;
      ++pos;
      continue;
    }
    switch (layout[++i]) {
      case 'Y':
        if (!number(s, pos, 4, year)) return false;
        has_year = true;
        break;
      case 'm':
        if (!number(s, pos, 2, month)) return false;
        break;
      case 'd':
        if (!number(s, pos, 2, day)) return false;
        break;
      case 'e':
        while (pos < s.size() && s[pos] == ' ')
          ++pos;
        if (!number(s, pos, 2, day)) return false;
        break;
      case 'H':
        if (!number(s, pos, 2, hour)) return false;
        break;
      case 'M':
        if (!number(s, pos, 2, minute)) return false;
        break;
      case 'S':
        if (!number(s, pos, 2, second)) return false;
        break;
      case 'f': {
        int n = 0;
        for (; pos < s.size() && line::is_digit(s[pos]); ++pos, ++n) {
          if (n < 6) micros = micros * 10 + (s[pos] - '0');
        }
        if (n == 0) return false;
        for (; n < 6; ++n)
          micros *= 10;
        break;
      }
      case 'b': {
        if (pos + 3 > s.size()) return false;
        month = line::month_from_abbr(s.substr(pos, 3));
        if (month == 0) return false;
        pos += 3;
        while (pos < s.size() && ((s[pos] | 0x20) >= 'a' && (s[pos] | 0x20) <= 'z'))
          ++pos;  // the rest of a full month name
        break;
      }
      case 'z': {
        if (pos >= s.size()) return false;
        if (s[pos] == 'Z' || s[pos] == 'z') {
          ++pos;
          break;
        }
        if (s[pos] != '+' && s[pos] != '-') return false;
        const bool east = s[pos++] == '+';
        unsigned h = 0, m = 0;
        const std::size_t start = pos;
        if (!number(s, pos, 2, h) || pos - start != 2) return false;
        if (pos < s.size() && s[pos] == ':') ++pos;
        const std::size_t mstart = pos;
        if (!number(s, pos, 2, m) || pos - mstart != 2 || h > 23 || m > 59) return false;
        offset = (std::int64_t{h} * 3600 + std::int64_t{m} * 60) * (east ? 1 : -1);
        break;
      }
      case '%':
        if (pos >= s.size() || s[pos] != '%') return false;
        ++pos;
        break;
      default:
        return false;
    }
  }
  if (pos != s.size()) return false;
  if (has_year)
    return line::civil_to_micros(year, month, day, hour, minute, second, micros, offset, out);
  const std::string date = core::format_date(received);  // YYYY-MM-DD
  unsigned this_year = 0;
  for (std::size_t i = 0; i < 4 && i < date.size() && line::is_digit(date[i]); ++i)
    this_year = this_year * 10 + static_cast<unsigned>(date[i] - '0');
  core::Micros t = 0;
  if (!line::civil_to_micros(this_year, month, day, hour, minute, second, micros, offset, t)) {
    // 29 February of a year that has none: the last year that had one is further back than a day
    return line::civil_to_micros(this_year - 1, month, day, hour, minute, second, micros, offset,
                                 out);
  }
  if (t > received + core::kDay &&
      line::civil_to_micros(this_year - 1, month, day, hour, minute, second, micros, offset, out))
    return true;
  out = t;
  return true;
}

bool parse_ts(const TsFormat& f, std::string_view text, core::Micros received, core::Micros& out) {
  switch (f.kind) {
    case TsFormat::Kind::rfc3339:
      return line::parse_ts_value(text, out);
    case TsFormat::Kind::epoch:
    case TsFormat::Kind::epoch_ms: {
      // The unit is given: no guessing by magnitude.
      double n = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || p != text.data() + text.size() || !(std::abs(n) < 1e15))
        return false;
      out = static_cast<core::Micros>(
          std::llround(n * (f.kind == TsFormat::Kind::epoch ? 1e6 : 1e3)));
      return true;
    }
    case TsFormat::Kind::custom:
      return parse_layout(f.layout, text, received, out);
  }
  return false;
}

std::optional<model::Level> level_of(std::string_view text) {
  if (auto l = model::parse_level(text)) return l;
  return line::level_word(text);
}

struct Group {
  line::Field field = line::Field::ignored;
  std::string name;  // of an attr
};

struct Compiled {
  std::string name;
  std::unique_ptr<RE2> re;
  std::vector<Group> groups;  // by group number; [0] unused
  TsFormat ts;

  bool parse(std::string_view text, const DecodeOptions& options, model::Record& out,
             std::string& why) const {
    if (!line::valid_text(text, why)) return false;
    const std::string_view s = line::trim_right(text);
    if (s.empty()) {  // only CRs, say, which decode_lines does not count as blank
      why = "the line is blank";
      return false;
    }
    thread_local std::vector<re2::StringPiece> found;
    found.assign(groups.size(), re2::StringPiece());
    if (!re->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::UNANCHORED, found.data(),
                   static_cast<int>(found.size()))) {
      why = fmt::format("does not match pattern {}", name);
      return false;
    }
    out.ts = options.received_at;
    line::Attrs attrs;
    bool message_set = false;
    for (std::size_t g = 1; g < groups.size(); ++g) {
      if (found[g].data() == nullptr) continue;  // an optional group that took no part
      const std::string_view value(found[g].data(), found[g].size());
      const Group& group = groups[g];
      const line::Field field = group.field;
      switch (field) {
        case line::Field::message:
          if (!value.empty()) {
            line::set_message(out, value, options, attrs);
            message_set = true;
          }
          break;
        case line::Field::level: {
          if (value.empty()) break;
          const auto level = level_of(value);
          if (!level) {
            why = fmt::format("{} \"{}\" is not a level", group.name, value.substr(0, 32));
            return false;
          }
          out.level = *level;
          break;
        }
        case line::Field::ts:
          if (value.empty()) break;
          if (!parse_ts(ts, value, options.received_at, out.ts)) {
            why = fmt::format("{} \"{}\" does not match the pattern's ts_format", group.name,
                              value.substr(0, 40));
            return false;
          }
          break;
        case line::Field::device_id:
        case line::Field::service:
        case line::Field::app:
        case line::Field::host:
          if (!line::set_name(*line::name_field(out, field), value, group.name, options, why))
            return false;
          break;
        case line::Field::ignored:
          break;
        case line::Field::other:
          attrs.add(group.name, value);
          break;
      }
    }
    if (!message_set) line::set_message(out, s, options, attrs);
    out.attrs_json = attrs.take();
    return true;
  }

  int sniff(std::string_view s) const {
    return re->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::UNANCHORED, nullptr, 0)
               ? 70
               : 0;
  }
};

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || line::is_digit(c) || c == '_' ||
          c == '-'))
      return false;
  }
  return true;
}

}  // namespace

core::Result<Format> pattern_format(const PatternSpec& spec) {
  const auto bad = [&](std::string message) {
    return core::make_error(Errc::invalid_argument,
                            fmt::format("pattern \"{}\": {}", spec.name, message));
  };
  if (!valid_name(spec.name)) return bad("a pattern name is 1-64 letters, digits, '_' or '-'");
  if (spec.regex.empty()) return bad("regex is required");
  auto compiled = std::make_shared<Compiled>();
  compiled->name = spec.name;
  RE2::Options options;
  options.set_log_errors(false);
  compiled->re = std::make_unique<RE2>(spec.regex, options);
  if (!compiled->re->ok()) return bad("invalid regex: " + compiled->re->error());
  auto ts = ts_format_of(spec.ts_format);
  if (!ts) return bad(ts.error().message);
  compiled->ts = std::move(ts).value();
  compiled->groups.resize(static_cast<std::size_t>(compiled->re->NumberOfCapturingGroups()) + 1);
  for (const auto& [name, index] : compiled->re->NamedCapturingGroups()) {
    auto& group = compiled->groups[static_cast<std::size_t>(index)];
    group.field = line::classify(name);
    group.name = name;
  }
  Format f;
  f.name = spec.name;
  f.sniff_line = [compiled](std::string_view line) { return compiled->sniff(line); };
  f.parse_line = [compiled](std::string_view line, const DecodeOptions& options, model::Record& out,
                            std::string& why) { return compiled->parse(line, options, out, why); };
  f.decode = [compiled](std::string_view body, const DecodeOptions& options) {
    return decode_lines(
        body, options,
        [&compiled](std::string_view line, const DecodeOptions& o, model::Record& out,
                    std::string& why) { return compiled->parse(line, o, out, why); });
  };
  return f;
}

core::Result<std::unique_ptr<FormatRegistry>> formats_with_patterns(
    const std::vector<PatternSpec>& patterns) {
  auto registry = std::make_unique<FormatRegistry>();
  register_builtin_formats(*registry);
  for (const auto& spec : patterns) {
    if (spec.name == "auto" || registry->find(spec.name))
      return core::make_error(
          Errc::invalid_argument,
          fmt::format("pattern \"{}\": the name is taken by a {}", spec.name,
                      spec.name == "auto" ? "format parameter value" : "built-in format"));
    auto format = pattern_format(spec);
    if (!format) return format.error();
    registry->add(std::move(format).value());
  }
  return registry;
}

}  // namespace logpipe::ingest
