// Request/response types shared by the server, the router and the API handlers.
#pragma once

#include <boost/beast/http.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace logpipe::http {

namespace bhttp = boost::beast::http;

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// Completes a request. Call exactly once, from any thread; the server writes the response on
// the connection's strand.
using Reply = std::function<void(Response&&)>;

using PathParams = std::vector<std::pair<std::string, std::string>>;

// A JSON response with Content-Type application/json and the request's version/keep-alive.
Response json_response(const Request& request, bhttp::status status, std::string body);

// DESIGN.md §5 error body: {"error":{"code":…,"message":…,"details":[{"index","field","message"}]}}
std::string error_body(std::string_view code, std::string_view message,
                       const std::vector<core::ErrorDetail>& details = {});
Response error_response(const Request& request, bhttp::status status, std::string_view code,
                        std::string_view message,
                        const std::vector<core::ErrorDetail>& details = {});

// Maps an Error's code to its HTTP status and error code string (malformed → 400 "malformed",
// invalid_field → 422 "invalid_field", too_large → 413, unsupported → 415, not_found → 404,
// unavailable → 503 with Retry-After, anything else → 500 "internal").
Response error_response(const Request& request, const core::Error& error);

}  // namespace logpipe::http
