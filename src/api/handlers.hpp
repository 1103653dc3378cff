// Inside the API (not its contract): one handler per feature, each registered once in the route
// table (routes.cpp).
#pragma once

#include <boost/asio/post.hpp>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/api.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "store/audit.hpp"

namespace logpipe::api {

using HandlerFn = void (*)(Context& context, http::Request& request,
                           http::RequestContext& request_context, const http::Reply& reply);
// A WebSocket endpoint's handler: runs after the upgrade (http::WebSocketHandler).
using WebSocketFn = void (*)(Context& context, std::shared_ptr<http::WebSocket> socket,
                             const http::Request& request,
                             const http::RequestContext& request_context);

// The answer to a failed database read: an expected failure (404, 409, 422) answers as itself, a
// PostgreSQL outage is a 503; any other failure is logged as `what` and hidden behind a 500.
http::Response database_failure(const http::RequestHead& request, std::string_view what,
                                const core::Error& error);

// Runs `fetch` on a database connection off the io threads and answers with `render` of its
// result and `ok` status, or with database_failure().
template <class Fetch, class Render>
void answer_from_db(Context& ctx, http::Request& req, const http::Reply& reply,
                    std::string_view what, Fetch fetch, Render render,
                    http::bhttp::status ok = http::bhttp::status::ok) {
  boost::asio::post(ctx.db_threads, [&ctx, &req, reply, what, ok, fetch = std::move(fetch),
                                     render = std::move(render), token = ctx.in_flight.enter()] {
    auto result = ctx.db.with(fetch);
    if (result) return reply(http::json_response(req, ok, render(*result)));
    reply(database_failure(req, what, result.error()));
  });
}

// Sends `commands` to Redis in one pipelined write and calls `done` once, with every reply in
// order (an error where a command failed or the connection was lost). GET /api/v1/queue and
// /metrics read the queue this way.
using RedisReplies = std::vector<core::Result<queue::ReplyPtr>>;
void redis_round_trip(Context& context, const std::vector<std::vector<std::string>>& commands,
                      std::function<void(const RedisReplies&)> done);

// The operator: an admin key of the tenant `default` (or anyone under auth = "none"). It manages
// every tenant and their keys, sees every tenant's dead letters, and alone sees the shared
// pipeline (the queue).
bool is_operator(const model::Principal& principal);
// The 403 for a request only the operator may make; `what` names it ("listing tenants").
core::Error operator_only(std::string_view what);

// The audit row of the request's action (store/audit.hpp): who (the principal's tenant and key),
// from where (the peer's address) and which request (its X-Request-Id); `detail` a JSON object.
store::AuditEntry audit_entry(const http::RequestContext& request_context, std::string_view action,
                              std::string target = {}, std::string detail = "{}");

// Logs and counts (audit_write_failures_total) an audit row that could not be written.
void audit_write_failed(Context& context, const store::AuditEntry& entry, const core::Error& error);

// Runs `change()` and appends the audit row `describe(result)` in one transaction on `c`: no
// change without its row. When the row cannot be written, the change is rolled back and the
// request fails (logged and counted by audit_write_failed).
template <class Change, class Describe>
auto audited(Context& ctx, store::Connection& c, Change&& change, Describe&& describe)
    -> decltype(change()) {
  return store::in_transaction(c, [&]() -> decltype(change()) {
    auto result = change();
    if (!result) return result;
    const store::AuditEntry entry = describe(*result);
    if (auto written = store::append_audit(c, entry); !written) {
      audit_write_failed(ctx, entry, written.error());
      // Not the request's fault, whatever PostgreSQL said: an outage stays a 503, the rest a 500.
      if (written.error().code == core::Errc::unavailable) return written.error();
      return core::make_error(core::Errc::internal, "the audit log row could not be written");
    }
    return result;
  });
}

// Drops the cached device answers (GET /api/logs/{device_id}) of devices whose logs were
// deleted; fire and forget (a failure is counted; the answers expire with their TTL).
void forget_cached_devices(Context& context,
                           const std::set<std::pair<model::TenantId, std::string>>& devices);

// health_routes.cpp
void service_info(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void health(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void readiness(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void liveness(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void metrics_text(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void openapi(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void docs(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void docs_script(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void docs_style(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// The browsable API page served at /docs, its script and its style (docs.html, docs.js and
// docs.css, embedded at build time; apart, since the page's Content-Security-Policy allows no
// inline script or style).
std::string_view docs_page();
std::string_view docs_js();
std::string_view docs_css();

// ui_routes.cpp: the web UI's page (every /ui address) and its files (/ui/assets/{file}).
void ui_page(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void ui_asset(Context&, http::Request&, http::RequestContext&, const http::Reply&);
// A browser navigating (Accept names text/html): GET / sends it to the UI instead of the JSON.
bool wants_html(const http::Request& request);

// ingest_routes.cpp
// A request header's value, or "".
std::string header_value(const http::Request& request, http::bhttp::field field);
// The request's body with its Content-Encoding undone, up to max_decoded_bytes (413 beyond, 400
// corrupt, 415 unknown coding); `storage` holds the decoded bytes when they differ from the body.
core::Result<std::string_view> decoded_body(const Context& context, const http::Request& request,
                                            std::string& storage);
// application/json and application/*+json (media types as ingest::media_type returns them).
bool json_media_type(std::string_view type);
// Media types that do not name a format: none, text/plain (browsers' sendBeacon, several
// shippers) and curl's default for -d (application/x-www-form-urlencoded; no form is ever posted
// here). The body decides.
bool unlabelled(std::string_view type);
// The decode limits of ctx (the settings) for a request received now. `protocol`: the endpoint of
// a shipper's protocol (Elasticsearch bulk, HEC, Loki, OTLP, raw lines), whose clients batch by
// bytes (Promtail 1 MiB, the Collector 8192 records), not by our count: it may carry ten times
// max_records_per_request, the body size being the real bound.
ingest::DecodeOptions decode_options(const Context& ctx, bool protocol = false);
void ingest_one_log(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void ingest_log_batch(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void ingest(Context&, http::Request&, http::RequestContext&, const http::Reply&);
// Seed 001: /data/fast queues as /api/v1/ingest; /data/ answers once PostgreSQL has stored the
// records, with their ids (read-your-write).
void ingest_data_fast(Context&, http::Request&, http::RequestContext&, const http::Reply&);
// Graylog's GELF HTTP input.
void ingest_gelf(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void ingest_data_stored(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// elasticsearch_routes.cpp (paths under es_prefix)
void es_info(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void es_ping(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void es_bulk(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void es_license(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void es_xpack(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void es_cluster_health(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void es_refresh(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void es_acknowledge(Context&, http::Request&, http::RequestContext&, const http::Reply&);
// The members of Elasticsearch's version probe (name … tagline), inside an open object.
void write_es_info(core::JsonWriter& writer, std::string_view name);
// Elasticsearch's error shape: {"error":{"root_cause":[…],"type":…,"reason":…},"status":N}.
http::Response es_error_response(const http::RequestHead& request, unsigned status,
                                 std::string_view type, std::string_view reason);
http::Response es_error_response(const http::RequestHead& request, const core::Error& error);

// splunk_routes.cpp
void hec_event(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void hec_raw(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void hec_health(Context&, http::Request&, http::RequestContext&, const http::Reply&);
// HEC's error shape: {"text":…,"code":N}.
http::Response hec_error_response(const http::RequestHead& request, const core::Error& error);
http::Response hec_error_response(const http::RequestHead& request, unsigned status, int code,
                                  std::string_view text);

// loki_routes.cpp
void loki_push(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// otlp_routes.cpp
void otlp_logs(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// raw_routes.cpp
void ingest_raw(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// query_routes.cpp
void device_logs(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void search_logs(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void filter_logs(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void queue_status(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void get_log(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void delete_log(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void delete_logs(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void stats(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void logs_histogram(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// export_routes.cpp
void export_logs(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// tail_routes.cpp: the live tail, as Server-Sent Events and over a WebSocket.
void tail_events(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void tail_websocket(Context&, std::shared_ptr<http::WebSocket>, const http::Request&,
                    const http::RequestContext&);

// catalog_routes.cpp
void list_devices(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void list_services(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void list_apps(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void get_app(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void create_app(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void update_app(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void delete_app(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// admin_routes.cpp
void dlq_list(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void dlq_replay(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void dlq_delete(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// audit_routes.cpp
void list_audit(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// alert_routes.cpp
void list_alert_rules(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void create_alert_rule(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void get_alert_rule(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void update_alert_rule(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void delete_alert_rule(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void list_alert_events(Context&, http::Request&, http::RequestContext&, const http::Reply&);

// The endpoint list of GET / (from the route table): {"METHOD /path": "summary", …}, with the
// Elasticsearch paths under `es_prefix`.
void write_endpoint_list(core::JsonWriter& writer, std::string_view es_prefix);

// auth_routes.cpp
void list_keys(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void create_key(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void revoke_key(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void list_tenants(Context&, http::Request&, http::RequestContext&, const http::Reply&);
void create_tenant(Context&, http::Request&, http::RequestContext&, const http::Reply&);

}  // namespace logpipe::api
