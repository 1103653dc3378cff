// The route table: every endpoint once, with what it needs (scope, body limit). The router, the
// `/` endpoint list and the OpenAPI test all read this table.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <variant>

#include "api/handlers.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "ui/ui.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::verb;
using model::Scope;

constexpr std::size_t kOneLogBytes = std::size_t{1} << 20;  // one record: no need for 10 MiB

// Which protocol an endpoint speaks: its refusals (scope, backpressure) take that protocol's
// error shape, and the Elasticsearch paths move with the es_prefix setting (the RouteSpec's tag).
enum class Protocol : unsigned { logpipe, elasticsearch, splunk };
constexpr auto kEs = Protocol::elasticsearch;
constexpr auto kHec = Protocol::splunk;
// The Elasticsearch paths are written under the default es_prefix; register_routes moves them.
constexpr std::string_view kDefaultEsPrefix = "/es";

struct Endpoint {
  verb method;
  const char* path;
  const char* summary;
  Scope scope;
  // An HTTP handler, or a WebSocket endpoint's (an upgrade route: RouteSpec::websocket).
  std::variant<HandlerFn, WebSocketFn> handler;
  std::size_t max_body_bytes = 0;  // 0: the server's limit
  Protocol protocol = Protocol::logpipe;
  bool keyless = false;  // answered without a key under auth = "keys" (RouteSpec::keyless)
};

// clang-format off
const std::array kEndpoints = {
  Endpoint{verb::get,  "/",                      "This service and its endpoints",                   Scope::none,   service_info},
  Endpoint{verb::get,  "/health",                "Health of this instance and its dependencies",      Scope::none,   health},
  Endpoint{verb::get,  "/health/ready",          "Readiness: can this instance take ingest",          Scope::none,   readiness},
  Endpoint{verb::get,  "/health/live",           "Liveness: the process answers (no key needed)",     Scope::none,   liveness, 0, Protocol::logpipe, true},
  Endpoint{verb::post, "/api/v1/ingest",         "Ingest JSON, a JSON array or NDJSON",               Scope::ingest, ingest},
  Endpoint{verb::post, "/api/v1/ingest/raw",     "Ingest text, one log per line: auto-detected or a named line format", Scope::ingest, ingest_raw},
  Endpoint{verb::post, "/parse/auto",            "Alias of /api/v1/ingest/raw (format=auto by default)", Scope::ingest, ingest_raw},
  Endpoint{verb::post, "/api/log",               "Ingest one log",                                    Scope::ingest, ingest_one_log, kOneLogBytes},
  Endpoint{verb::post, "/api/logs/batch",        "Ingest 1-1000 logs as {\"logs\":[...]}",           Scope::ingest, ingest_log_batch},
  Endpoint{verb::post, "/data/fast",             "Seed 001: ingest like /api/v1/ingest (queued)",     Scope::ingest, ingest_data_fast},
  Endpoint{verb::post, "/gelf",                  "Graylog GELF HTTP input: GELF 1.1 messages, one per line", Scope::ingest, ingest_gelf},
  Endpoint{verb::post, "/data/",                 "Seed 001: store in PostgreSQL before answering, with the ids", Scope::ingest, ingest_data_stored},
  Endpoint{verb::post, "/loki/api/v1/push",      "Loki push API: snappy protobuf or JSON streams (Promtail, Alloy)", Scope::ingest, loki_push},
  Endpoint{verb::post, "/v1/logs",               "OTLP/HTTP logs: protobuf or JSON (OpenTelemetry SDKs, Collector)", Scope::ingest, otlp_logs},
  Endpoint{verb::get,  "/api/v1/logs",           "Search logs: filters, time range, text, attrs; keyset pages", Scope::query, search_logs},
  Endpoint{verb::get,  "/api/v1/logs/filter",    "Alias of /api/v1/logs with start_time/end_time for from/to", Scope::query, filter_logs},
  Endpoint{verb::get,  "/api/v1/tail",           "Live tail: new logs matching filters, as Server-Sent Events", Scope::query, tail_events},
  Endpoint{verb::get,  "/ws/logs",               "Live tail over a WebSocket: new logs matching filters; the filter can change", Scope::query, tail_websocket},
  Endpoint{verb::get,  "/api/v1/logs/histogram", "Counts of the logs the search's filters match per time bucket, by level", Scope::query, logs_histogram},
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
  Endpoint{verb::get,  "/api/v1/queue",          "Stream length, pending, lag, consumers, DLQ size (the operator's)", Scope::admin, queue_status},
  Endpoint{verb::get,  "/queue/status",          "Alias of /api/v1/queue (the operator's)",          Scope::admin,  queue_status},
  Endpoint{verb::get,  "/api/v1/dlq",            "Dead-letter entries of this tenant (every tenant's for the operator), oldest first", Scope::admin, dlq_list},
  Endpoint{verb::delete_, "/api/v1/dlq/{id}",   "Delete a dead-letter entry of this tenant for good", Scope::admin,  dlq_delete},
  Endpoint{verb::post, "/api/v1/dlq/replay",     "Move this tenant's dead-letter entries back into the stream", Scope::admin, dlq_replay},
  Endpoint{verb::get,  "/api/v1/keys",           "API keys of this tenant (every tenant's for the operator), never the keys themselves", Scope::admin, list_keys},
  Endpoint{verb::post, "/api/v1/keys",           "Create an API key: the answer is the only time the key is shown", Scope::admin, create_key, kOneLogBytes},
  Endpoint{verb::delete_, "/api/v1/keys/{id}",   "Revoke an API key",                                 Scope::admin,  revoke_key},
  Endpoint{verb::get,  "/api/v1/tenants",        "Tenants (the operator's)",                          Scope::admin,  list_tenants},
  Endpoint{verb::post, "/api/v1/tenants",        "Create a tenant with its quotas and retention (the operator's)", Scope::admin, create_tenant, kOneLogBytes},
  Endpoint{verb::get,  "/api/v1/audit",          "The audit log of this tenant: deletes, DLQ changes, keys; newest first", Scope::admin, list_audit},
  Endpoint{verb::get,  "/api/v1/alerts/rules",   "Alert rules of this tenant",                        Scope::query,  list_alert_rules},
  Endpoint{verb::post, "/api/v1/alerts/rules",   "Create an alert rule: the answer is the only time its secret is shown", Scope::admin, create_alert_rule, kOneLogBytes},
  Endpoint{verb::get,  "/api/v1/alerts/rules/{id}", "One alert rule (without its secret)",            Scope::query,  get_alert_rule},
  Endpoint{verb::put,  "/api/v1/alerts/rules/{id}", "Replace an alert rule",                          Scope::admin,  update_alert_rule, kOneLogBytes},
  Endpoint{verb::delete_, "/api/v1/alerts/rules/{id}", "Delete an alert rule (its history stays)",   Scope::admin,  delete_alert_rule},
  Endpoint{verb::get,  "/api/v1/alerts/events",  "Alert history: episodes newest first, with their deliveries", Scope::query, list_alert_events},
  Endpoint{verb::get,  "/es",                    "Elasticsearch: version probe (the clients' product check)", Scope::none, es_info, 0, kEs},
  Endpoint{verb::head, "/es",                    "Elasticsearch: ping",                               Scope::none,   es_ping, 0, kEs},
  Endpoint{verb::post, "/es/_bulk",              "Elasticsearch _bulk: NDJSON action/document pairs, answered per item", Scope::ingest, es_bulk, 0, kEs},
  Endpoint{verb::post, "/es/{index}/_bulk",      "Elasticsearch _bulk with a default index (the app)", Scope::ingest, es_bulk, 0, kEs},
  Endpoint{verb::get,  "/es/_license",           "Elasticsearch: license (basic, active)",            Scope::none,   es_license, 0, kEs},
  Endpoint{verb::get,  "/es/_xpack",             "Elasticsearch: X-Pack info (basic, no features)",   Scope::none,   es_xpack, 0, kEs},
  Endpoint{verb::get,  "/es/_cluster/health",    "Elasticsearch: cluster health (green)",             Scope::none,   es_cluster_health, 0, kEs},
  Endpoint{verb::post, "/es/_refresh",           "Elasticsearch: refresh (nothing to do)",            Scope::ingest,   es_refresh, 0, kEs},
  Endpoint{verb::get,  "/es/_refresh",           "Elasticsearch: refresh (nothing to do)",            Scope::none,   es_refresh, 0, kEs},
  Endpoint{verb::post, "/es/{index}/_refresh",   "Elasticsearch: refresh an index (nothing to do)",   Scope::ingest,   es_refresh, 0, kEs},
  Endpoint{verb::get,  "/es/{index}/_refresh",   "Elasticsearch: refresh an index (nothing to do)",   Scope::none,   es_refresh, 0, kEs},
  Endpoint{verb::put,  "/es/_index_template/{name}", "Elasticsearch: index template upload (accepted, ignored)", Scope::ingest, es_acknowledge, kOneLogBytes, kEs},
  Endpoint{verb::put,  "/es/_ilm/policy/{name}", "Elasticsearch: ILM policy upload (accepted, ignored)", Scope::ingest, es_acknowledge, kOneLogBytes, kEs},
  Endpoint{verb::post, "/services/collector/event", "Splunk HEC: events (JSON objects one after another)", Scope::ingest, hec_event, 0, kHec},
  Endpoint{verb::post, "/services/collector/event/1.0", "Alias of /services/collector/event",      Scope::ingest, hec_event, 0, kHec},
  Endpoint{verb::post, "/services/collector",    "Alias of /services/collector/event",                Scope::ingest, hec_event, 0, kHec},
  Endpoint{verb::post, "/services/collector/raw", "Splunk HEC: one log per line",                     Scope::ingest, hec_raw, 0, kHec},
  Endpoint{verb::post, "/services/collector/raw/1.0", "Alias of /services/collector/raw",             Scope::ingest, hec_raw, 0, kHec},
  Endpoint{verb::get,  "/services/collector/health", "Splunk HEC: health",                            Scope::none,   hec_health, 0, kHec},
  Endpoint{verb::get,  "/services/collector/health/1.0", "Alias of /services/collector/health",       Scope::none,   hec_health, 0, kHec},
  Endpoint{verb::get,  "/metrics",               "Prometheus metrics",                                Scope::none,   metrics_text},
  Endpoint{verb::get,  "/openapi.json",          "This API as an OpenAPI 3 document",                 Scope::none,   openapi},
  Endpoint{verb::get,  "/docs",                  "This API, browsable (from /openapi.json)",          Scope::none,   docs},
  Endpoint{verb::get,  "/docs.js",               "The /docs page's script",                           Scope::none,   docs_script},
  Endpoint{verb::get,  "/docs.css",              "The /docs page's style",                            Scope::none,   docs_style},
  Endpoint{verb::get,  "/ui",                    "The web UI (its page asks for a key when the server wants one)", Scope::none, ui_page, 0, Protocol::logpipe, true},
  Endpoint{verb::get,  "/ui/{page}",             "A page of the web UI (explore, tail, ...; the script routes)", Scope::none, ui_page, 0, Protocol::logpipe, true},
  Endpoint{verb::get,  "/ui/assets/{file}",      "The web UI's scripts, styles and libraries (embedded)", Scope::none, ui_asset, 0, Protocol::logpipe, true},
};
// clang-format on

// The endpoint's path, with an Elasticsearch path moved under `es_prefix` ("" for the root).
std::string path_of(const Endpoint& e, std::string_view es_prefix) {
  if (e.protocol != Protocol::elasticsearch) return e.path;
  std::string path = std::string(es_prefix) + (e.path + kDefaultEsPrefix.size());
  return path.empty() ? "/" : path;
}

http::RouteSpec spec_of(const Endpoint& e, std::string_view es_prefix = kDefaultEsPrefix) {
  return {e.method,
          path_of(e, es_prefix),
          e.summary,
          e.scope,
          e.max_body_bytes,
          std::holds_alternative<WebSocketFn>(e.handler),
          static_cast<unsigned>(e.protocol),
          e.keyless};
}

// A refusal in the protocol of the route: its clients read only their own error shape.
http::Response refusal(const http::RequestHead& head, const http::RequestContext& rc,
                       const core::Error& error) {
  switch (static_cast<Protocol>(rc.route->tag)) {
    case Protocol::elasticsearch:
      return es_error_response(head, error);
    case Protocol::splunk:
      return hec_error_response(head, error);
    case Protocol::logpipe:
      break;
  }
  return http::error_response(head, error);
}

// The bucket of a client without a key: its address, an IPv6 client by its /64 (one host usually
// holds a whole /64, so per address would be no limit at all). An IPv4-mapped address is IPv4.
std::string client_bucket(const std::string& peer) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(peer, ec);
  if (ec || !address.is_v6()) return peer;
  auto v6 = address.to_v6();
  if (v6.is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

// Who the request acts for. auth = "none": the default tenant with every scope. auth = "keys":
// the key's tenant, scopes and limits, from whichever header the client's protocol carries it in
// (auth::key_from_headers); a route marked keyless is answered without one. Decided on the head:
// a refused request's body is never read.
std::optional<http::Response> authenticate(Context& ctx, const http::RequestHead& head,
                                           http::RequestContext& rc) {
  if (ctx.authenticator == nullptr) {
    rc.principal = model::Principal::unauthenticated();
    return std::nullopt;
  }
  rc.principal = model::Principal{};
  rc.principal.scopes = Scope::none;
  if (rc.route->keyless) return std::nullopt;
  if (ctx.metrics_open && rc.route->pattern == "/metrics") return std::nullopt;
  const auto refuse = [&](std::string_view reason, core::Error error) {
    // Keys cannot be guessed (256 random bits), but a client trying is still held back, and a
    // misconfigured one retrying in a loop is told to wait: past its address's allowance of
    // failed authentications it gets 429 with Retry-After instead of 401.
    if (error.code == core::Errc::unauthenticated && ctx.ip_auth_failures_per_second != 0) {
      if (auto allowed =
              ctx.ip_auth_failures.take(client_bucket(rc.peer), ctx.ip_auth_failures_per_second);
          !allowed) {
        ctx.metrics.rate_limited("ip_auth_failures");
        return refusal(head, rc, allowed.error());
      }
    }
    ctx.metrics.auth_failure(reason);
    auto response = refusal(head, rc, error);
    if (error.code == core::Errc::unauthenticated)
      response.set(http::bhttp::field::www_authenticate, R"(Bearer realm="logpipe")");
    return response;
  };
  const auto header = [&head](auto name) {
    const auto v = head[name];
    return std::string_view(v.data(), v.size());
  };
  const bool websocket = rc.route && rc.route->websocket;
  auto key = auth::key_from_headers(header("X-API-Key"), header(http::bhttp::field::authorization));
  if (!key && websocket)
    key = auth::key_from_websocket_protocols(header(http::bhttp::field::sec_websocket_protocol));
  if (!key)
    return refuse("missing", core::make_error(
                                 core::Errc::unauthenticated,
                                 std::string("an API key is required: X-API-Key: <key> or "
                                             "Authorization: Bearer <key>") +
                                     (websocket ? ", or from a browser the WebSocket subprotocols "
                                                  "logpipe and logpipe.key.<key>"
                                                : "") +
                                     " (see logpipe keys create)"));
  auth::Authenticator::Refusal why{};
  auto principal = ctx.authenticator->authenticate(*key, core::now_micros(), why);
  if (!principal) return refuse(auth::Authenticator::to_string(why), principal.error());
  // Loki's multi-tenancy header may only name the key's own tenant.
  if (const auto org = header("X-Scope-OrgID"); !org.empty() && org != principal->tenant_name)
    return refuse(
        "wrong_tenant",
        core::make_error(core::Errc::forbidden,
                         fmt::format("X-Scope-OrgID \"{}\" is not the key's tenant", org)));
  rc.principal = std::move(principal).value();
  return std::nullopt;
}

std::optional<http::Response> require_scope(const Context& ctx, const http::RequestHead& head,
                                            http::RequestContext& rc) {
  const Scope needed = rc.route->scope;
  if (needed == Scope::none || model::includes(rc.principal.scopes, needed)) return std::nullopt;
  ctx.metrics.auth_failure("scope");
  return refusal(
      head, rc,
      core::make_error(core::Errc::forbidden, fmt::format("this endpoint needs the \"{}\" scope",
                                                          model::to_string(needed))));
}

}  // namespace

// Requests per second, on the head (before the body is read): per key, or per client address for
// requests without one. /health/live is never limited: an orchestrator's probe must not fail
// because a neighbour behind the same address floods.
std::optional<http::Response> limit_requests(Context& ctx, const http::RequestHead& head,
                                             http::RequestContext& rc) {
  if (rc.route->pattern == "/health/live") return std::nullopt;
  core::Status allowed;
  const char* reason = nullptr;
  if (!rc.principal.key_id.empty()) {
    const std::uint32_t rate = rc.principal.requests_per_second != 0
                                   ? rc.principal.requests_per_second
                                   : ctx.key_requests_per_second;
    if (rate == 0) return std::nullopt;
    allowed = ctx.key_requests.take(rc.principal.key_id, rate);
    reason = "key_requests";
  } else {
    if (ctx.ip_requests_per_second == 0) return std::nullopt;
    allowed = ctx.ip_requests.take(client_bucket(rc.peer), ctx.ip_requests_per_second);
    reason = "ip_requests";
  }
  if (allowed) return std::nullopt;
  ctx.metrics.rate_limited(reason);
  if (rc.route->scope == Scope::ingest) ctx.metrics.ingest_rejected("rate_limited");
  return refusal(head, rc, allowed.error());
}

std::vector<http::RouteSpec> route_specs() {
  std::vector<http::RouteSpec> specs;
  specs.reserve(kEndpoints.size());
  for (const auto& e : kEndpoints)
    specs.push_back(spec_of(e));
  return specs;
}

void write_endpoint_list(core::JsonWriter& w, std::string_view es_prefix) {
  w.begin_object();
  for (const auto& e : kEndpoints)
    w.field(fmt::format("{} {}", http::bhttp::to_string(e.method), path_of(e, es_prefix)),
            e.summary);
  w.end_object();
}

void register_routes(http::Router& router, Context& ctx) {
  ui::assets();  // compressed now, not on a first visitor's request
  router.use([&ctx](const http::RequestHead& head, http::RequestContext& rc) {
    return authenticate(ctx, head, rc);
  });
  router.use([&ctx](const http::RequestHead& head, http::RequestContext& rc) {
    return require_scope(ctx, head, rc);
  });
  router.use([&ctx](const http::RequestHead& head, http::RequestContext& rc) {
    return limit_requests(ctx, head, rc);
  });
  // Backpressure and a tenant's used-up daily quota refuse an ingest request on its headers,
  // before its body is read or parsed.
  router.use([&ctx](const http::RequestHead& head,
                    http::RequestContext& rc) -> std::optional<http::Response> {
    if (rc.route->scope != Scope::ingest) return std::nullopt;
    if (auto admitted = ctx.intake.admit(rc.principal); !admitted)
      return refusal(head, rc, admitted.error());
    return std::nullopt;
  });
  const auto add = [&](const http::RouteSpec& spec, std::variant<HandlerFn, WebSocketFn> fn) {
    if (const auto* handler = std::get_if<HandlerFn>(&fn)) {
      router.add(spec, [&ctx, handler = *handler](http::Request& request, http::RequestContext& rc,
                                                  const http::Reply& reply) {
        handler(ctx, request, rc, reply);
      });
      return;
    }
    router.add(spec, [&ctx, handler = std::get<WebSocketFn>(fn)](
                         std::shared_ptr<http::WebSocket> socket, const http::Request& request,
                         const http::RequestContext& rc) {
      handler(ctx, std::move(socket), request, rc);
    });
  };
  for (const auto& e : kEndpoints)
    add(spec_of(e, ctx.es_prefix), e.handler);
  // The official Elasticsearch clients refuse a reply without this header.
  router.add_response_header(ctx.es_prefix, "X-Elastic-Product", "Elasticsearch");
  if (ctx.es_at_root) {
    // The same endpoints at /; logpipe's own GET / answers the version probe then
    // (service_info), so that / stays one route. Every reply then carries the header.
    for (const auto& e : kEndpoints) {
      if (e.protocol != Protocol::elasticsearch) continue;
      if (e.method == verb::get && std::string_view(e.path) == kDefaultEsPrefix) continue;
      add(spec_of(e, ""), e.handler);
    }
    router.add_response_header("/", "X-Elastic-Product", "Elasticsearch");
  }
}

}  // namespace logpipe::api
