// Request bodies that must be one JSON object: malformed JSON is a 400, anything else a 422.
#pragma once

#include <simdjson.h>

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace logpipe::api {

// Parses `body` with `parser` (which owns the result).
core::Result<simdjson::dom::object> json_object_body(simdjson::dom::parser& parser,
                                                     const std::string& body);

// A 422 naming the body's field: "<field> <message>", with the field in its details.
core::Error field_error(std::string_view field, std::string message);

}  // namespace logpipe::api
