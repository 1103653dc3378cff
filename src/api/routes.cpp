// The route table: every endpoint once, with what it needs (scope, body limit). The router, the
// `/` endpoint list and the OpenAPI test all read this table.
#include <fmt/format.h>

#include <array>

#include "api/handlers.hpp"
#include "core/json_writer.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::verb;
using model::Scope;

constexpr std::size_t kOneLogBytes = std::size_t{1} << 20;  // one record: no need for 10 MiB

struct Endpoint {
  verb method;
  const char* path;
  const char* summary;
  Scope scope;
  HandlerFn handler;
  std::size_t max_body_bytes = 0;  // 0: the server's limit
};

// clang-format off
const std::array kEndpoints = {
  Endpoint{verb::get,  "/",                      "This service and its endpoints",                   Scope::none,   service_info},
  Endpoint{verb::get,  "/health",                "Health of this instance and its dependencies",      Scope::none,   health},
  Endpoint{verb::get,  "/health/ready",          "Readiness: can this instance take ingest",          Scope::none,   readiness},
  Endpoint{verb::get,  "/health/live",           "Liveness: the process answers",                     Scope::none,   liveness},
  Endpoint{verb::post, "/api/v1/ingest",         "Ingest JSON, a JSON array or NDJSON",               Scope::ingest, ingest},
  Endpoint{verb::post, "/api/log",               "Ingest one log",                                    Scope::ingest, ingest_one_log, kOneLogBytes},
  Endpoint{verb::post, "/api/logs/batch",        "Ingest 1-1000 logs as {\"logs\":[...]}",           Scope::ingest, ingest_log_batch},
  Endpoint{verb::post, "/data/fast",             "Seed 001: ingest like /api/v1/ingest (queued)",     Scope::ingest, ingest_data_fast},
  Endpoint{verb::post, "/gelf",                  "Graylog GELF HTTP input: GELF 1.1 messages, one per line", Scope::ingest, ingest_gelf},
  Endpoint{verb::post, "/data/",                 "Seed 001: store in PostgreSQL before answering, with the ids", Scope::ingest, ingest_data_stored},
  Endpoint{verb::post, "/loki/api/v1/push",      "Loki push API: snappy protobuf or JSON streams (Promtail, Alloy)", Scope::ingest, loki_push},
  Endpoint{verb::post, "/v1/logs",               "OTLP/HTTP logs: protobuf or JSON (OpenTelemetry SDKs, Collector)", Scope::ingest, otlp_logs},
  Endpoint{verb::get,  "/api/v1/logs",           "Search logs: filters, time range, text, attrs; keyset pages", Scope::query, search_logs},
  Endpoint{verb::get,  "/api/v1/logs/filter",    "Alias of /api/v1/logs with start_time/end_time for from/to", Scope::query, filter_logs},
  Endpoint{verb::get,  "/api/v1/logs/export",    "Every log the search's filters match, as an NDJSON or CSV file (streamed)", Scope::query, export_logs},
  Endpoint{verb::delete_, "/api/v1/logs",        "Delete the oldest logs matching filters (bounded)",  Scope::admin,  delete_logs},
  Endpoint{verb::get,  "/api/v1/logs/{id}",      "One log by id",                                     Scope::query,  get_log},
  Endpoint{verb::delete_, "/api/v1/logs/{id}",   "Delete one log",                                    Scope::admin,  delete_log},
  Endpoint{verb::get,  "/api/logs/{device_id}",  "A device's newest logs",                            Scope::query,  device_logs},
  Endpoint{verb::get,  "/api/v1/stats",          "Counts by level, service, app; recent devices; histogram", Scope::query, stats},
  Endpoint{verb::get,  "/api/stats",             "Alias of /api/v1/stats",                            Scope::query,  stats},
  Endpoint{verb::get,  "/api/v1/devices",        "Devices: first and last seen, log count",           Scope::query,  list_devices},
  Endpoint{verb::get,  "/api/v1/services",       "Services and their log counts",                     Scope::query,  list_services},
  Endpoint{verb::get,  "/api/v1/apps",           "Apps",                                              Scope::query,  list_apps},
  Endpoint{verb::post, "/api/v1/apps",           "Register an app",                                   Scope::admin,  create_app, kOneLogBytes},
  Endpoint{verb::get,  "/api/v1/apps/{name}",    "One app",                                           Scope::query,  get_app},
  Endpoint{verb::put,  "/api/v1/apps/{name}",    "Change an app's description",                       Scope::admin,  update_app, kOneLogBytes},
  Endpoint{verb::delete_, "/api/v1/apps/{name}", "Delete an app and all its logs",                    Scope::admin,  delete_app},
  Endpoint{verb::get,  "/api/v1/queue",          "Stream length, pending, lag, consumers, DLQ size",  Scope::admin,  queue_status},
  Endpoint{verb::get,  "/queue/status",          "Alias of /api/v1/queue",                            Scope::admin,  queue_status},
  Endpoint{verb::get,  "/api/v1/dlq",            "Dead-letter entries, oldest first",                 Scope::admin,  dlq_list},
  Endpoint{verb::delete_, "/api/v1/dlq/{id}",   "Delete a dead-letter entry for good",               Scope::admin,  dlq_delete},
  Endpoint{verb::post, "/api/v1/dlq/replay",     "Move dead-letter entries back into the stream",     Scope::admin,  dlq_replay},
  Endpoint{verb::get,  "/metrics",               "Prometheus metrics",                                Scope::none,   metrics_text},
  Endpoint{verb::get,  "/openapi.json",          "This API as an OpenAPI 3 document",                 Scope::none,   openapi},
  Endpoint{verb::get,  "/docs",                  "This API, browsable (from /openapi.json)",          Scope::none,   docs},
};
// clang-format on

http::RouteSpec spec_of(const Endpoint& e) {
  return {e.method, e.path, e.summary, e.scope, e.max_body_bytes, false};
}

// auth = "none": every request acts for the default tenant. The security issue replaces this with
// a key lookup; nothing else changes, since handlers read the tenant only from the principal.
std::optional<http::Response> set_principal(const http::RequestHead&, http::RequestContext& rc) {
  rc.principal = model::Principal::unauthenticated();
  return std::nullopt;
}

std::optional<http::Response> require_scope(const http::RequestHead& head,
                                            http::RequestContext& rc) {
  const Scope needed = rc.route->scope;
  if (needed == Scope::none || model::includes(rc.principal.scopes, needed)) return std::nullopt;
  return http::error_response(
      head, http::bhttp::status::forbidden, "forbidden",
      fmt::format("this endpoint needs the \"{}\" scope", model::to_string(needed)));
}

}  // namespace

std::vector<http::RouteSpec> route_specs() {
  std::vector<http::RouteSpec> specs;
  specs.reserve(kEndpoints.size());
  for (const auto& e : kEndpoints)
    specs.push_back(spec_of(e));
  return specs;
}

void write_endpoint_list(core::JsonWriter& w) {
  w.begin_object();
  for (const auto& e : kEndpoints)
    w.field(fmt::format("{} {}", http::bhttp::to_string(e.method), e.path), e.summary);
  w.end_object();
}

void register_routes(http::Router& router, Context& ctx) {
  router.use(set_principal);
  router.use(require_scope);
  // Backpressure and (later) quotas refuse an ingest request on its headers, before its body is
  // read or parsed.
  router.use([&ctx](const http::RequestHead& head,
                    http::RequestContext& rc) -> std::optional<http::Response> {
    if (rc.route->scope != Scope::ingest) return std::nullopt;
    if (auto admitted = ctx.intake.admit(rc.principal); !admitted)
      return http::error_response(head, admitted.error());
    return std::nullopt;
  });
  for (const auto& e : kEndpoints) {
    router.add(spec_of(e), [&ctx, handler = e.handler](
                               http::Request& request, http::RequestContext& rc,
                               const http::Reply& reply) { handler(ctx, request, rc, reply); });
  }
}

}  // namespace logpipe::api
