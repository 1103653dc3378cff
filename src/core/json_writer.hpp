// A small streaming JSON writer: builds compact JSON text with correct string escaping. Commas
// between members and elements are inserted automatically.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace logpipe::core {

// Appends `text` to `out` as a JSON string literal (with quotes). Invalid UTF-8 is replaced by
// U+FFFD so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view text);
// Appends `text` with every invalid UTF-8 byte replaced by U+FFFD, for text that PostgreSQL must
// accept and that came from a protocol that does not promise UTF-8 (syslog).
void append_valid_utf8(std::string& out, std::string_view text);
// Appends code point `cp` (at most U+10FFFF, not a surrogate) as UTF-8.
void append_utf8(std::string& out, std::uint32_t cp);

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(std::uint64_t number);
  JsonWriter& value(double number);
  JsonWriter& value(bool flag);
  JsonWriter& null();
  // Inserts already-serialised JSON (e.g. a jsonb column) verbatim.
  JsonWriter& raw(std::string_view json);

  template <class T>
  JsonWriter& field(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void separate();

  std::string out_;
  std::vector<bool> first_;  // per open container: no member written yet
  bool after_key_ = false;
};

}  // namespace logpipe::core
