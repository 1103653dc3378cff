// Content-Encoding: gzip/deflate through zlib, zstd through libzstd; streaming, so the output is
// bounded by the cap whatever the input claims. Snappy (block format, as Loki push uses it) is
// not streamed: its header states the decoded size, which is checked against the cap before
// anything is allocated, and the decoder never writes past that size.
#include <fmt/format.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <memory>
#include <vector>

#include "ingest/format.hpp"

namespace logpipe::ingest {
namespace {

constexpr std::size_t kChunk = std::size_t{64} * 1024;
constexpr std::size_t kMaxCodings = 4;

core::Error too_large(std::size_t cap) {
  return core::make_error(core::Errc::too_large,
                          fmt::format("the decoded body exceeds the limit of {} bytes", cap));
}
core::Error corrupt(std::string_view coding, std::string_view why) {
  return core::make_error(core::Errc::malformed,
                          fmt::format("the {} body cannot be decoded: {}", coding, why));
}

struct InflateEnd {
  void operator()(z_stream* z) const {
    inflateEnd(z);
    delete z;
  }
};

// windowBits: 15 + 32 detects a gzip or zlib header; -15 is raw deflate.
core::Status inflate_into(std::string_view coding, std::string_view in, int window_bits,
                          std::size_t cap, std::string& out) {
  std::unique_ptr<z_stream, InflateEnd> z(new z_stream{});
  if (inflateInit2(z.get(), window_bits) != Z_OK) return corrupt(coding, "zlib init failed");
  z->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z->avail_in = static_cast<uInt>(in.size());
  for (;;) {
    if (out.size() >= cap) {
      // Full: one byte more of output means the cap is passed.
      char probe;
      z->next_out = reinterpret_cast<Bytef*>(&probe);
      z->avail_out = 1;
      const uInt fed = z->avail_in;
      const int rc = inflate(z.get(), Z_NO_FLUSH);
      if (z->avail_out == 0) return too_large(cap);
      if (rc == Z_STREAM_END) {
        if (z->avail_in == 0) return {};
        if (inflateReset(z.get()) != Z_OK) return corrupt(coding, "zlib reset failed");
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) return corrupt(coding, z->msg ? z->msg : "bad data");
      if (z->avail_in == 0) return corrupt(coding, "truncated");
      if (z->avail_in == fed) return corrupt(coding, "no progress");
      continue;
    }
    const std::size_t before = out.size();
    const std::size_t room = std::min(kChunk, cap - before);
    out.resize(before + room);
    z->next_out = reinterpret_cast<Bytef*>(out.data() + before);
    z->avail_out = static_cast<uInt>(room);
    const int rc = inflate(z.get(), Z_NO_FLUSH);
    out.resize(before + room - z->avail_out);
    if (rc == Z_STREAM_END) {
      if (z->avail_in == 0) return {};
      // Another gzip member follows (concatenated gzip is one valid body).
      if (inflateReset(z.get()) != Z_OK) return corrupt(coding, "zlib reset failed");
      continue;
    }
    if (rc == Z_OK) continue;
    // Z_BUF_ERROR with room to write: the input ended inside the stream.
    if (rc == Z_BUF_ERROR) return corrupt(coding, "truncated");
    return corrupt(coding, z->msg ? z->msg : "bad data");
  }
}

struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

core::Status zstd_into(std::string_view in, std::size_t cap, std::string& out) {
  std::unique_ptr<ZSTD_DCtx, DctxFree> d(ZSTD_createDCtx());
  // Refuse frames whose window would need more memory than the cap allows to decode at all.
  ZSTD_DCtx_setParameter(d.get(), ZSTD_d_windowLogMax, 27);
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  std::size_t last = 1;
  while (input.pos < input.size || last != 0) {
    if (out.size() >= cap) {
      char probe;
      ZSTD_outBuffer one{&probe, 1, 0};
      last = ZSTD_decompressStream(d.get(), &one, &input);
      if (ZSTD_isError(last)) return corrupt("zstd", ZSTD_getErrorName(last));
      if (one.pos) return too_large(cap);
      if (input.pos == input.size) break;
      continue;
    }
    const std::size_t before = out.size();
    const std::size_t room = std::min(kChunk, cap - before);
    out.resize(before + room);
    ZSTD_outBuffer output{out.data() + before, room, 0};
    last = ZSTD_decompressStream(d.get(), &output, &input);
    out.resize(before + output.pos);
    if (ZSTD_isError(last)) return corrupt("zstd", ZSTD_getErrorName(last));
    if (input.pos == input.size && output.pos < room) break;  // all input taken, all flushed
  }
  if (last != 0) return corrupt("zstd", "truncated");
  return {};
}

}  // namespace

core::Status decode_snappy(std::string_view in, std::size_t max_decoded_bytes, std::string& out) {
  std::size_t length = 0;
  if (!snappy::GetUncompressedLength(in.data(), in.size(), &length))
    return corrupt("snappy", "no valid length header");
  if (length > max_decoded_bytes) return too_large(max_decoded_bytes);
  out.resize(length);
  if (!snappy::RawUncompress(in.data(), in.size(), out.data())) {
    out.clear();
    return corrupt("snappy", "corrupt or truncated block");
  }
  return {};
}

core::Result<std::string_view> decode_content(std::string_view content_encoding,
                                              std::string_view body, std::string& storage,
                                              std::size_t max_decoded_bytes) {
  std::vector<std::string> codings;
  std::string_view rest = content_encoding;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string coding = media_type(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (!coding.empty() && coding != "identity") codings.push_back(std::move(coding));
  }
  if (codings.size() > kMaxCodings)
    return core::make_error(core::Errc::unsupported, "more than 4 Content-Encodings");
  std::string_view current = body;
  std::string scratch;
  // Listed in the order they were applied: undone from the last.
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {
    std::string out;
    core::Status decoded;
    if (*it == "gzip" || *it == "x-gzip") {
      decoded = inflate_into(*it, current, 15 + 32, max_decoded_bytes, out);
    } else if (*it == "deflate") {
      decoded = inflate_into(*it, current, 15, max_decoded_bytes, out);
      if (!decoded && decoded.error().code == core::Errc::malformed) {
        out.clear();  // no zlib header: raw deflate, as some clients send it
        decoded = inflate_into(*it, current, -15, max_decoded_bytes, out);
      }
    } else if (*it == "zstd") {
      decoded = zstd_into(current, max_decoded_bytes, out);
    } else if (*it == "snappy") {
      decoded = decode_snappy(current, max_decoded_bytes, out);
    } else {
      return core::make_error(
          core::Errc::unsupported,
          fmt::format("Content-Encoding \"{}\" is not supported; send gzip, deflate, zstd, snappy "
                      "or an uncompressed body",
                      *it));
    }
    if (!decoded) return decoded.error();
    scratch = std::move(out);
    current = scratch;
  }
  if (codings.empty()) return body;
  storage = std::move(scratch);
  return std::string_view(storage);
}

}  // namespace logpipe::ingest
