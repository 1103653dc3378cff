// Elasticsearch compatibility under es_prefix (default /es): the _bulk API through the es_bulk
// format and the intake, answered per item in Elasticsearch's reply format, and the small calls
// that shippers make around it (the version probe, ping, license, cluster health, refresh,
// template and ILM policy uploads), answered harmlessly. Every reply under the prefix carries
// X-Elastic-Product: Elasticsearch (register_routes sets it on the router), without which the
// official clients refuse the server.
#include <fmt/format.h>

#include <chrono>

#include "api/handlers.hpp"
#include "core/time.hpp"
#include "ingest/format.hpp"
#include "ingest/formats/es_bulk.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::status;

// The Elasticsearch release whose API this follows: clients read the major version (the JS and
// Python clients 8.x, Vector's api_version auto, Filebeat and Logstash's version checks).
constexpr const char* kEsVersion = "8.11.0";
// One cluster, always the same: nothing reads it but humans.
constexpr const char* kClusterUuid = "bG9ncGlwZS1sb2dwaXBlAA";

const char* es_error_type(const core::Error& error) {
  switch (error.code) {
    case core::Errc::overloaded:
    case core::Errc::rate_limited:
      return "es_rejected_execution_exception";
    case core::Errc::unauthenticated:
    case core::Errc::forbidden:
      return "security_exception";
    case core::Errc::unavailable:
      return "unavailable_shards_exception";
    case core::Errc::timeout:
      return "timeout_exception";
    case core::Errc::too_large:
      return "content_too_long_exception";
    case core::Errc::unsupported:
      return "media_type_header_exception";
    default:
      return "illegal_argument_exception";
  }
}

std::string acknowledged(const http::Request&) {
  return R"({"acknowledged":true})";
}

// An item of a _bulk answer: {"index":{"_index":…,"_id":…,"status":201,"result":"created",…}}.
void write_item(core::JsonWriter& w, const ingest::BulkItem& item, std::string_view id) {
  w.begin_object().key(item.action).begin_object();
  w.field("_index", item.index).field("_id", id).field("status", item.status);
  if (item.status < 300) {
    w.field("_version", 1).field("result", "created");
    w.key("_shards").begin_object().field("total", 1).field("successful", 1).field("failed", 0);
    w.end_object().field("_seq_no", 0).field("_primary_term", 1);
  } else {
    w.key("error")
        .begin_object()
        .field("type", item.error_type)
        .field("reason", item.error_reason)
        .end_object();
  }
  w.end_object().end_object();
}

std::string bulk_answer(const ingest::BulkRequest& request, std::string_view entry_id,
                        std::chrono::steady_clock::time_point started) {
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  bool errors = false;
  for (const auto& item : request.items)
    errors = errors || item.status >= 300;
  core::JsonWriter w;
  w.begin_object()
      .field("took", static_cast<std::int64_t>(took.count()))
      .field("errors", errors)
      .key("items")
      .begin_array();
  std::string id;
  std::size_t n = 0;
  for (const auto& item : request.items) {
    id = item.id;
    // Elasticsearch makes up an id for a document sent without one; the stream entry and the
    // item's position name it here (logs are found by their own ids, not these).
    if (id.empty()) id = fmt::format("{}-{}", entry_id.empty() ? "none" : entry_id, n);
    ++n;
    write_item(w, item, id);
  }
  w.end_array().end_object();
  return w.take();
}

}  // namespace

http::Response es_error_response(const http::RequestHead& req, unsigned status_code,
                                 std::string_view type, std::string_view reason) {
  core::JsonWriter w;
  w.begin_object().key("error").begin_object().key("root_cause").begin_array();
  w.begin_object().field("type", type).field("reason", reason).end_object();
  w.end_array().field("type", type).field("reason", reason).end_object();
  w.field("status", static_cast<std::int64_t>(status_code)).end_object();
  return http::json_response(req, http::bhttp::int_to_status(status_code), w.take());
}

http::Response es_error_response(const http::RequestHead& req, const core::Error& error) {
  auto response =
      es_error_response(req, core::http_status(error.code), es_error_type(error), error.message);
  http::set_retry_after(response, error);
  return response;
}

void write_es_info(core::JsonWriter& w, std::string_view name) {
  w.field("name", name)
      .field("cluster_name", "logpipe")
      .field("cluster_uuid", kClusterUuid)
      .key("version")
      .begin_object()
      .field("number", kEsVersion)
      .field("build_flavor", "default")
      .field("build_type", "logpipe")
      .field("build_hash", "logpipe")
      .field("build_date", "2023-11-04T10:04:57.184859352Z")
      .field("build_snapshot", false)
      .field("lucene_version", "9.8.0")
      .field("minimum_wire_compatibility_version", "7.17.0")
      .field("minimum_index_compatibility_version", "7.0.0")
      .end_object()
      .field("tagline", "You Know, for Search");
}

void es_info(Context& ctx, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  core::JsonWriter w;
  w.begin_object();
  write_es_info(w, ctx.instance);
  w.end_object();
  reply(http::json_response(req, status::ok, w.take()));
}

void es_ping(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  reply(http::json_response(req, status::ok, ""));
}

void es_license(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  reply(http::json_response(
      req, status::ok,
      R"({"license":{"status":"active","uid":"logpipe","type":"basic","issue_date":"2024-01-01T00:00:00.000Z","issue_date_in_millis":1704067200000,"max_nodes":1000,"max_resource_units":null,"issued_to":"logpipe","issuer":"elasticsearch","start_date_in_millis":-1}})"));
}

void es_xpack(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  reply(http::json_response(
      req, status::ok,
      R"({"build":{"hash":"logpipe","date":"2023-11-04T10:04:57.184859352Z"},"license":{"uid":"logpipe","type":"basic","mode":"basic","status":"active"},"features":{}})"));
}

void es_cluster_health(Context&, http::Request& req, http::RequestContext&,
                       const http::Reply& reply) {
  reply(http::json_response(
      req, status::ok,
      R"({"cluster_name":"logpipe","status":"green","timed_out":false,"number_of_nodes":1,"number_of_data_nodes":1,"active_primary_shards":0,"active_shards":0,"relocating_shards":0,"initializing_shards":0,"unassigned_shards":0,"delayed_unassigned_shards":0,"number_of_pending_tasks":0,"number_of_in_flight_fetch":0,"task_max_waiting_in_queue_millis":0,"active_shards_percent_as_number":100.0})"));
}

// Logs are searchable once the worker stored them; there is nothing to refresh.
void es_refresh(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  reply(
      http::json_response(req, status::ok, R"({"_shards":{"total":1,"successful":1,"failed":0}})"));
}

// Index templates and ILM policies (Filebeat, Logstash upload theirs at start-up): accepted and
// ignored, since logpipe's schema is fixed and retention is retention_days.
void es_acknowledge(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  reply(http::json_response(req, status::ok, acknowledged(req)));
}

void es_bulk(Context& ctx, http::Request& req, http::RequestContext& rc, const http::Reply& reply) {
  const auto started = std::chrono::steady_clock::now();
  const auto fail = [&](const core::Error& error) {
    ctx.metrics.ingest_rejected(core::to_string(error.code));
    reply(es_error_response(req, error));
  };
  std::string body_storage;
  auto body = decoded_body(ctx, req, body_storage);
  if (!body) return fail(body.error());
  auto options = decode_options(ctx, true);
  auto decoded = ingest::decode_es_bulk_request(*body, rc.param("index"), options);
  if (!decoded) return fail(decoded.error());
  auto request = std::make_shared<ingest::BulkRequest>(std::move(decoded).value());
  for (const auto& item : request->items) {
    if (item.status >= 300) ctx.metrics.ingest_rejected(core::to_string(core::Errc::invalid_field));
  }
  if (request->records.empty())
    return reply(http::json_response(req, status::ok, bulk_answer(*request, {}, started)));

  model::Batch batch;
  batch.received_at = options.received_at;
  batch.source_format = "es_bulk";
  batch.records = std::move(request->records);
  ctx.intake.submit(
      rc.principal, std::move(batch),
      [&req, reply, request, started](const core::Result<intake::Accepted>& r) {
        // The whole request, so that the sender retries it (429, 503, 504).
        if (!r) return reply(es_error_response(req, r.error()));
        reply(http::json_response(req, status::ok, bulk_answer(*request, r->entry_id, started)));
      });
}

}  // namespace logpipe::api
