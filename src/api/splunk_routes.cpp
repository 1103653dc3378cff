// Splunk HTTP Event Collector compatibility: /services/collector/event (and its aliases) and
// /services/collector/raw through the splunk_hec formats and the intake, answered as HEC does
// ({"text":"Success","code":0}, errors {"text":…,"code":N}); /services/collector/health.
//
// The "Authorization: Splunk <token>" header that every HEC sender sends is accepted and not
// checked: API keys come with the security issue, which will read the token there.
#include <fmt/format.h>

#include "api/handlers.hpp"
#include "core/time.hpp"
#include "http/query_string.hpp"
#include "ingest/format.hpp"
#include "ingest/formats/splunk_hec.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::status;

std::string hec_body(std::string_view text, int code,
                     std::optional<std::size_t> invalid_event = std::nullopt) {
  core::JsonWriter w;
  w.begin_object().field("text", text).field("code", code);
  if (invalid_event) w.field("invalid-event-number", static_cast<std::uint64_t>(*invalid_event));
  return w.end_object().take();
}

ingest::HecDefaults defaults_of(const http::Request& req) {
  ingest::HecDefaults d;
  for (auto& [key, value] : http::query_params(req.target())) {
    if (key == "host") {
      d.host = std::move(value);
    } else if (key == "source") {
      d.source = std::move(value);
    } else if (key == "sourcetype") {
      d.sourcetype = std::move(value);
    } else if (key == "index") {
      d.index = std::move(value);
    }
  }
  return d;
}

using Decode = core::Result<ingest::HecBatch> (*)(std::string_view, const ingest::HecDefaults&,
                                                  const ingest::DecodeOptions&);

void decode_and_submit(Context& ctx, http::Request& req, http::RequestContext& rc,
                       const http::Reply& reply, Decode decode) {
  const auto fail = [&](const core::Error& error) {
    ctx.metrics.ingest_rejected(core::to_string(error.code));
    reply(hec_error_response(req, error));
  };
  std::string body_storage;
  auto body = decoded_body(ctx, req, body_storage);
  if (!body) return fail(body.error());
  auto options = decode_options(ctx, true);
  auto batch = decode(*body, defaults_of(req), options);
  if (!batch) return fail(batch.error());
  if (const auto& problem = batch->problem) {
    ctx.metrics.ingest_rejected(core::to_string(
        problem->code == ingest::HecCode::invalid_data_format ? core::Errc::malformed
                                                              : core::Errc::invalid_field));
    return reply(http::json_response(
        req, status::bad_request,
        hec_body(problem->reason, static_cast<int>(problem->code), problem->event)));
  }
  model::Batch records;
  records.received_at = options.received_at;
  records.source_format = "splunk_hec";
  records.records = std::move(batch->records);
  ctx.intake.submit(rc.principal, std::move(records),
                    [&req, reply](const core::Result<intake::Accepted>& r) {
                      if (!r) return reply(hec_error_response(req, r.error()));
                      reply(http::json_response(req, status::ok, hec_body("Success", 0)));
                    });
}

}  // namespace

// HEC's codes where it has one: 9 "Server is busy" for what a retry fixes (429, 503), 6
// "Invalid data format" for bodies it cannot read, 3 "Invalid authorization" and 4 "Invalid
// token" for refused keys, 8 "Internal server error" otherwise; the
// HTTP status stays logpipe's (504 means the outcome is unknown).
http::Response hec_error_response(const http::RequestHead& req, const core::Error& error) {
  int code = 8;
  switch (error.code) {
    case core::Errc::overloaded:
    case core::Errc::rate_limited:
    case core::Errc::unavailable:
      code = 9;
      break;
    case core::Errc::unauthenticated:
      code = 3;  // "Invalid authorization"
      break;
    case core::Errc::forbidden:
      code = 4;  // "Invalid token"
      break;
    case core::Errc::malformed:
    case core::Errc::invalid_field:
    case core::Errc::too_large:
    case core::Errc::unsupported:
      code = 6;
      break;
    default:
      break;
  }
  auto response = hec_error_response(req, core::http_status(error.code), code, error.message);
  http::set_retry_after(response, error);
  return response;
}

http::Response hec_error_response(const http::RequestHead& req, unsigned status_code, int code,
                                  std::string_view text) {
  return http::json_response(req, http::bhttp::int_to_status(status_code), hec_body(text, code));
}

void hec_event(Context& ctx, http::Request& req, http::RequestContext& rc,
               const http::Reply& reply) {
  decode_and_submit(ctx, req, rc, reply, ingest::decode_hec_events);
}

void hec_raw(Context& ctx, http::Request& req, http::RequestContext& rc, const http::Reply& reply) {
  decode_and_submit(ctx, req, rc, reply, ingest::decode_hec_raw);
}

// Unhealthy when ingest would be refused (the backlog is over its limit), as HEC's full queues.
void hec_health(Context& ctx, http::Request& req, http::RequestContext& rc,
                const http::Reply& reply) {
  if (auto admitted = ctx.intake.admit(rc.principal); !admitted)
    return reply(http::json_response(req, status::service_unavailable,
                                     hec_body("HEC is unhealthy, queues are full", 18)));
  reply(http::json_response(req, status::ok, hec_body("HEC is healthy", 17)));
}

}  // namespace logpipe::api
