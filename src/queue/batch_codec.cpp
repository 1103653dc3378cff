#include "queue/batch_codec.hpp"

#include <lz4.h>

#include <cstdint>
#include <limits>

namespace logpipe::queue {
namespace {

constexpr char kMagic0 = 'L';
constexpr char kMagic1 = 'P';       // one request's batch
constexpr char kEntryMagic1 = 'M';  // several batches coalesced into one stream entry
constexpr std::uint8_t kVersion = 1;
constexpr std::uint8_t kFlagLz4 = 1;
constexpr std::size_t kHeaderBytes = 4;
// A decoded entry is at most a request body (10 MiB by default) plus per-record overhead.
constexpr std::uint64_t kMaxUncompressedBytes = 256ull * 1024 * 1024;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_zigzag(std::string& out, std::int64_t v) {
  put_varint(out, (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return false;
      const auto byte = static_cast<std::uint8_t>(data_[pos_++]);
      v |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool zigzag(std::int64_t& v) {
    std::uint64_t u;
    if (!varint(u)) return false;
    v = static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
    return true;
  }
  bool byte(std::uint8_t& b) {
    if (pos_ >= data_.size()) return false;
    b = static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }
  bool string(std::string& s) {
    std::uint64_t n;
    if (!varint(n) || n > data_.size() - pos_) return false;
    s.assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool at_end() const { return pos_ == data_.size(); }
  std::size_t remaining() const { return data_.size() - pos_; }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

std::string encode_body(const model::Batch& batch) {
  std::size_t size = 32 + batch.source_format.size();
  for (const auto& r : batch.records) {
    size += 16 + r.message.size() + r.device_id.size() + r.service.size() + r.app.size() +
            r.host.size() + r.attrs_json.size();
  }
  std::string out;
  out.reserve(size);
  put_zigzag(out, batch.received_at);
  put_varint(out, static_cast<std::uint32_t>(batch.tenant_id));
  put_string(out, batch.source_format);
  put_varint(out, batch.records.size());
  for (const auto& r : batch.records) {
    put_zigzag(out, r.ts - batch.received_at);
    out.push_back(static_cast<char>(r.level));
    put_string(out, r.message);
    put_string(out, r.device_id);
    put_string(out, r.service);
    put_string(out, r.app);
    put_string(out, r.host);
    put_string(out, r.attrs_json);
  }
  return out;
}

core::Error corrupt(std::string_view what) {
  return core::make_error(core::Errc::malformed, "corrupt batch payload: " + std::string(what));
}

core::Result<model::Batch> decode_body(std::string_view body) {
  Reader in(body);
  model::Batch batch;
  std::uint64_t tenant, count;
  if (!in.zigzag(batch.received_at) || !in.varint(tenant) || !in.string(batch.source_format) ||
      !in.varint(count))
    return corrupt("truncated header");
  if (tenant > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
    return corrupt("tenant id out of range");
  batch.tenant_id = static_cast<std::int32_t>(tenant);
  // Each record takes at least 8 bytes, so a count beyond that is a lie; don't reserve for it.
  if (count > in.remaining() / 8 + 1) return corrupt("record count exceeds payload");
  batch.records.resize(count);
  for (auto& r : batch.records) {
    std::int64_t delta;
    std::uint8_t level;
    if (!in.zigzag(delta) || !in.byte(level) || !in.string(r.message) || !in.string(r.device_id) ||
        !in.string(r.service) || !in.string(r.app) || !in.string(r.host) ||
        !in.string(r.attrs_json))
      return corrupt("truncated record");
    if (level > static_cast<std::uint8_t>(model::Level::fatal)) return corrupt("bad level");
    r.ts = batch.received_at + delta;
    r.level = static_cast<model::Level>(level);
  }
  if (!in.at_end()) return corrupt("trailing bytes");
  return batch;
}

// Header (magic0, magic1, version, flags), then the body, LZ4-compressed when it is big enough
// and `compress` allows.
std::string seal(char magic1, const std::string& body, bool compress, const CodecOptions& options) {
  std::string out{kMagic0, magic1, static_cast<char>(kVersion), 0};
  if (!compress || body.size() < options.compress_min_bytes ||
      body.size() > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE)) {
    out += body;
    return out;
  }
  out[3] = static_cast<char>(kFlagLz4);
  put_varint(out, body.size());
  const std::size_t prefix = out.size();
  const int bound = LZ4_compressBound(static_cast<int>(body.size()));
  out.resize(prefix + static_cast<std::size_t>(bound));
  const int n =
      LZ4_compress_default(body.data(), out.data() + prefix, static_cast<int>(body.size()), bound);
  if (n <= 0) {  // cannot happen with a correct bound; fall back to the plain body
    out.resize(kHeaderBytes);
    out[3] = 0;
    out += body;
    return out;
  }
  out.resize(prefix + static_cast<std::size_t>(n));
  return out;
}

// The body of a sealed payload whose second magic byte is `magic1`, decompressed.
core::Result<std::string> unseal(std::string_view payload, char magic1) {
  if (payload.size() < kHeaderBytes || payload[0] != kMagic0 || payload[1] != magic1)
    return corrupt("bad magic");
  if (static_cast<std::uint8_t>(payload[2]) != kVersion) return corrupt("unknown version");
  const auto flags = static_cast<std::uint8_t>(payload[3]);
  if (flags & ~kFlagLz4) return corrupt("unknown flags");
  std::string_view rest = payload.substr(kHeaderBytes);
  if (!(flags & kFlagLz4)) return std::string(rest);

  Reader in(rest);
  std::uint64_t size;
  if (!in.varint(size)) return corrupt("truncated size");
  if (size > kMaxUncompressedBytes) return corrupt("uncompressed size too large");
  const std::string_view compressed = rest.substr(rest.size() - in.remaining());
  std::string body(size, '\0');
  const int n = LZ4_decompress_safe(compressed.data(), body.data(),
                                    static_cast<int>(compressed.size()), static_cast<int>(size));
  if (n < 0 || static_cast<std::uint64_t>(n) != size) return corrupt("LZ4 data invalid");
  return body;
}

bool is_compressed(std::string_view sealed) {
  return sealed.size() >= kHeaderBytes && (static_cast<std::uint8_t>(sealed[3]) & kFlagLz4);
}

}  // namespace

std::string encode_batch(const model::Batch& batch, const CodecOptions& options) {
  return seal(kMagic1, encode_body(batch), true, options);
}

core::Result<model::Batch> decode_batch(std::string_view payload) {
  auto body = unseal(payload, kMagic1);
  if (!body) return body.error();
  return decode_body(*body);
}

std::string encode_entry(std::span<const std::string> batches, const CodecOptions& options) {
  if (batches.size() == 1) return batches.front();
  std::string body;
  std::size_t size = 10;
  bool any_compressed = false;
  for (const auto& b : batches) {
    size += b.size() + 5;
    any_compressed = any_compressed || is_compressed(b);
  }
  body.reserve(size);
  put_varint(body, batches.size());
  for (const auto& b : batches)
    put_string(body, b);
  // Small requests coalesced together compress well; already compressed ones would not.
  return seal(kEntryMagic1, body, !any_compressed, options);
}

core::Result<std::vector<model::Batch>> decode_entry(std::string_view payload) {
  std::vector<model::Batch> batches;
  if (payload.size() < 2 || payload[1] != kEntryMagic1) {
    auto one = decode_batch(payload);
    if (!one) return one.error();
    batches.push_back(std::move(one).value());
    return batches;
  }
  auto body = unseal(payload, kEntryMagic1);
  if (!body) return body.error();
  Reader in(*body);
  std::uint64_t count;
  if (!in.varint(count) || count > in.remaining()) return corrupt("bad batch count");
  batches.reserve(count);
  std::string sealed;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (!in.string(sealed)) return corrupt("truncated batch");
    auto batch = decode_batch(sealed);
    if (!batch) return batch.error();
    batches.push_back(std::move(batch).value());
  }
  if (!in.at_end()) return corrupt("trailing bytes");
  return batches;
}

}  // namespace logpipe::queue
