// The web UI under /ui: the page (one for every address under /ui; its script routes) and its
// files. They are embedded (src/ui) and answered gzipped to browsers that take it, with an ETag
// so a reload revalidates instead of downloading again.
#include <string>

#include "api/handlers.hpp"
#include "ui/ui.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::field;
using http::bhttp::status;

void answer_asset(const ui::Asset& asset, const http::Request& req, const http::Reply& reply) {
  const bool unchanged = header_value(req, field::if_none_match) == asset.etag;
  http::Response response{unchanged ? status::not_modified : status::ok, req.version()};
  response.set(field::content_type, asset.content_type);
  response.set(field::etag, asset.etag);
  // Names are not versioned: every load revalidates, and a 304 costs a round trip, not a file.
  response.set(field::cache_control, "no-cache");
  response.set(field::vary, "Accept-Encoding");
  response.keep_alive(req.keep_alive());
  if (!unchanged) {
    if (http::accepts_gzip(header_value(req, field::accept_encoding))) {
      response.set(field::content_encoding, "gzip");
      response.body() = std::string(asset.gzipped);
    } else {
      response.body() = std::string(asset.body);
    }
  }
  response.prepare_payload();
  reply(std::move(response));
}

}  // namespace

void ui_page(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  answer_asset(ui::shell(), req, reply);
}

void ui_asset(Context&, http::Request& req, http::RequestContext& rc, const http::Reply& reply) {
  const auto* asset = ui::find_asset(rc.param("file"));
  if (asset == nullptr)
    return reply(http::error_response(
        req, core::make_error(core::Errc::not_found,
                              "no such file of the web UI: " + std::string(rc.param("file")))));
  answer_asset(*asset, req, reply);
}

bool wants_html(const http::Request& req) {
  const auto accept = header_value(req, field::accept);
  return accept.find("text/html") != std::string::npos;
}

}  // namespace logpipe::api
