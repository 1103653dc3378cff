// The one registration list of the web UI's files. A file in src/ui/web or src/ui/vendor that is
// not listed here (and embedded in CMakeLists.txt) is not served.
#include <zlib.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "ui/ui.hpp"

namespace logpipe::ui {

// Defined by the files CMakeLists.txt embeds.
std::string_view index_html();
std::string_view style_css();
std::string_view favicon_svg();
std::string_view app_js();
std::string_view api_js();
std::string_view components_js();
std::string_view explore_js();
std::string_view tail_js();
std::string_view dashboard_js();
std::string_view devices_js();
std::string_view alerts_js();
std::string_view dead_letters_js();
std::string_view keys_js();
std::string_view vendor_preact_js();
std::string_view vendor_hooks_js();
std::string_view vendor_htm_js();
std::string_view vendor_uplot_js();
std::string_view vendor_uplot_css();

namespace {

constexpr std::string_view kScript = "text/javascript; charset=utf-8";
constexpr std::string_view kStyle = "text/css; charset=utf-8";

struct Source {
  std::string_view name, content_type;
  std::string_view (*body)();
};

// clang-format off
const std::array kSources = {
  Source{"index.html",   "text/html; charset=utf-8", index_html},
  Source{"style.css",    kStyle,                     style_css},
  Source{"favicon.svg",  "image/svg+xml",            favicon_svg},
  Source{"app.js",       kScript,                    app_js},
  Source{"api.js",       kScript,                    api_js},
  Source{"components.js", kScript,                   components_js},
  Source{"explore.js",   kScript,                    explore_js},
  Source{"tail.js",      kScript,                    tail_js},
  Source{"dashboard.js", kScript,                    dashboard_js},
  Source{"devices.js",   kScript,                    devices_js},
  Source{"alerts.js",    kScript,                    alerts_js},
  Source{"dead-letters.js", kScript,                 dead_letters_js},
  Source{"keys.js",      kScript,                    keys_js},
  Source{"preact.js",    kScript,                    vendor_preact_js},
  Source{"hooks.js",     kScript,                    vendor_hooks_js},
  Source{"htm.js",       kScript,                    vendor_htm_js},
  Source{"uplot.js",     kScript,                    vendor_uplot_js},
  Source{"uplot.css",    kStyle,                     vendor_uplot_css},
};
// clang-format on

std::string gzip(std::string_view body) {
  z_stream stream{};
  // 15 + 16: a gzip header and trailer around the deflate stream, as Content-Encoding wants.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("zlib: deflateInit2 failed");
  std::string out(deflateBound(&stream, body.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) throw std::runtime_error("zlib: deflate did not finish");
  out.resize(stream.total_out);
  return out;
}

// FNV-1a, 64 bits: a validator, not a security measure.
std::string etag_of(std::string_view body) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : body) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag = "\"";
  for (int shift = 60; shift >= 0; shift -= 4)
    tag.push_back(kHex[(hash >> shift) & 0xF]);
  tag.push_back('"');
  return tag;
}

struct Table {
  std::vector<std::string> gzipped, etags;
  std::vector<Asset> assets;

  Table() {
    gzipped.reserve(kSources.size());
    etags.reserve(kSources.size());
    assets.reserve(kSources.size());
    for (const auto& source : kSources) {
      const std::string_view body = source.body();
      gzipped.push_back(gzip(body));
      etags.push_back(etag_of(body));
      assets.push_back(Asset{source.name, source.content_type, body, gzipped.back(), etags.back()});
    }
  }
};

const Table& table() {
  static const Table instance;
  return instance;
}

}  // namespace

std::span<const Asset> assets() {
  return table().assets;
}

const Asset* find_asset(std::string_view name) {
  for (const auto& asset : table().assets)
    if (asset.name == name) return &asset;
  return nullptr;
}

const Asset& shell() {
  return *find_asset("index.html");
}

}  // namespace logpipe::ui
