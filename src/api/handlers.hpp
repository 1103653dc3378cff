// Inside the API (not its contract): one handler per feature, each registered once in the route
// table (routes.cpp).
#pragma once

#include "api/api.hpp"
#include "core/json_writer.hpp"

namespace logpipe::api {

using HandlerFn = void (*)(Context& context, http::Request& request,
                           http::RequestContext& request_context, const http::Reply& reply);

// health_routes.cpp
void service_info(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void health(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void readiness(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void liveness(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void metrics_text(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void openapi(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void docs(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// The browsable API page served at /docs (docs.html, embedded at build time).
std::string_view docs_page();

// ingest_routes.cpp
void ingest_one_log(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void ingest_log_batch(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void ingest(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// query_routes.cpp
void device_logs(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void search_logs(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void filter_logs(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void queue_status(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// admin_routes.cpp
void dlq_list(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void dlq_replay(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void dlq_delete(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// The endpoint list of GET / (from the route table): {"METHOD /path": "summary", …}.
void write_endpoint_list(core::JsonWriter& writer);

}  // namespace logpipe::api
