#include "ingest/protobuf.hpp"

#include <bit>
#include <cstring>
#include <string>

namespace logpipe::ingest::protobuf {

bool read_varint(const char** p, const char* end, std::uint64_t& out) {
  std::uint64_t value = 0;
  const char* q = *p;
  for (int i = 0; i < 10; ++i) {
    if (q == end) return false;
    const auto byte = static_cast<std::uint8_t>(*q++);
    // The 10th byte holds bit 63 only: anything more overflows 64 bits.
    if (i == 9 && byte > 1) return false;
    value |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      *p = q;
      out = value;
      return true;
    }
  }
  return false;
}

bool Reader::next(Field& field) {
  if (error_ != nullptr || pos_ >= data_.size()) return false;
  const char* p = data_.data() + pos_;
  const char* const end = data_.data() + data_.size();
  std::uint64_t tag = 0;
  if (!read_varint(&p, end, tag)) return fail("truncated or overlong varint in a field tag");
  const std::uint64_t number = tag >> 3;
  if (number == 0 || number > (std::uint64_t{1} << 29) - 1) return fail("invalid field number");
  field.number = static_cast<std::uint32_t>(number);
  field.type = static_cast<WireType>(tag & 7);
  field.value = 0;
  field.bytes = {};
  switch (field.type) {
    case WireType::varint:
      if (!read_varint(&p, end, field.value)) return fail("truncated or overlong varint");
      break;
    case WireType::i64:
      if (end - p < 8) return fail("truncated fixed64 field");
      std::memcpy(&field.value, p, 8);  // little endian on the wire, as on every target here
      p += 8;
      break;
    case WireType::i32: {
      if (end - p < 4) return fail("truncated fixed32 field");
      std::uint32_t v = 0;
      std::memcpy(&v, p, 4);
      field.value = v;
      p += 4;
      break;
    }
    case WireType::len: {
      std::uint64_t length = 0;
      if (!read_varint(&p, end, length)) return fail("truncated or overlong length");
      if (length > static_cast<std::uint64_t>(end - p))
        return fail("a length-delimited field runs past the end of its message");
      field.bytes = std::string_view(p, static_cast<std::size_t>(length));
      p += length;
      break;
    }
    case WireType::sgroup:
    case WireType::egroup:
      return fail("groups (wire types 3 and 4) are not supported");
    default:
      return fail("invalid wire type");
  }
  pos_ = static_cast<std::size_t>(p - data_.data());
  return true;
}

Reader Reader::sub(std::string_view message) const {
  Reader r(message, depth_ + 1);
  if (r.depth_ > kMaxDepth) r.fail("messages nested too deeply");
  return r;
}

double as_double(const Field& f) {
  return std::bit_cast<double>(f.value);
}

void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_tag(std::string& out, std::uint32_t number, WireType type) {
  put_varint(out, (static_cast<std::uint64_t>(number) << 3) | static_cast<std::uint64_t>(type));
}

void put_len(std::string& out, std::uint32_t number, std::string_view bytes) {
  put_tag(out, number, WireType::len);
  put_varint(out, bytes.size());
  out.append(bytes);
}

void put_varint_field(std::string& out, std::uint32_t number, std::uint64_t value) {
  put_tag(out, number, WireType::varint);
  put_varint(out, value);
}

void put_fixed64(std::string& out, std::uint32_t number, std::uint64_t value) {
  put_tag(out, number, WireType::i64);
  char b[8];
  std::memcpy(b, &value, 8);
  out.append(b, 8);
}

void put_fixed32(std::string& out, std::uint32_t number, std::uint32_t value) {
  put_tag(out, number, WireType::i32);
  char b[4];
  std::memcpy(b, &value, 4);
  out.append(b, 4);
}

}  // namespace logpipe::ingest::protobuf
