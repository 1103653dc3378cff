// The libFuzzer target of the line formats, included by one fuzz_line_<format>.cpp per format,
// which defines LOGPIPE_FUZZ_FORMAT first (apache, logfmt, plain, json, auto, pattern). A body is
// decoded as the raw endpoint does; decoding must never crash, hang or leak, and every record it
// accepts must hold what the queue and PostgreSQL rely on. For "pattern" the input's first line is
// the regex, its second the ts_format, the rest the body: compiling hostile patterns is part of the
// surface.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "ingest/auto_detect.hpp"
#include "ingest/format.hpp"
#include "ingest/formats/pattern.hpp"

namespace {

using namespace logpipe;
using fuzz::check;

void check_decoded(const core::Result<ingest::Decoded>& decoded,
                   const ingest::DecodeOptions& options, bool with_formats) {
  if (!decoded) return;
  check(decoded->records.size() <= options.max_records);
  check(decoded->problems.size() <= ingest::kMaxProblemDetails);
  check(decoded->problems.size() <= decoded->problem_count);
  check(decoded->problem_count == decoded->rejected_items);
  check(!with_formats || decoded->record_formats.size() == decoded->records.size());
  simdjson::dom::parser parser;
  for (const auto& r : decoded->records) {
    check(!r.message.empty());
    check(r.message.size() <= options.max_message_bytes);
    check(simdjson::validate_utf8(r.message.data(), r.message.size()));
    for (const std::string* name : {&r.device_id, &r.service, &r.app, &r.host}) {
      check(name->size() <= options.max_name_bytes);
      check(simdjson::validate_utf8(name->data(), name->size()));
    }
    simdjson::dom::element attrs;
    check(parser.parse(r.attrs_json).get(attrs) == simdjson::SUCCESS && attrs.is_object());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ingest::DecodeOptions options;
  options.received_at = 1'709'200'000'000'000;
  options.max_records = 256;
  options.max_depth = 16;
  options.max_message_bytes = 512;
  options.max_name_bytes = 32;
  const std::string_view name = LOGPIPE_FUZZ_FORMAT;
  if (name == "auto") {
    static const ingest::AutoDetect detect(ingest::builtin_formats());
    check_decoded(detect.decode(input, options), options, true);
    return 0;
  }
  if (name == "pattern") {
    const auto nl = input.find('\n');
    if (nl == std::string_view::npos) return 0;
    const std::string_view regex = input.substr(0, nl);
    input.remove_prefix(nl + 1);
    const auto nl2 = input.find('\n');
    if (nl2 == std::string_view::npos) return 0;
    const std::string_view ts_format = input.substr(0, nl2);
    input.remove_prefix(nl2 + 1);
    auto format = ingest::pattern_format({"fuzz", std::string(regex), std::string(ts_format)});
    if (!format) return 0;
    check_decoded(ingest::decode_lines(input, options, format->parse_line), options, false);
    for (std::string_view line : {input.substr(0, input.find('\n')), input})
      check(format->sniff_line(line) >= 0 && format->sniff_line(line) <= 100);
    return 0;
  }
  const ingest::Format* format = ingest::builtin_formats().find(name);
  check(format != nullptr && format->parse_line != nullptr);
  const int score = format->sniff_line(input.substr(0, input.find('\n')));
  check(score >= 0 && score <= 100);
  check_decoded(ingest::decode_lines(input, options, format->parse_line), options, false);
  return 0;
}
