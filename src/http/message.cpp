#include "http/message.hpp"

#include <cstdint>

#include "core/json_writer.hpp"

namespace logpipe::http {
namespace {

struct ErrorMapping {
  bhttp::status status;
  std::string_view code;
};

ErrorMapping map_error(core::Errc code) {
  using core::Errc;
  switch (code) {
    case Errc::malformed:
      return {bhttp::status::bad_request, "malformed"};
    case Errc::invalid_field:
      return {bhttp::status::unprocessable_entity, "invalid_field"};
    case Errc::too_large:
      return {bhttp::status::payload_too_large, "too_large"};
    case Errc::unsupported:
      return {bhttp::status::unsupported_media_type, "unsupported_media_type"};
    case Errc::not_found:
      return {bhttp::status::not_found, "not_found"};
    case Errc::unavailable:
      return {bhttp::status::service_unavailable, "unavailable"};
    case Errc::overloaded:
      return {bhttp::status::too_many_requests, "overloaded"};
    case Errc::timeout:
      return {bhttp::status::gateway_timeout, "timeout"};
    case Errc::invalid_argument:
      return {bhttp::status::bad_request, "invalid_argument"};
    case Errc::io:
    case Errc::internal:
      break;
  }
  return {bhttp::status::internal_server_error, "internal"};
}

}  // namespace

Response json_response(const Request& request, bhttp::status status, std::string body) {
  Response response{status, request.version()};
  response.set(bhttp::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
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

Response error_response(const Request& request, bhttp::status status, std::string_view code,
                        std::string_view message, const std::vector<core::ErrorDetail>& details) {
  return json_response(request, status, error_body(code, message, details));
}

Response error_response(const Request& request, const core::Error& error) {
  const ErrorMapping m = map_error(error.code);
  Response response = error_response(request, m.status, m.code, error.message, error.details);
  // The dependency is usually back quickly; tell clients to retry soon rather than give up.
  if (error.code == core::Errc::unavailable || error.code == core::Errc::overloaded)
    response.set(bhttp::field::retry_after, "1");
  return response;
}

}  // namespace logpipe::http
