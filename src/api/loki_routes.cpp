// Loki's push API (POST /loki/api/v1/push), so that Promtail, Grafana Alloy's loki.write and
// Loki client libraries ship to logpipe with only its URL changed.
//
// Body: JSON (application/json), or a snappy-compressed protobuf PushRequest
// (application/x-protobuf, no Content-Encoding: what Promtail and Alloy send). An explicit
// Content-Encoding (gzip, snappy, …) is undone first; an uncompressed protobuf is taken too.
//
// Answers as Loki does: 204 without a body when everything was stored. Entries that cannot be
// stored (a line over the size limit, invalid UTF-8, bad labels) are left out and the others
// stored, then 400 names them: Loki's distributor does the same, and Promtail and Alloy drop a
// batch on 4xx instead of retrying it, so nothing is stored twice. 429, 503 and 504 (the
// intake's backpressure and outages) are the statuses they retry, with backoff.
#include <fmt/format.h>

#include "api/handlers.hpp"
#include "core/time.hpp"
#include "ingest/formats/loki.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::status;

core::Result<ingest::Decoded> decode_protobuf_body(std::string_view body,
                                                   const ingest::DecodeOptions& options,
                                                   std::size_t max_decoded_bytes) {
  std::string uncompressed;
  auto snappy = ingest::decode_snappy(body, max_decoded_bytes, uncompressed);
  if (!snappy && snappy.error().code == core::Errc::too_large) return snappy.error();
  if (snappy) {
    auto decoded = ingest::loki::decode_protobuf(uncompressed, options);
    if (decoded || decoded.error().code != core::Errc::malformed) return decoded;
  }
  // Not snappy, or not a PushRequest once uncompressed: maybe an uncompressed PushRequest.
  auto raw = ingest::loki::decode_protobuf(body, options);
  if (raw || raw.error().code != core::Errc::malformed) return raw;
  return core::make_error(
      core::Errc::malformed,
      fmt::format("the body is neither a snappy-compressed nor an uncompressed protobuf "
                  "PushRequest ({})",
                  snappy ? raw.error().message : snappy.error().message));
}

// 400 (Loki's status for entries it refuses), naming the rejected entries.
http::Response partially_rejected(const http::RequestHead& req, const ingest::Decoded& decoded,
                                  std::size_t stored) {
  std::string message =
      fmt::format("{} entries rejected, {} stored", decoded.rejected_items, stored);
  if (!decoded.problems.empty()) {
    const auto& p = decoded.problems.front();
    message += fmt::format("; entry {}: {} {}", p.index, p.field, p.message);
  }
  return http::error_response(req, status::bad_request, "invalid_field", message, decoded.problems);
}

}  // namespace

void loki_push(Context& ctx, http::Request& req, http::RequestContext& rc,
               const http::Reply& reply) {
  const auto fail = [&](const core::Error& error) {
    ctx.metrics.ingest_rejected(core::to_string(error.code));
    reply(http::error_response(req, error));
  };
  const std::string type = ingest::media_type(header_value(req, http::bhttp::field::content_type));
  const std::string encoding = header_value(req, http::bhttp::field::content_encoding);
  std::string decoded_body;
  auto body = ingest::decode_content(encoding, req.body(), decoded_body, ctx.max_decoded_bytes);
  if (!body) return fail(body.error());

  auto options = decode_options(ctx, true);
  const auto first = body->find_first_not_of(" \t\r\n");
  const bool starts_as_json = first != std::string_view::npos && (*body)[first] == '{';
  core::Result<ingest::Decoded> decoded = core::make_error(core::Errc::internal, "");
  if (json_media_type(type) || (unlabelled(type) && starts_as_json)) {
    decoded = ingest::loki::decode_json(*body, options);
  } else if (type == "application/x-protobuf" || unlabelled(type)) {
    decoded = decode_protobuf_body(*body, options, ctx.max_decoded_bytes);
  } else {
    return fail(core::make_error(
        core::Errc::unsupported,
        fmt::format("Content-Type \"{}\" is not supported; send application/x-protobuf "
                    "(snappy) or application/json",
                    type)));
  }
  if (!decoded) return fail(decoded.error());

  auto result = std::make_shared<ingest::Decoded>(std::move(decoded).value());
  const auto no_content = [&req] {
    http::Response response = http::json_response(req, status::no_content, {});
    response.erase(http::bhttp::field::content_type);
    return response;
  };
  if (result->records.empty()) {
    if (result->rejected_items > 0) {
      ctx.metrics.ingest_rejected("invalid_field");
      return reply(partially_rejected(req, *result, 0));
    }
    return reply(no_content());
  }
  if (result->rejected_items > 0) ctx.metrics.ingest_rejected("invalid_field");
  model::Batch batch;
  batch.received_at = options.received_at;
  batch.source_format = "loki";
  batch.records = std::move(result->records);
  result->records.clear();
  const std::size_t stored = batch.records.size();
  ctx.intake.submit(
      rc.principal, std::move(batch),
      [&req, reply, result, stored, no_content](const core::Result<intake::Accepted>& r) {
        if (!r) return reply(http::error_response(req, r.error()));
        if (result->rejected_items > 0) return reply(partially_rejected(req, *result, stored));
        reply(no_content());
      });
}

}  // namespace logpipe::api
