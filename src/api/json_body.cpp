#include "api/json_body.hpp"

#include <fmt/format.h>

namespace logpipe::api {

core::Result<simdjson::dom::object> json_object_body(simdjson::dom::parser& parser,
                                                     const std::string& body) {
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) != simdjson::SUCCESS)
    return core::make_error(core::Errc::malformed, "malformed JSON");
  simdjson::dom::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS)
    return core::make_error(core::Errc::invalid_field, "body must be a JSON object");
  return object;
}

core::Error field_error(std::string_view field, std::string message) {
  std::string summary = fmt::format("{} {}", field, message);
  return core::Error(core::Errc::invalid_field, std::move(summary),
                     {{-1, std::string(field), std::move(message)}});
}

}  // namespace logpipe::api
