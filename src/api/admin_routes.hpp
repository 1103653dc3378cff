// Operator endpoints beside the ingest and query API: the dead-letter stream.
#pragma once

#include "api/api.hpp"

namespace logpipe::api {

// GET /api/v1/dlq?limit= and POST /api/v1/dlq/replay.
void register_dlq_routes(http::Router& router, Context& context);

}  // namespace logpipe::api
