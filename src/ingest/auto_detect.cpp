#include "ingest/auto_detect.hpp"

namespace logpipe::ingest {

AutoDetect::AutoDetect(const FormatRegistry& registry) {
  for (const auto* f : registry.line_formats()) {
    if (f->sniff_line) formats_.push_back(f);
  }
}

const Format* AutoDetect::pick(std::string_view line) const {
  const Format* best = nullptr;
  int best_score = 0;
  for (const auto* f : formats_) {
    if (const int score = f->sniff_line(line); score > best_score) {
      best = f;
      best_score = score;
    }
  }
  return best;
}

core::Result<Decoded> AutoDetect::decode(std::string_view body,
                                         const DecodeOptions& options) const {
  std::vector<std::string_view> names;
  auto decoded = decode_lines(
      body, options,
      [&](std::string_view line, const DecodeOptions& o, model::Record& out, std::string& why) {
        const Format* format = pick(line);
        if (format == nullptr) {
          why = "no format recognises this line";
          return false;
        }
        if (!format->parse_line(line, o, out, why)) {
          why.insert(0, format->name + ": ");
          return false;
        }
        names.push_back(format->name);
        return true;
      });
  if (decoded) decoded->record_formats = std::move(names);
  return decoded;
}

}  // namespace logpipe::ingest
