// What a WebSocket tail client may send on its open connection: a new filter,
//   {"filter":{"service":"api","min_level":"warn","attrs.region":"eu","level":["ERROR","FATAL"]}}
// with the query string's parameter names and meanings (query::parse_log_filter); a value is a
// string, a number or boolean (its JSON text: "attrs.code":500), or an array of those (the
// parameter repeated). {"filter":{}} follows every record of the tenant. Untrusted input: fuzzed.
#pragma once

#include <string_view>

#include "core/result.hpp"
#include "query/logs.hpp"

namespace logpipe::tail {

// Errc::invalid_json for text that is not such a message (naming what is wrong), or the 422 of
// query::parse_log_filter naming the parameter.
core::Result<query::LogFilter> parse_filter_message(std::string_view text, model::TenantId tenant,
                                                    core::Micros now);

}  // namespace logpipe::tail
