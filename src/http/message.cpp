#include "http/message.hpp"

#include <algorithm>
#include <cstdint>

#include "core/comma_list.hpp"
#include "core/json_writer.hpp"

namespace logpipe::http {
namespace {

// message::keep_alive() for a bare header (HTTP/1.1 persists unless "close"; 1.0 only with
// "keep-alive").
bool keep_alive(const RequestHead& head) {
  bool close = false, keep = false;
  for (auto token : bhttp::token_list(head[bhttp::field::connection])) {
    if (boost::beast::iequals(token, std::string_view("close"))) close = true;
    if (boost::beast::iequals(token, std::string_view("keep-alive"))) keep = true;
  }
  return head.version() >= 11 ? !close : keep && !close;
}

}  // namespace

std::string_view RequestContext::param(std::string_view name) const {
  for (const auto& [key, value] : params) {
    if (key == name) return value;
  }
  return {};
}

Response json_response(const RequestHead& request, bhttp::status status, std::string body) {
  Response response{status, request.version()};
  response.set(bhttp::field::content_type, "application/json");
  response.keep_alive(keep_alive(request));
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

std::string error_body(std::string_view code, std::string_view message,
                       const std::vector<core::ErrorDetail>& details) {
  core::JsonWriter w;
  w.begin_object().key("error").begin_object();
  w.field("code", code).field("message", message);
  // Always present so clients can iterate without checking for the key.
  w.key("details").begin_array();
  for (const auto& d : details) {
    w.begin_object();
    if (d.index >= 0) w.field("index", static_cast<std::int64_t>(d.index));
    w.field("field", d.field).field("message", d.message);
    w.end_object();
  }
  w.end_array().end_object().end_object();
  return w.take();
}

Response error_response(const RequestHead& request, bhttp::status status, std::string_view code,
                        std::string_view message, const std::vector<core::ErrorDetail>& details) {
  return json_response(request, status, error_body(code, message, details));
}

Response error_response(const RequestHead& request, const core::Error& error) {
  Response response = error_response(request, bhttp::int_to_status(core::http_status(error.code)),
                                     core::to_string(error.code), error.message, error.details);
  set_retry_after(response, error);
  return response;
}

void set_retry_after(Response& response, const core::Error& error) {
  // A dependency is usually back quickly; tell clients to retry soon rather than give up.
  if (error.code == core::Errc::unavailable || error.code == core::Errc::overloaded ||
      error.code == core::Errc::rate_limited)
    response.set(bhttp::field::retry_after,
                 std::to_string(std::max(1U, error.retry_after_seconds)));
}

bool accepts_gzip(std::string_view accept_encoding) {
  for (const auto entry : core::comma_list(accept_encoding)) {
    const auto semicolon = entry.find(';');
    const auto coding = core::trim_ows(entry.substr(0, semicolon));
    if (coding != "gzip" && coding != "x-gzip" && coding != "*") continue;
    if (semicolon == std::string_view::npos) return true;
    std::string_view weight = core::trim_ows(entry.substr(semicolon + 1));
    if (!weight.starts_with("q=")) return true;
    weight.remove_prefix(2);
    return weight.find_first_not_of("0.") != std::string_view::npos;  // not q=0, q=0.0, q=0.000
  }
  return false;
}

}  // namespace logpipe::http
