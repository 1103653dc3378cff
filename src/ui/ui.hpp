// The web UI's files (src/ui/web and the vendored libraries in src/ui/vendor), compiled into the
// binary like the migrations and the OpenAPI document: a browser needs nothing but logpipe.
// The api module serves them under /ui (ui_routes.cpp); this module only holds them.
#pragma once

#include <span>
#include <string_view>

namespace logpipe::ui {

struct Asset {
  std::string_view name;          // as served under /ui/assets/, e.g. "explore.js"
  std::string_view content_type;  // with its charset
  std::string_view body;
  std::string_view gzipped;  // body as gzip (RFC 1952), compressed once at start-up
  std::string_view etag;     // a strong validator of body, quoted as ETag wants it
};

// Every file under /ui/assets/, in the one registration list of assets.cpp.
std::span<const Asset> assets();
// The asset named `name`, or null.
const Asset* find_asset(std::string_view name);
// The page every /ui address loads: the script routes by the address (history API), so a shared
// search link opens where it was made.
const Asset& shell();

}  // namespace logpipe::ui
