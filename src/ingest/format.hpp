// Input formats as plugins, like ClickHouse's FormatFactory: each format is a descriptor (name,
// media types, an optional sniff for auto-detection, a pure decode function) registered in ONE
// explicit list (register_builtin_formats, formats/register.cpp). Endpoints and listeners pick a
// format by name, by media type or by sniffing, decode, and then decide their own policy:
// /api/v1/ingest takes a body whole or not at all (all_or_nothing), a bulk API answers per item.
//
// Decoding never trusts its input and never throws; failures are values:
//   Errc::malformed      the body cannot be read at all (not JSON, bad UTF-8, too deep)  → 400
//   Errc::too_large      more records than max_records                                  → 413
//   Errc::invalid_field  (from all_or_nothing) records with wrong or missing fields     → 422
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "model/record.hpp"

namespace logpipe::ingest {

struct DecodeOptions {
  core::Micros received_at = 0;     // stamped as ts on records that carry none
  bool require_device_id = false;   // /api/log and /api/logs/batch require device_id
  std::size_t max_records = 10000;  // per request
  std::size_t max_depth = 64;       // JSON nesting
  std::size_t max_message_bytes = std::size_t{256} << 10;
  std::size_t max_name_bytes = 256;  // device_id, service, app, host
};

// What a decode produced: the valid records, and the problems of the items it rejected, each
// naming the item's index (its position among the body's items) and field.
struct Decoded {
  std::vector<model::Record> records;
  std::vector<core::ErrorDetail> problems;  // the first kMaxProblemDetails
  std::size_t problem_count = 0;            // all of them
  std::size_t rejected_items = 0;
  // The format of each record, parallel to `records`, when one decode mixed several
  // (format=auto); empty when every record is in the decoding format. Names are the registry's.
  std::vector<std::string_view> record_formats;
};
inline constexpr std::size_t kMaxProblemDetails = 100;

// The all-or-nothing policy: every record, or Errc::invalid_field naming every problem.
core::Result<std::vector<model::Record>> all_or_nothing(Decoded decoded);
core::Result<std::vector<model::Record>> all_or_nothing(core::Result<Decoded> decoded);

// Formats of one log per line (syslog, access logs, logfmt, user patterns, JSON among them for
// format=auto): one line (or one syslog frame) → one record. False, with `why` set, when the line
// is not in the format; `out` is then unspecified.
using ParseLine = std::function<bool(std::string_view line, const DecodeOptions& options,
                                     model::Record& out, std::string& why)>;

struct Format {
  std::string name;                      // "json", "ndjson", …: ?format= and source_format
  std::vector<std::string> media_types;  // lower case, without parameters
  // 0 (not this format) … 100 (certainly), from the start of a body. Empty: never sniffed.
  std::function<int(std::string_view head)> sniff;
  std::function<core::Result<Decoded>(std::string_view body, const DecodeOptions& options)> decode;
  // Line formats only (empty otherwise): the score of ONE line, 0 … 100, by which format=auto
  // picks a parser per line, and that parser.
  std::function<int(std::string_view line)> sniff_line;
  ParseLine parse_line;
};

// The decode of a line format: `body` split at LF (a CR before it dropped, a UTF-8 BOM at the
// start skipped, blank lines skipped), each line through `parse`. A rejected line is a problem
// whose index is its 1-based line number. More than max_records lines: Errc::too_large.
core::Result<Decoded> decode_lines(std::string_view body, const DecodeOptions& options,
                                   const ParseLine& parse);

// The records of `decoded` as batches, one per source format (`format` for records without
// their own), in first-seen order: what the intake stores as one unit.
std::vector<model::Batch> into_batches(Decoded decoded, std::string_view format,
                                       core::Micros received_at);

class FormatRegistry {
 public:
  // A duplicate name or media type is a programming error (std::logic_error).
  void add(Format format);
  const Format* find(std::string_view name) const;
  // `media_type` as media_type() returns it.
  const Format* for_media_type(std::string_view media_type) const;
  // The best-scoring format among `candidates` (names; empty: all), or null when none scores.
  const Format* sniff(std::string_view body, const std::vector<std::string_view>& candidates) const;
  std::vector<std::string> media_types() const;
  // The formats with a parse_line (one log per line), in registration order.
  std::vector<const Format*> line_formats() const;

 private:
  std::vector<Format> formats_;
};

// The one list of built-in formats.
void register_builtin_formats(FormatRegistry& registry);
// A registry holding them, built once.
const FormatRegistry& builtin_formats();

// "Application/JSON; charset=utf-8" → "application/json".
std::string media_type(std::string_view content_type);

// The step before any decode: undoes the body's Content-Encoding: identity, gzip (x-gzip),
// deflate (zlib, or raw as some clients send it), zstd and snappy (the block format), also several
// in a list ("gzip, zstd" was zstd'd, then gzipped). `storage` holds the decoded bytes when they
// differ from `body`. Decoding stops as soon as the output would pass `max_decoded_bytes`
// (Errc::too_large: a decompression bomb costs at most that much memory); corrupt or truncated data
// is Errc::malformed; an unknown coding Errc::unsupported.
inline constexpr std::size_t kDefaultMaxDecodedBytes = std::size_t{64} << 20;
core::Result<std::string_view> decode_content(
    std::string_view content_encoding, std::string_view body, std::string& storage,
    std::size_t max_decoded_bytes = kDefaultMaxDecodedBytes);

// One snappy block (not the framing format) into `out`. The length its header states is
// checked against the cap before decoding (Errc::too_large, nothing allocated); a corrupt or
// truncated block is Errc::malformed. Loki's protobuf push is a snappy block without any
// Content-Encoding header, so its endpoint calls this directly.
core::Status decode_snappy(std::string_view in, std::size_t max_decoded_bytes, std::string& out);

}  // namespace logpipe::ingest
