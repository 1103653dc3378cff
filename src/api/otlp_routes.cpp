// OTLP/HTTP logs (POST /v1/logs): the OpenTelemetry SDKs' OTLP/HTTP exporters and the
// Collector's otlphttp exporter ship to logpipe with only the endpoint changed.
//
// Per the OTLP/HTTP specification: the request is ExportLogsServiceRequest in binary protobuf
// (application/x-protobuf) or JSON (application/json), optionally gzip'd (Content-Encoding; the
// Collector's default); the answer is ExportLogsServiceResponse in the request's encoding, 200,
// with partial_success counting the log records that could not be stored (a body over the
// message limit, invalid UTF-8, a resource name over the name limit) while the others were.
// Failures: 400 when the body cannot be decoded (not retried by clients), 413 too large, 415 an
// unknown media type or coding, 429 and 503 with Retry-After (retried), 504 when storing is
// unconfirmed (retried, so possibly stored twice). A protobuf request's failure body is a
// google.rpc.Status as the specification asks; a JSON request's is logpipe's JSON error. (The
// backpressure refusal before the body is read is always logpipe's JSON error: the encoding is
// not known yet.)
#include <fmt/format.h>

#include "api/handlers.hpp"
#include "core/time.hpp"
#include "ingest/formats/otlp.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::status;

constexpr const char* kProtobuf = "application/x-protobuf";

// google.rpc.Code for an error code.
int grpc_code(core::Errc code) {
  switch (code) {
    case core::Errc::overloaded:
    case core::Errc::rate_limited:
      return 8;  // RESOURCE_EXHAUSTED
    case core::Errc::unauthenticated:
      return 16;  // UNAUTHENTICATED
    case core::Errc::forbidden:
      return 7;  // PERMISSION_DENIED
    case core::Errc::unavailable:
      return 14;  // UNAVAILABLE
    case core::Errc::timeout:
      return 4;  // DEADLINE_EXCEEDED
    case core::Errc::internal:
    case core::Errc::io:
      return 13;  // INTERNAL
    default:
      return 3;  // INVALID_ARGUMENT
  }
}

http::Response protobuf_response(const http::RequestHead& req, status code, std::string body) {
  http::Response response = http::json_response(req, code, std::move(body));
  response.set(http::bhttp::field::content_type, kProtobuf);
  return response;
}

http::Response failure(const http::RequestHead& req, bool protobuf, const core::Error& error) {
  if (!protobuf) return http::error_response(req, error);
  http::Response response =
      protobuf_response(req, http::bhttp::int_to_status(core::http_status(error.code)),
                        ingest::otlp::status_protobuf(grpc_code(error.code), error.message));
  http::set_retry_after(response, error);
  return response;
}

http::Response success(const http::RequestHead& req, bool protobuf,
                       const ingest::Decoded& decoded) {
  std::string message;
  if (decoded.rejected_items > 0 && !decoded.problems.empty()) {
    const auto& p = decoded.problems.front();
    message = fmt::format("{} log records rejected; log record {}: {} {}", decoded.rejected_items,
                          p.index, p.field, p.message);
  }
  if (protobuf)
    return protobuf_response(req, status::ok,
                             ingest::otlp::response_protobuf(decoded.rejected_items, message));
  return http::json_response(req, status::ok,
                             ingest::otlp::response_json(decoded.rejected_items, message));
}

}  // namespace

void otlp_logs(Context& ctx, http::Request& req, http::RequestContext& rc,
               const http::Reply& reply) {
  const std::string type = ingest::media_type(header_value(req, http::bhttp::field::content_type));
  const bool protobuf = type == kProtobuf;
  const auto fail = [&](const core::Error& error) {
    ctx.metrics.ingest_rejected(core::to_string(error.code));
    reply(failure(req, protobuf, error));
  };
  if (!protobuf && !json_media_type(type)) {
    return fail(core::make_error(
        core::Errc::unsupported,
        fmt::format("Content-Type \"{}\" is not supported; OTLP/HTTP is application/x-protobuf "
                    "or application/json",
                    header_value(req, http::bhttp::field::content_type))));
  }
  std::string body_storage;
  auto body = decoded_body(ctx, req, body_storage);
  if (!body) return fail(body.error());

  auto options = decode_options(ctx, true);
  auto decoded = protobuf ? ingest::otlp::decode_protobuf(*body, options)
                          : ingest::otlp::decode_json(*body, options);
  if (!decoded) return fail(decoded.error());
  if (decoded->rejected_items > 0) ctx.metrics.ingest_rejected("invalid_field");
  if (decoded->records.empty()) return reply(success(req, protobuf, *decoded));

  model::Batch batch;
  batch.received_at = options.received_at;
  batch.source_format = "otlp";
  batch.records = std::move(decoded->records);
  decoded->records.clear();
  auto result = std::make_shared<ingest::Decoded>(std::move(decoded).value());
  ctx.intake.submit(rc.principal, std::move(batch),
                    [&req, reply, result, protobuf](const core::Result<intake::Accepted>& r) {
                      if (!r) return reply(failure(req, protobuf, r.error()));
                      reply(success(req, protobuf, *result));
                    });
}

}  // namespace logpipe::api
