// A reader of the protobuf wire format (https://protobuf.dev/programming-guides/encoding/) for
// the format plugins that take protobuf bodies (Loki push, OTLP), written by hand so that no
// generated code or libprotobuf is needed, and so that nothing in a body is trusted:
//   - varints are at most 10 bytes and must fit 64 bits;
//   - a length-delimited field must fit in what is left of its message;
//   - unknown fields of every wire type are skipped; groups (wire types 3 and 4, deprecated and
//     never used by these protocols) are malformed, as is field number 0;
//   - nested messages are read with sub(), which fails beyond kMaxDepth levels.
// The reader never allocates: strings and bytes are views into the body.
#pragma once

#include <cstdint>
#include <string_view>

namespace logpipe::ingest::protobuf {

enum class WireType : std::uint8_t {
  varint = 0,
  i64 = 1,
  len = 2,
  sgroup = 3,
  egroup = 4,
  i32 = 5
};

// Deeper than any message these protocols define, except OTLP's recursive AnyValue, which
// its decoder bounds with DecodeOptions::max_depth as well.
inline constexpr int kMaxDepth = 100;

struct Field {
  std::uint32_t number = 0;
  WireType type = WireType::varint;
  std::uint64_t value = 0;  // varint, i64 and i32 fields
  std::string_view bytes;   // len fields
};

// Reads one varint from [*p, end); advances *p. False when truncated or longer than 10 bytes
// (or the 10th byte carries bits beyond 64).
bool read_varint(const char** p, const char* end, std::uint64_t& out);

class Reader {
 public:
  explicit Reader(std::string_view message, int depth = 0) : data_(message), depth_(depth) {}

  // The next field, or false at the end of the message or at the first malformed byte (then
  // error() says what was wrong; after an error next() keeps returning false).
  bool next(Field& field);

  // A reader of a nested message (a len field's bytes), one level deeper; it fails at once
  // beyond kMaxDepth.
  Reader sub(std::string_view message) const;

  bool failed() const { return error_ != nullptr; }
  const char* error() const { return error_; }
  int depth() const { return depth_; }
  // The offset of the next byte to read, for error messages.
  std::size_t offset() const { return pos_; }

 private:
  bool fail(const char* why) {
    error_ = why;
    pos_ = data_.size();
    return false;
  }

  std::string_view data_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  const char* error_ = nullptr;
};

// proto3 scalar views of a field's value.
inline std::int64_t as_int64(const Field& f) {
  return static_cast<std::int64_t>(f.value);
}
inline bool as_bool(const Field& f) {
  return f.value != 0;
}
double as_double(const Field& f);  // an i64 field's bits

// Writing, for responses (OTLP's ExportLogsServiceResponse, google.rpc.Status) and tests.
void put_varint(std::string& out, std::uint64_t value);
void put_tag(std::string& out, std::uint32_t number, WireType type);
void put_len(std::string& out, std::uint32_t number, std::string_view bytes);
void put_varint_field(std::string& out, std::uint32_t number, std::uint64_t value);
void put_fixed64(std::string& out, std::uint32_t number, std::uint64_t value);
void put_fixed32(std::string& out, std::uint32_t number, std::uint32_t value);

}  // namespace logpipe::ingest::protobuf
