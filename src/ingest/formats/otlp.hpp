// OTLP/HTTP logs (POST /v1/logs), as the OpenTelemetry SDKs and Collector send them:
// ExportLogsServiceRequest (opentelemetry-proto collector/logs/v1/logs_service.proto) in binary
// protobuf or in the OTLP JSON encoding (lowerCamelCase keys; snake_case accepted too; 64-bit
// integers as strings or numbers; trace and span ids in hex).
//
// One LogRecord is one record:
//   resource service.name → service, host.name → host, service.namespace → app,
//   device.id → device_id (string values; others stay in attrs)
//   severity_number 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARNING, 17-20 ERROR, 21-24 FATAL;
//   without one, severity_text as a level name; neither: INFO
//   body → message (a string as it is, any other value as compact JSON; no body: event_name)
//   time_unix_nano, else observed_time_unix_nano, else the receive time → ts
//   attrs: the other resource attributes, otel.scope.name/otel.scope.version and the scope's
//   attributes, the record's attributes (the later of equal keys wins), event.name, trace_id
//   and span_id in hex (all-zero ids are "unset" and left out), severity_text when it named no
//   level. An AnyValue becomes JSON: strings, numbers (int64 exact), booleans, arrays, objects
//   (kvlist), bytes as base64; NaN and infinities as strings.
// Log records are items: index = position among all records of the body, in order. Rejected
// records (body too long, invalid UTF-8, a resource name too long) are reported back as the
// OTLP partial success.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ingest/format.hpp"

namespace logpipe::ingest {

// JSON when the body starts with '{', protobuf otherwise (a request starts with field 1's tag,
// 0x0A). Registered without media types (shared with other protocols): its endpoint picks.
Format otlp_format();

namespace otlp {

core::Result<Decoded> decode_json(std::string_view body, const DecodeOptions& options);
core::Result<Decoded> decode_protobuf(std::string_view body, const DecodeOptions& options);

std::optional<model::Level> level_from_severity_number(std::int64_t number);

// ExportLogsServiceResponse: empty when nothing was rejected, else partial_success with the
// count and message.
std::string response_json(std::size_t rejected, std::string_view error_message);
std::string response_protobuf(std::size_t rejected, std::string_view error_message);
// google.rpc.Status{code, message}: the body of a failed protobuf request (OTLP/HTTP).
std::string status_protobuf(int grpc_code, std::string_view message);

}  // namespace otlp
}  // namespace logpipe::ingest
