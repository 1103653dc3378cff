#include "http/sse_parser.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdint>

namespace logpipe::http {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

core::Status SseParser::feed(std::string_view bytes, std::vector<SseEvent>& events) {
  if (failed_) return too_large();
  std::size_t i = 0;
  while (at_start_ && i < bytes.size()) {
    if (bytes[i] == kBom[bom_seen_]) {
      ++i;
      if (++bom_seen_ == kBom.size()) at_start_ = false;
      continue;
    }
    // The start of a BOM that turned out to be none is text of the first line.
    at_start_ = false;
    line_.append(kBom.substr(0, bom_seen_));
  }
  while (i < bytes.size()) {
    if (after_cr_) {
      after_cr_ = false;
      if (bytes[i] == '\n') {  // the LF of a CRLF, whichever read brought it
        ++i;
        continue;
      }
    }
    const auto end = bytes.find_first_of("\r\n", i);
    const auto piece = bytes.substr(i, end == std::string_view::npos ? end : end - i);
    if (line_.size() + piece.size() > max_event_bytes_) {
      failed_ = true;
      return too_large();
    }
    line_.append(piece);
    if (end == std::string_view::npos) break;
    after_cr_ = bytes[end] == '\r';
    line(line_, events);
    line_.clear();
    if (failed_) return too_large();
    i = end + 1;
  }
  return {};
}

void SseParser::restart() {
  line_.clear();
  data_.clear();
  type_.clear();
  bom_seen_ = 0;
  at_start_ = true;
  after_cr_ = false;
  failed_ = false;
}

void SseParser::line(std::string_view text, std::vector<SseEvent>& events) {
  if (text.empty()) {
    // An event without data (only `event:` or `id:` lines) is not dispatched.
    if (!data_.empty()) {
      data_.pop_back();  // the LF after the last data line
      events.push_back(
          {type_.empty() ? "message" : std::move(type_), std::move(data_), last_event_id_});
    }
    data_.clear();
    type_.clear();
    return;
  }
  if (text.front() == ':') {
    ++comments_;
    return;
  }
  const auto colon = text.find(':');
  const auto field = text.substr(0, colon);
  auto value = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  if (value.starts_with(' ')) value.remove_prefix(1);
  if (field == "data") {
    if (data_.size() + value.size() + 1 > max_event_bytes_) {
      failed_ = true;
      return;
    }
    data_.append(value);
    data_.push_back('\n');
  } else if (field == "event") {
    type_ = value;
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_event_id_ = value;
  } else if (field == "retry") {
    std::uint64_t ms = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    // Digits only: from_chars stops at the first other character, which must be the end.
    if (ec == std::errc() && end == value.data() + value.size() &&
        ms <= static_cast<std::uint64_t>(std::chrono::milliseconds::max().count()))
      retry_ = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms));
  }
}

core::Status SseParser::too_large() const {
  return core::make_error(
      core::Errc::too_large,
      fmt::format("an event stream line or event is larger than {} bytes", max_event_bytes_));
}

}  // namespace logpipe::http
