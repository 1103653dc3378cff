#include "listeners/framing.hpp"

#include <algorithm>
#include <cstring>

namespace logpipe::listeners {
namespace {

constexpr std::size_t kMaxCountDigits = 9;  // < 1 GB: more is no count but text

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool ends_frame(char c) {
  return c == '\n' || c == '\0';
}

}  // namespace

void FrameDecoder::append(std::string_view data) {
  // What was returned is now free: keep only the unread bytes, at the front.
  if (pos_ > 0) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  if (skip_bytes_ > 0) {  // an oversized frame's body never needs to be held
    const std::size_t n = std::min(skip_bytes_, data.size());
    skip_bytes_ -= n;
    data.remove_prefix(n);
  }
  buffer_.append(data);
}

std::optional<std::string_view> FrameDecoder::next() {
  while (true) {
    std::string_view rest(buffer_.data() + pos_, buffer_.size() - pos_);
    if (skip_bytes_ > 0) {
      const std::size_t n = std::min(skip_bytes_, rest.size());
      skip_bytes_ -= n;
      pos_ += n;
      if (skip_bytes_ > 0) return std::nullopt;
      continue;
    }
    if (skip_line_) {
      const auto end = std::find_if(rest.begin(), rest.end(), ends_frame);
      if (end == rest.end()) {
        pos_ = buffer_.size();
        return std::nullopt;
      }
      pos_ += static_cast<std::size_t>(end - rest.begin()) + 1;
      skip_line_ = false;
      continue;
    }
    // Between frames: stray line ends and NULs.
    std::size_t lead = 0;
    while (lead < rest.size() && (rest[lead] == '\n' || rest[lead] == '\r' || rest[lead] == '\0'))
      ++lead;
    if (lead > 0) {
      pos_ += lead;
      scanned_ = 0;
      continue;
    }
    if (rest.empty()) return std::nullopt;

    if (is_digit(rest[0])) {
      std::size_t digits = 0;
      std::size_t count = 0;
      while (digits < rest.size() && digits <= kMaxCountDigits && is_digit(rest[digits])) {
        count = count * 10 + static_cast<std::size_t>(rest[digits] - '0');
        ++digits;
      }
      if (digits == rest.size() && digits <= kMaxCountDigits)
        return std::nullopt;  // the count may go on in the next read
      if (digits <= kMaxCountDigits && rest[digits] == ' ') {
        const std::size_t header = digits + 1;
        if (count > max_) {
          ++oversized_;
          pos_ += header;
          skip_bytes_ = count;
          scanned_ = 0;
          continue;
        }
        if (rest.size() - header < count) return std::nullopt;
        pos_ += header + count;
        scanned_ = 0;
        if (count == 0) continue;
        return rest.substr(header, count);
      }
      // Digits, then not a space: text, framed by its line end.
    }

    const auto from = rest.begin() + static_cast<std::ptrdiff_t>(std::min(scanned_, rest.size()));
    const auto end = std::find_if(from, rest.end(), ends_frame);
    if (end == rest.end()) {
      scanned_ = rest.size();
      // No end within the limit (and a CR that would be dropped): skip the line.
      if (rest.size() > max_ + 1) {
        ++oversized_;
        pos_ = buffer_.size();
        skip_line_ = true;
        scanned_ = 0;
      }
      return std::nullopt;
    }
    std::size_t length = static_cast<std::size_t>(end - rest.begin());
    pos_ += length + 1;
    scanned_ = 0;
    if (length > 0 && rest[length - 1] == '\r') --length;
    if (length > max_) {
      ++oversized_;
      continue;
    }
    if (length == 0) continue;
    return rest.substr(0, length);
  }
}

std::optional<std::string_view> FrameDecoder::finish() {
  std::string_view rest(buffer_.data() + pos_, buffer_.size() - pos_);
  pos_ = buffer_.size();
  scanned_ = 0;
  if (skip_bytes_ > 0 || skip_line_) {
    skip_bytes_ = 0;
    skip_line_ = false;
    return std::nullopt;
  }
  if (rest.empty()) return std::nullopt;
  // An octet-counted frame cut short: its header parses, its body is incomplete.
  std::size_t digits = 0;
  while (digits < rest.size() && is_digit(rest[digits]))
    ++digits;
  if (digits > 0 && digits <= kMaxCountDigits && digits < rest.size() && rest[digits] == ' ') {
    ++truncated_;
    return std::nullopt;
  }
  if (rest.back() == '\r') rest.remove_suffix(1);
  if (rest.empty() || rest.size() > max_) return std::nullopt;
  return rest;
}

}  // namespace logpipe::listeners
