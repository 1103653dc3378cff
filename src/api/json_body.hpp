// Request bodies that must be one JSON object: malformed JSON is a 400, anything else a 422.
#pragma once

#include <simdjson.h>

#include <string>

#include "core/result.hpp"

namespace logpipe::api {

// Parses `body` with `parser` (which owns the result).
core::Result<simdjson::dom::object> json_object_body(simdjson::dom::parser& parser,
                                                     const std::string& body);

}  // namespace logpipe::api
