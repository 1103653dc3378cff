#include "ingest/format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace logpipe::ingest {

core::Result<std::vector<model::Record>> all_or_nothing(Decoded decoded) {
  if (decoded.problem_count == 0) return std::move(decoded.records);
  std::string message = fmt::format("{} problems in the request", decoded.problem_count);
  if (decoded.problem_count == 1) {
    const auto& d = decoded.problems.front();
    message = d.field.empty() ? d.message : fmt::format("{} {}", d.field, d.message);
  }
  return core::Error(core::Errc::invalid_field, std::move(message), std::move(decoded.problems));
}

core::Result<std::vector<model::Record>> all_or_nothing(core::Result<Decoded> decoded) {
  if (!decoded) return decoded.error();
  return all_or_nothing(std::move(decoded).value());
}

core::Result<Decoded> decode_lines(std::string_view body, const DecodeOptions& options,
                                   const ParseLine& parse) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (body.starts_with(kBom)) body.remove_prefix(kBom.size());
  Decoded decoded;
  std::string why;
  std::size_t line_number = 0;
  std::size_t items = 0;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (items++ == options.max_records) {
      return core::make_error(
          core::Errc::too_large,
          fmt::format("more than {} records in one request", options.max_records));
    }
    decoded.records.emplace_back();
    why.clear();
    if (parse(line, options, decoded.records.back(), why)) continue;
    decoded.records.pop_back();
    ++decoded.rejected_items;
    if (decoded.problems.size() < kMaxProblemDetails)
      decoded.problems.push_back({static_cast<long>(line_number), "", std::move(why)});
    ++decoded.problem_count;
  }
  if (items == 0) return core::make_error(core::Errc::invalid_field, "no records");
  return decoded;
}

std::vector<model::Batch> into_batches(Decoded decoded, std::string_view format,
                                       core::Micros received_at) {
  std::vector<model::Batch> batches;
  const auto batch_for = [&](std::string_view name) -> model::Batch& {
    for (auto& b : batches) {
      if (b.source_format == name) return b;
    }
    auto& b = batches.emplace_back();
    b.received_at = received_at;
    b.source_format = name;
    return b;
  };
  if (decoded.record_formats.size() != decoded.records.size()) {
    batch_for(format).records = std::move(decoded.records);
    return batches;
  }
  for (std::size_t i = 0; i < decoded.records.size(); ++i)
    batch_for(decoded.record_formats[i]).records.push_back(std::move(decoded.records[i]));
  return batches;
}

void FormatRegistry::add(Format format) {
  if (find(format.name)) throw std::logic_error("format registered twice: " + format.name);
  for (const auto& type : format.media_types) {
    if (for_media_type(type)) throw std::logic_error("media type registered twice: " + type);
  }
  formats_.push_back(std::move(format));
}

const Format* FormatRegistry::find(std::string_view name) const {
  for (const auto& f : formats_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const Format* FormatRegistry::for_media_type(std::string_view media_type) const {
  for (const auto& f : formats_) {
    if (std::find(f.media_types.begin(), f.media_types.end(), media_type) != f.media_types.end())
      return &f;
  }
  return nullptr;
}

const Format* FormatRegistry::sniff(std::string_view body,
                                    const std::vector<std::string_view>& candidates) const {
  constexpr std::size_t kHead = 4096;
  const std::string_view head = body.substr(0, kHead);
  const Format* best = nullptr;
  int best_score = 0;
  for (const auto& f : formats_) {
    if (!f.sniff) continue;
    if (!candidates.empty() &&
        std::find(candidates.begin(), candidates.end(), f.name) == candidates.end())
      continue;
    if (const int score = f.sniff(head); score > best_score) {
      best = &f;
      best_score = score;
    }
  }
  return best;
}

std::vector<std::string> FormatRegistry::media_types() const {
  std::vector<std::string> out;
  for (const auto& f : formats_)
    out.insert(out.end(), f.media_types.begin(), f.media_types.end());
  return out;
}

std::vector<const Format*> FormatRegistry::line_formats() const {
  std::vector<const Format*> out;
  for (const auto& f : formats_) {
    if (f.parse_line) out.push_back(&f);
  }
  return out;
}

const FormatRegistry& builtin_formats() {
  static const FormatRegistry registry = [] {
    FormatRegistry r;
    register_builtin_formats(r);
    return r;
  }();
  return registry;
}

std::string media_type(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  const auto first = content_type.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  content_type = content_type.substr(first, content_type.find_last_not_of(" \t") - first + 1);
  std::string out(content_type);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace logpipe::ingest
