#include "ingest/formats/loki.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>

#include "core/json_writer.hpp"
#include "ingest/formats/attrs.hpp"
#include "ingest/formats/json_record.hpp"
#include "ingest/protobuf.hpp"

namespace logpipe::ingest {
namespace loki {
namespace {

using model::Level;
using model::Record;

// Timestamp seconds that PostgreSQL and RFC 3339 both represent: years 1 to 9999.
constexpr std::int64_t kMinSeconds = -62'135'596'800;
constexpr std::int64_t kMaxSeconds = 253'402'300'799;

enum Target { kService, kApp, kHost, kLevel, kTargets };
struct Rule {
  std::string_view label;
  Target target;
  int rank;  // lower wins when several labels of one target are present
};
constexpr Rule kRules[] = {
    {"service_name", kService, 0}, {"service", kService, 1},
    {"job", kService, 2},          {"app", kApp, 0},
    {"application", kApp, 1},      {"host", kHost, 0},
    {"hostname", kHost, 1},        {"instance", kHost, 2},
    {"level", kLevel, 0},          {"detected_level", kLevel, 1},
    {"severity", kLevel, 2},
};

// What a stream's labels give each of its entries.
struct Stream {
  std::string service, app, host;
  Level level = Level::info;
  std::vector<attrs::Member> attrs;  // the labels no field took
  std::string attrs_json;            // them as an object, for entries without metadata
  std::string problem_field;         // set: every entry of the stream is rejected
  std::string problem;
};

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  core::append_json_string(out, text);
  return out;
}

Stream map_labels(const Labels& labels, const DecodeOptions& options) {
  Stream s;
  std::size_t chosen[kTargets];
  int best[kTargets];
  for (int t = 0; t < kTargets; ++t) {
    chosen[t] = labels.size();
    best[t] = 99;
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    for (const auto& rule : kRules) {
      if (labels[i].first == rule.label && rule.rank < best[rule.target]) {
        best[rule.target] = rule.rank;
        chosen[rule.target] = i;
      }
    }
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto& [name, value] = labels[i];
    if (!attrs::valid_utf8(value)) {
      s.problem_field = name;
      s.problem = "label value is not valid UTF-8";
      return s;
    }
    std::string* field = nullptr;
    if (i == chosen[kService]) field = &s.service;
    if (i == chosen[kApp]) field = &s.app;
    if (i == chosen[kHost]) field = &s.host;
    if (field) {
      if (value.size() > options.max_name_bytes) {
        s.problem_field = name;
        s.problem = fmt::format("longer than {} bytes", options.max_name_bytes);
        return s;
      }
      *field = value;
      continue;
    }
    if (i == chosen[kLevel]) {
      if (auto level = model::parse_level(value)) {
        s.level = *level;
        continue;
      }
      // "unknown" (Loki's detected_level when it cannot tell) and the like: kept as a label.
    }
    s.attrs.push_back({name, json_string(value)});
  }
  s.attrs_json = attrs::object(s.attrs);
  return s;
}

// Turns entries into records, counting every entry of the body (its index) in order.
class Entries {
 public:
  Entries(Decoded& decoded, const DecodeOptions& options)
      : decoded_(decoded), problems_(decoded), options_(options) {}

  core::Status count_one() {
    if (index_ == static_cast<long>(options_.max_records))
      return core::make_error(
          core::Errc::too_large,
          fmt::format("more than {} entries in one request", options_.max_records));
    return {};
  }

  void reject(std::string_view field, std::string message) {
    problems_.add(index_, field, std::move(message));
    ++decoded_.rejected_items;
    ++index_;
  }

  // One entry; `ts` nullopt: the request's receive time.
  void add(const Stream& s, std::optional<core::Micros> ts, std::string_view line,
           std::vector<attrs::Member>* metadata) {
    if (!s.problem.empty()) return reject(s.problem_field, s.problem);
    if (line.size() > options_.max_message_bytes)
      return reject("line", fmt::format("longer than {} bytes", options_.max_message_bytes));
    if (!attrs::valid_utf8(line)) return reject("line", "is not valid UTF-8");
    Record& r = decoded_.records.emplace_back();
    r.ts = ts.value_or(options_.received_at);
    r.level = s.level;
    r.message = line;
    r.service = s.service;
    r.app = s.app;
    r.host = s.host;
    if (metadata == nullptr || metadata->empty()) {
      r.attrs_json = s.attrs_json;
    } else {
      std::vector<attrs::Member> all = s.attrs;
      all.insert(all.end(), std::make_move_iterator(metadata->begin()),
                 std::make_move_iterator(metadata->end()));
      r.attrs_json = attrs::object(all);
    }
    ++index_;
  }

 private:
  Decoded& decoded_;
  json::Problems problems_;
  const DecodeOptions& options_;
  long index_ = 0;
};

core::Micros micros_from_nanos(std::int64_t ns) {
  // Floor, so that -1 ns is the microsecond before the epoch.
  return ns / 1000 - (ns % 1000 < 0 ? 1 : 0);
}

// JSON ---------------------------------------------------------------------------------------

core::Error shape(std::string_view what) {
  return core::make_error(core::Errc::malformed,
                          fmt::format("not a Loki push: {} (expected "
                                      "{{\"streams\":[{{\"stream\":{{…}},\"values\":[[\"<unix "
                                      "ns>\",\"line\"]]}}]}})",
                                      what));
}

std::optional<core::Micros> json_ns(simdjson::dom::element e) {
  std::int64_t ns = 0;
  if (e.is_string()) {
    const std::string_view text = e.get_string().value_unsafe();
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ns);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  } else if (e.is_int64()) {
    ns = e.get_int64().value_unsafe();
  } else {
    return std::nullopt;
  }
  return micros_from_nanos(ns);
}

core::Status json_stream(simdjson::dom::element stream, const DecodeOptions& options,
                         Entries& entries) {
  if (!stream.is_object()) return shape("a stream is not an object");
  Labels labels;
  Stream s;
  simdjson::dom::element label_object;
  if (stream["stream"].get(label_object) == simdjson::SUCCESS && !label_object.is_null()) {
    if (!label_object.is_object()) return shape("\"stream\" is not an object of labels");
    for (auto [key, value] : json::object_of(label_object)) {
      if (value.is_string()) {
        labels.emplace_back(std::string(key), std::string(value.get_string().value_unsafe()));
      } else if (s.problem.empty()) {
        s.problem_field = key;
        s.problem = "label values must be strings";
      }
    }
  }
  if (s.problem.empty()) s = map_labels(labels, options);
  simdjson::dom::element values;
  if (stream["values"].get(values) != simdjson::SUCCESS || values.is_null()) return {};
  if (!values.is_array()) return shape("\"values\" is not an array");
  std::vector<attrs::Member> metadata;
  for (simdjson::dom::element v : json::array_of(values)) {
    if (auto counted = entries.count_one(); !counted) return counted;
    if (!v.is_array()) {
      entries.reject("values",
                     "an entry must be [\"<unix ns>\", \"line\"] or with a third "
                     "member, an object of structured metadata");
      continue;
    }
    const auto entry = v.get_array().value_unsafe();
    const std::size_t n = entry.size();
    if (n < 2 || n > 3) {
      entries.reject("values", "an entry must have 2 or 3 members");
      continue;
    }
    const auto ts = json_ns(entry.at(0).value_unsafe());
    if (!ts) {
      entries.reject("timestamp", "must be a string of Unix epoch nanoseconds");
      continue;
    }
    const auto line = entry.at(1).value_unsafe();
    if (!line.is_string()) {
      entries.reject("line", "must be a string");
      continue;
    }
    metadata.clear();
    if (n == 3) {
      const auto meta = entry.at(2).value_unsafe();
      if (!meta.is_object()) {
        entries.reject("structured_metadata", "must be an object");
        continue;
      }
      for (auto [key, value] : json::object_of(meta))
        metadata.push_back({std::string(key), simdjson::minify(value)});
    }
    entries.add(s, ts, line.get_string().value_unsafe(), &metadata);
  }
  return {};
}

// protobuf -----------------------------------------------------------------------------------

using protobuf::Field;
using protobuf::Reader;
using protobuf::WireType;

core::Error bad_protobuf(const Reader& r) {
  return core::make_error(core::Errc::malformed,
                          fmt::format("not a Loki PushRequest: {}", r.error()));
}

bool is_len(const Field& f, std::uint32_t number) {
  return f.number == number && f.type == WireType::len;
}

// google.protobuf.Timestamp → micros; nullopt when out of range (set `bad`).
std::optional<core::Micros> proto_timestamp(Reader& r, bool& bad) {
  std::int64_t seconds = 0, nanos = 0;
  Field f;
  while (r.next(f)) {
    if (f.number == 1 && f.type == WireType::varint) seconds = protobuf::as_int64(f);
    if (f.number == 2 && f.type == WireType::varint)
      nanos = static_cast<std::int32_t>(static_cast<std::uint32_t>(f.value));
  }
  if (r.failed()) return std::nullopt;
  if (seconds < kMinSeconds || seconds > kMaxSeconds || nanos < 0 || nanos > 999'999'999) {
    bad = true;
    return std::nullopt;
  }
  return seconds * core::kSecond + nanos / 1000;
}

core::Status proto_entry(const Reader& parent, std::string_view bytes, const Stream& s,
                         Entries& entries, std::vector<attrs::Member>& metadata) {
  Reader r = parent.sub(bytes);
  std::optional<core::Micros> ts;
  bool bad_ts = false;
  std::string_view line;
  metadata.clear();
  Field f;
  while (r.next(f)) {
    if (is_len(f, 1)) {
      Reader t = r.sub(f.bytes);
      ts = proto_timestamp(t, bad_ts);
      if (t.failed()) return bad_protobuf(t);
    } else if (is_len(f, 2)) {
      line = f.bytes;
    } else if (is_len(f, 3)) {
      Reader pair = r.sub(f.bytes);
      std::string_view name, value;
      Field p;
      while (pair.next(p)) {
        if (is_len(p, 1)) name = p.bytes;
        if (is_len(p, 2)) value = p.bytes;
      }
      if (pair.failed()) return bad_protobuf(pair);
      metadata.push_back({std::string(name), json_string(value)});
    }
  }
  if (r.failed()) return bad_protobuf(r);
  if (bad_ts) {
    entries.reject("timestamp", "is out of range (years 1-9999, nanos 0-999999999)");
    return {};
  }
  entries.add(s, ts, line, &metadata);
  return {};
}

core::Status proto_stream(const Reader& parent, std::string_view bytes,
                          const DecodeOptions& options, Entries& entries) {
  // Labels first, wherever they are in the message: each entry needs them.
  std::string_view label_text;
  {
    Reader r = parent.sub(bytes);
    Field f;
    while (r.next(f)) {
      if (is_len(f, 1)) label_text = f.bytes;
    }
    if (r.failed()) return bad_protobuf(r);
  }
  Stream s;
  if (!attrs::valid_utf8(label_text)) {
    s.problem_field = "labels";
    s.problem = "is not valid UTF-8";
  } else if (auto labels = parse_labels(label_text); !labels) {
    s.problem_field = "labels";
    s.problem = labels.error().message;
  } else {
    s = map_labels(*labels, options);
  }
  Reader r = parent.sub(bytes);
  std::vector<attrs::Member> metadata;
  Field f;
  while (r.next(f)) {
    if (!is_len(f, 2)) continue;
    if (auto counted = entries.count_one(); !counted) return counted;
    if (auto entry = proto_entry(r, f.bytes, s, entries, metadata); !entry) return entry;
  }
  if (r.failed()) return bad_protobuf(r);
  return {};
}

// Labels -------------------------------------------------------------------------------------

bool name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class LabelParser {
 public:
  explicit LabelParser(std::string_view text) : s_(text) {}

  core::Result<Labels> parse() {
    Labels labels;
    space();
    if (!eat('{')) return fail("must start with '{'");
    space();
    while (!eat('}')) {
      std::string name;
      if (peek() == '"') {
        if (!quoted(name)) return fail(error_);
      } else {
        if (!name_start(peek())) return fail("expected a label name");
        while (name_char(peek()))
          name.push_back(s_[i_++]);
      }
      space();
      if (!eat('=')) return fail("expected '=' after a label name");
      space();
      std::string value;
      if (!quoted(value)) return fail(error_);
      labels.emplace_back(std::move(name), std::move(value));
      space();
      if (eat(',')) {
        space();
        continue;
      }
      if (peek() != '}') return fail("expected ',' or '}'");
    }
    space();
    if (i_ != s_.size()) return fail("unexpected text after '}'");
    return labels;
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool eat(char c) {
    if (peek() != c || i_ >= s_.size()) return false;
    ++i_;
    return true;
  }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  core::Error fail(std::string_view why) const {
    return core::make_error(core::Errc::invalid_field,
                            fmt::format("not Prometheus label syntax: {} at offset {}", why, i_));
  }
  bool error(const char* why) {
    error_ = why;
    return false;
  }

  // A Go string literal: "…" or '…' with escapes, `…` raw.
  bool quoted(std::string& out) {
    const char quote = peek();
    if (quote != '"' && quote != '\'' && quote != '`') return error("expected a quoted value");
    ++i_;
    for (;;) {
      if (i_ >= s_.size()) return error("unterminated string");
      const char c = s_[i_++];
      if (c == quote) return true;
      if (c != '\\' || quote == '`') {
        if (c == '\n' && quote != '`') return error("newline in a string");
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return error("unterminated escape");
      const char e = s_[i_++];
      switch (e) {
        case 'a':
          out.push_back('\a');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'v':
          out.push_back('\v');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '"':
        case '\'':
          if (e != quote) return error("invalid escape");
          out.push_back(e);
          break;
        case 'x': {
          std::uint32_t v = 0;
          if (!hex(2, v)) return error("invalid \\x escape");
          out.push_back(static_cast<char>(v));
          break;
        }
        case 'u':
        case 'U': {
          std::uint32_t cp = 0;
          if (!hex(e == 'u' ? 4 : 8, cp) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return error("invalid \\u escape");
          core::append_utf8(out, cp);
          break;
        }
        default: {
          if (e < '0' || e > '7') return error("invalid escape");
          std::uint32_t v = static_cast<std::uint32_t>(e - '0');
          for (int k = 0; k < 2; ++k) {
            if (i_ >= s_.size() || s_[i_] < '0' || s_[i_] > '7')
              return error("invalid octal escape");
            v = v * 8 + static_cast<std::uint32_t>(s_[i_++] - '0');
          }
          if (v > 255) return error("invalid octal escape");
          out.push_back(static_cast<char>(v));
        }
      }
    }
  }

  bool hex(int digits, std::uint32_t& out) {
    out = 0;
    for (int k = 0; k < digits; ++k) {
      const int d = i_ < s_.size() ? hex_digit(s_[i_]) : -1;
      if (d < 0) return false;
      out = out * 16 + static_cast<std::uint32_t>(d);
      ++i_;
    }
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  const char* error_ = "";
};

}  // namespace

core::Result<Labels> parse_labels(std::string_view text) {
  return LabelParser(text).parse();
}

core::Result<Decoded> decode_json(std::string_view body, const DecodeOptions& options) {
  auto root = json::parse_text(body, options.max_depth);
  if (root.error()) return json::malformed(root.error(), options.max_depth, "");
  const simdjson::dom::element doc = root.value_unsafe();
  if (!doc.is_object()) return shape("the body is not a JSON object");
  Decoded decoded;
  Entries entries(decoded, options);
  simdjson::dom::element streams;
  if (doc["streams"].get(streams) != simdjson::SUCCESS || streams.is_null()) return decoded;
  if (!streams.is_array()) return shape("\"streams\" is not an array");
  for (simdjson::dom::element stream : json::array_of(streams)) {
    if (auto done = json_stream(stream, options, entries); !done) return done.error();
  }
  return decoded;
}

core::Result<Decoded> decode_protobuf(std::string_view body, const DecodeOptions& options) {
  Decoded decoded;
  Entries entries(decoded, options);
  Reader r(body);
  Field f;
  while (r.next(f)) {
    if (!is_len(f, 1)) continue;  // format=2 and anything newer
    if (auto done = proto_stream(r, f.bytes, options, entries); !done) return done.error();
  }
  if (r.failed()) return bad_protobuf(r);
  return decoded;
}

}  // namespace loki

Format loki_format() {
  Format f;
  f.name = "loki";
  f.decode = [](std::string_view body, const DecodeOptions& options) {
    const auto first = body.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && body[first] == '{')
      return loki::decode_json(body, options);
    return loki::decode_protobuf(body, options);
  };
  return f;
}

}  // namespace logpipe::ingest
