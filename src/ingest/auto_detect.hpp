// format=auto: each line of a body goes to the line format that scores it highest
// (Format::sniff_line) among those of a registry — the built-in ones, the user's patterns, and any
// line format registered later (syslog) without a change here. The lowest score is plain's (any
// line: 1), so every line has a format when plain is registered.
#pragma once

#include <string_view>
#include <vector>

#include "ingest/format.hpp"

namespace logpipe::ingest {

class AutoDetect {
 public:
  // `registry` must outlive this object, unchanged: records name its formats.
  explicit AutoDetect(const FormatRegistry& registry);

  // The format that scores `line` highest (the first registered one on a tie); null when none
  // scores it above 0.
  const Format* pick(std::string_view line) const;

  // decode_lines with pick() per line; record_formats names each record's format. A line its
  // format rejects is a problem "<format>: <why>" (it is not tried as another format: a JSON
  // object with a wrong field is a mistake to report, not a line of text).
  core::Result<Decoded> decode(std::string_view body, const DecodeOptions& options) const;

 private:
  std::vector<const Format*> formats_;
};

}  // namespace logpipe::ingest
