// POST /api/v1/ingest/raw (and seed 001's POST /parse/auto): one log per line, in a named line
// format or detected per line (format=auto). Unlike /api/v1/ingest, a body is taken per line: the
// good lines are stored, the bad ones answered with their line numbers — unless strict=true, when
// any bad line refuses the whole body. The records of one request are stored as one unit whatever
// their formats (one batch per source format, one stream entry).
#include <fmt/format.h>

#include <map>

#include "api/handlers.hpp"
#include "core/time.hpp"
#include "http/query_string.hpp"
#include "ingest/auto_detect.hpp"

namespace logpipe::api {
namespace {

using core::Errc;
using http::bhttp::status;

struct RawParams {
  std::string format = "auto";
  std::string service, app, host, device_id;  // for the records whose line set none
  bool strict = false;
};

core::Result<RawParams> raw_params(std::string_view target, std::size_t max_name_bytes) {
  RawParams p;
  for (auto& [name, value] : http::query_params(target)) {
    std::string* field = nullptr;
    if (name == "format") {
      p.format = std::move(value);
      continue;
    }
    if (name == "strict") {
      if (value == "true" || value == "1" || value.empty()) {
        p.strict = true;
      } else if (value == "false" || value == "0") {
        p.strict = false;
      } else {
        return core::Error(Errc::invalid_field, "strict must be true or false",
                           {{-1, "strict", "must be true or false"}});
      }
      continue;
    }
    if (name == "service") field = &p.service;
    if (name == "app") field = &p.app;
    if (name == "host") field = &p.host;
    if (name == "device_id") field = &p.device_id;
    if (field == nullptr) {
      const std::string message = fmt::format(
          "unknown parameter \"{}\" (known: format, service, app, host, device_id, strict)", name);
      return core::Error(Errc::invalid_field, message, {{-1, name, message}});
    }
    if (value.size() > max_name_bytes) {
      const std::string message = fmt::format("longer than {} bytes", max_name_bytes);
      return core::Error(Errc::invalid_field, fmt::format("{} is {}", name, message),
                         {{-1, name, message}});
    }
    *field = std::move(value);
  }
  return p;
}

// Any text, and the types shippers label text with; not multipart forms, images and the like.
bool text_media_type(std::string_view type) {
  return type.empty() || type.starts_with("text/") || type == "application/octet-stream" ||
         type == "application/x-www-form-urlencoded" || type == "application/json" ||
         type.ends_with("+json") || type.find("ndjson") != std::string_view::npos ||
         type.find("jsonl") != std::string_view::npos || type == "application/logfmt";
}

std::vector<std::string> known_formats(const ingest::FormatRegistry& formats) {
  std::vector<std::string> names{"auto"};
  for (const auto* f : formats.line_formats())
    names.push_back(f->name);
  return names;
}

// Lines 3, 7 and 12 (of 40) → "lines 3, 7, 12 (40 in all)".
std::string line_list(const ingest::Decoded& d) {
  std::string out = d.problem_count == 1 ? "line " : "lines ";
  for (std::size_t i = 0; i < d.problems.size() && i < 10; ++i)
    out += fmt::format("{}{}", i ? ", " : "", d.problems[i].index);
  if (d.problem_count > std::min<std::size_t>(d.problems.size(), 10))
    out += fmt::format(", … ({} in all)", d.problem_count);
  return out;
}

core::Error rejected_lines(const ingest::Decoded& d, std::string_view why) {
  std::vector<core::ErrorDetail> details = d.problems;
  for (auto& detail : details)
    detail.field = "line";
  std::string message = fmt::format("{} rejected{}", line_list(d), why);
  if (d.problem_count == 1) message += ": " + d.problems.front().message;
  return core::Error(Errc::invalid_field, std::move(message), std::move(details));
}

void fill_defaults(std::vector<model::Record>& records, const RawParams& p) {
  for (auto& r : records) {
    if (r.service.empty()) r.service = p.service;
    if (r.app.empty()) r.app = p.app;
    if (r.host.empty()) r.host = p.host;
    if (r.device_id.empty()) r.device_id = p.device_id;
  }
}

std::string accepted_body(const intake::Accepted& a, const ingest::Decoded& d,
                          const std::map<std::string_view, std::size_t>& by_format) {
  core::JsonWriter w;
  w.begin_object()
      .field("accepted", static_cast<std::uint64_t>(a.count))
      .field("rejected", static_cast<std::uint64_t>(d.rejected_items));
  w.key("errors").begin_array();
  for (const auto& p : d.problems) {
    w.begin_object()
        .field("line", static_cast<std::int64_t>(p.index))
        .field("message", p.message)
        .end_object();
  }
  w.end_array();
  w.key("formats").begin_object();
  for (const auto& [name, count] : by_format)
    w.field(name, static_cast<std::uint64_t>(count));
  w.end_object();
  w.field("backend", intake::to_string(a.backend));
  return w.end_object().take();
}

}  // namespace

void ingest_raw(Context& ctx, http::Request& req, http::RequestContext& rc,
                const http::Reply& reply) {
  const auto fail = [&](const core::Error& error, double count = 1) {
    ctx.metrics.ingest_rejected(core::to_string(error.code), count);
    reply(http::error_response(req, error));
  };
  auto options = decode_options(ctx, true);
  auto params = raw_params(req.target(), options.max_name_bytes);
  if (!params) return fail(params.error());

  const std::string type = ingest::media_type(header_value(req, http::bhttp::field::content_type));
  if (!text_media_type(type)) {
    return fail(core::make_error(
        Errc::unsupported,
        fmt::format("Content-Type \"{}\" is not supported; send text (one log per line)",
                    header_value(req, http::bhttp::field::content_type))));
  }
  const ingest::FormatRegistry& formats = *ctx.formats;
  const ingest::Format* format = nullptr;
  if (params->format != "auto") {
    format = formats.find(params->format);
    if (format == nullptr || !format->parse_line) {
      const std::string message = fmt::format("unknown format \"{}\"; known: {}", params->format,
                                              fmt::join(known_formats(formats), ", "));
      return fail(core::Error(Errc::invalid_field, message, {{-1, "format", message}}));
    }
  }

  std::string body_storage;
  auto body = decoded_body(ctx, req, body_storage);
  if (!body) return fail(body.error());
  options.received_at = core::now_micros();
  auto decoded = format ? ingest::decode_lines(*body, options, format->parse_line)
                        : ingest::AutoDetect(formats).decode(*body, options);
  if (!decoded) return fail(decoded.error());
  if (decoded->problem_count > 0 && params->strict)
    return fail(rejected_lines(*decoded, " (strict=true: nothing was stored)"),
                static_cast<double>(decoded->problem_count));
  if (decoded->records.empty())
    return fail(rejected_lines(*decoded, ": no line was accepted"),
                static_cast<double>(decoded->problem_count));
  if (decoded->problem_count > 0)
    ctx.metrics.ingest_rejected(core::to_string(Errc::invalid_field),
                                static_cast<double>(decoded->problem_count));

  fill_defaults(decoded->records, *params);
  const std::string_view name = format ? std::string_view(format->name) : "auto";
  std::map<std::string_view, std::size_t> by_format;
  if (decoded->record_formats.empty()) {
    by_format[name] = decoded->records.size();
  } else {
    for (auto f : decoded->record_formats)
      ++by_format[f];
  }
  // What the answer needs once the records are gone into the batches.
  ingest::Decoded summary;
  summary.problems = std::move(decoded->problems);
  summary.problem_count = decoded->problem_count;
  summary.rejected_items = decoded->rejected_items;
  auto batches = ingest::into_batches(std::move(decoded).value(), name, options.received_at);
  ctx.intake.submit(
      rc.principal, std::move(batches),
      [&req, reply, summary = std::move(summary),
       by_format = std::move(by_format)](core::Result<intake::Accepted> r) {
        if (!r) return reply(http::error_response(req, r.error()));
        reply(http::json_response(req, status::accepted, accepted_body(*r, summary, by_format)));
      });
}

}  // namespace logpipe::api
