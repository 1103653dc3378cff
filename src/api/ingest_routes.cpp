// Ingest over HTTP: pick the format (the endpoint's, or by media type), undo the
// Content-Encoding, decode all or nothing, hand the batch to the intake, render its answer.
#include <fmt/format.h>

#include <optional>

#include "api/handlers.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "ingest/format.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::status;

core::Error unsupported_media(const http::Request& req, std::string_view accepted) {
  return core::make_error(
      core::Errc::unsupported,
      fmt::format("Content-Type \"{}\" is not supported; send {}",
                  header_value(req, http::bhttp::field::content_type), accepted));
}

// For endpoints that take JSON only.
core::Result<const ingest::Format*> json_only(const http::Request& req, const char* format) {
  const std::string type = ingest::media_type(header_value(req, http::bhttp::field::content_type));
  if (!unlabelled(type) && !json_media_type(type))
    return unsupported_media(req, "application/json");
  return ingest::builtin_formats().find(format);
}

// /api/v1/ingest: any registered format by its media type; JSON types are JSON. Without a media
// type that names a format, the body is sniffed between JSON and NDJSON.
core::Result<const ingest::Format*> by_media_type(const http::Request& req) {
  const auto& formats = ingest::builtin_formats();
  const std::string type = ingest::media_type(header_value(req, http::bhttp::field::content_type));
  if (unlabelled(type)) {
    const auto* sniffed = formats.sniff(req.body(), {"json", "ndjson"});
    return sniffed ? sniffed : formats.find("json");
  }
  if (json_media_type(type)) return formats.find("json");
  if (const auto* format = formats.for_media_type(type)) return format;
  return unsupported_media(
      req, fmt::format("application/json or one of: {}", fmt::join(formats.media_types(), ", ")));
}

// Undoes the Content-Encoding and decodes with `format`, all or nothing. A rejection is counted
// and answered as JSON, and then there is no batch.
std::optional<model::Batch> decode_request(Context& ctx, http::Request& req,
                                           const http::Reply& reply,
                                           core::Result<const ingest::Format*> format,
                                           ingest::DecodeOptions options,
                                           bool single_object = false) {
  const auto fail = [&](const core::Error& error) -> std::optional<model::Batch> {
    ctx.metrics.ingest_rejected(core::to_string(error.code));
    reply(http::error_response(req, error));
    return std::nullopt;
  };
  if (!format) return fail(format.error());
  std::string body_storage;
  auto body = decoded_body(ctx, req, body_storage);
  if (!body) return fail(body.error());
  options.received_at = core::now_micros();
  auto records = ingest::all_or_nothing((*format)->decode(*body, options));
  if (!records) return fail(records.error());
  if (single_object && body->find_first_not_of(" \t\r\n") != std::string_view::npos &&
      (*body)[body->find_first_not_of(" \t\r\n")] == '[')
    return fail(core::make_error(core::Errc::invalid_field,
                                 "body must be one JSON object; use /api/logs/batch for many"));

  model::Batch batch;
  batch.received_at = options.received_at;
  // The {"logs":[…]} envelope is JSON to whoever reads the stored rows.
  batch.source_format = (*format)->name == "logs_envelope" ? "json" : (*format)->name;
  batch.records = std::move(records).value();
  return batch;
}

using Render = std::string (*)(const intake::Accepted&);

// Decodes with `format` and queues the records; `render` makes the 202's body.
void decode_and_submit(Context& ctx, http::Request& req, http::RequestContext& rc,
                       const http::Reply& reply, core::Result<const ingest::Format*> format,
                       ingest::DecodeOptions options, Render render, bool single_object = false) {
  auto batch = decode_request(ctx, req, reply, std::move(format), options, single_object);
  if (!batch) return;
  ctx.intake.submit(rc.principal, std::move(*batch),
                    [&req, reply, render](core::Result<intake::Accepted> r) {
                      if (!r) return reply(http::error_response(req, r.error()));
                      reply(http::json_response(req, status::accepted, render(*r)));
                    });
}

// The answer of /api/log and /api/logs/batch; "status" is "stored" (with "backend":"db") when the
// fallback stored it.
std::string queued_body(const intake::Accepted& a, bool batch) {
  const bool in_db = a.backend == intake::Backend::db;
  core::JsonWriter w;
  w.begin_object().field("status", in_db ? "stored" : "queued").field("message_id", a.entry_id);
  if (batch) {
    w.field("count", static_cast<std::uint64_t>(a.count));
    w.key("message_ids").begin_array().value(a.entry_id).end_array();
  }
  w.field("received_at", core::format_rfc3339(a.received_at));
  if (in_db) w.field("backend", "db");
  return w.end_object().take();
}

// Seed 002's answer.
std::string enqueued_body(const intake::Accepted& a) {
  core::JsonWriter w;
  w.begin_object()
      .field("enqueued", static_cast<std::uint64_t>(a.count))
      .field("backend", intake::to_string(a.backend))
      .end_object();
  return w.take();
}

}  // namespace

ingest::DecodeOptions decode_options(const Context& ctx, bool protocol) {
  ingest::DecodeOptions options = ctx.decode_limits;
  if (protocol) options.max_records *= 10;
  options.received_at = core::now_micros();
  return options;
}

std::string header_value(const http::Request& req, http::bhttp::field field) {
  const auto it = req.find(field);
  return it == req.end() ? std::string() : std::string(it->value());
}

core::Result<std::string_view> decoded_body(const Context& ctx, const http::Request& req,
                                            std::string& storage) {
  return ingest::decode_content(header_value(req, http::bhttp::field::content_encoding), req.body(),
                                storage, ctx.max_decoded_bytes);
}

bool json_media_type(std::string_view type) {
  return type == "application/json" || type.ends_with("+json");
}

bool unlabelled(std::string_view type) {
  return type.empty() || type == "text/plain" || type == "application/x-www-form-urlencoded";
}

void ingest_one_log(Context& ctx, http::Request& req, http::RequestContext& rc,
                    const http::Reply& reply) {
  auto options = decode_options(ctx);
  options.require_device_id = true;
  decode_and_submit(
      ctx, req, rc, reply, json_only(req, "json"), options,
      [](const intake::Accepted& a) { return queued_body(a, false); }, true);
}

void ingest_log_batch(Context& ctx, http::Request& req, http::RequestContext& rc,
                      const http::Reply& reply) {
  auto options = decode_options(ctx);
  options.require_device_id = true;
  options.max_records = std::min<std::size_t>(options.max_records, 1000);  // seed 001's batch
  decode_and_submit(ctx, req, rc, reply, json_only(req, "logs_envelope"), options,
                    [](const intake::Accepted& a) { return queued_body(a, true); });
}

void ingest(Context& ctx, http::Request& req, http::RequestContext& rc, const http::Reply& reply) {
  decode_and_submit(ctx, req, rc, reply, by_media_type(req), decode_options(ctx), enqueued_body);
}

namespace {

// Seed 001's stored-log shape: its field names, with logpipe's extra fields when set.
void write_seed_log(core::JsonWriter& w, std::int64_t id, const model::Record& r,
                    core::Micros received_at) {
  w.begin_object()
      .field("id", id)
      .field("timestamp", core::format_rfc3339(r.ts))
      .field("level", model::to_string(r.level))
      .field("source", r.service)
      .field("application", r.app)
      .field("message", r.message);
  w.key("metadata").raw(r.attrs_json);
  if (!r.device_id.empty()) w.field("device_id", r.device_id);
  if (!r.host.empty()) w.field("host", r.host);
  w.field("created_at", core::format_rfc3339(received_at)).end_object();
}

}  // namespace

void ingest_gelf(Context& ctx, http::Request& req, http::RequestContext& rc,
                 const http::Reply& reply) {
  decode_and_submit(ctx, req, rc, reply, json_only(req, "gelf"), decode_options(ctx),
                    enqueued_body);
}

void ingest_data_fast(Context& ctx, http::Request& req, http::RequestContext& rc,
                      const http::Reply& reply) {
  decode_and_submit(ctx, req, rc, reply, by_media_type(req), decode_options(ctx),
                    [](const intake::Accepted& a) { return queued_body(a, true); });
}

void ingest_data_stored(Context& ctx, http::Request& req, http::RequestContext& rc,
                        const http::Reply& reply) {
  auto batch = decode_request(ctx, req, reply, by_media_type(req), decode_options(ctx));
  if (!batch) return;
  const std::string_view body = req.body();
  const auto first = body.find_first_not_of(" \t\r\n");
  const bool one_object = first != std::string_view::npos && body[first] == '{' &&
                          batch->records.size() == 1 && batch->source_format == "json";
  // The records are kept to answer with them once stored (a synchronous, small-volume path).
  auto stored = std::make_shared<model::Batch>(*batch);
  std::vector<model::Batch> batches;
  batches.push_back(std::move(*batch));
  ctx.intake.write_through(
      rc.principal, std::move(batches),
      [&req, reply, stored, one_object](core::Result<intake::Accepted> r) {
        if (!r) return reply(http::error_response(req, r.error()));
        core::JsonWriter w;
        if (!one_object) w.begin_array();
        for (std::size_t i = 0; i < stored->records.size() && i < r->ids.size(); ++i)
          write_seed_log(w, r->ids[i], stored->records[i], stored->received_at);
        if (!one_object) w.end_array();
        reply(http::json_response(req, status::created, w.take()));
      });
}

}  // namespace logpipe::api
