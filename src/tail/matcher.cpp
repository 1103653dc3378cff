#include "tail/matcher.hpp"

#include <locale.h>  // newlocale, towlower_l (POSIX)

#include <clocale>
#include <cwctype>

#include "core/json_writer.hpp"
#include "tail/json_path.hpp"

namespace logpipe::tail {
namespace {

// glibc's C.UTF-8 (built in since 2.35): the case mapping of every UTF-8 locale, as PostgreSQL's
// lower() uses it through towlower_l. Created once; a locale_t is safe to share across threads.
locale_t utf8_locale() {
  static const locale_t locale = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (l == static_cast<locale_t>(nullptr))
      l = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", static_cast<locale_t>(nullptr));
    return l;
  }();
  return locale;
}

// The code point at text[i] and its length; length 0 for a byte that starts no valid sequence.
std::pair<std::uint32_t, std::size_t> decode_utf8(std::string_view text, std::size_t i) {
  const auto b = static_cast<unsigned char>(text[i]);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (b < 0x80) return {b, 1};
  if ((b & 0xE0) == 0xC0) {
    n = 2;
    cp = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
    cp = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
    cp = b & 0x07;
  } else {
    return {0, 0};
  }
  if (i + n > text.size()) return {0, 0};
  for (std::size_t k = 1; k < n; ++k) {
    const auto c = static_cast<unsigned char>(text[i + k]);
    if ((c & 0xC0) != 0x80) return {0, 0};
    cp = (cp << 6) | (c & 0x3F);
  }
  static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {0, 0};
  return {cp, n};
}

}  // namespace

CaseFolding case_folding_of(std::string_view lc_ctype) {
  return lc_ctype == "C" || lc_ctype == "POSIX" ? CaseFolding::ascii : CaseFolding::unicode;
}

std::string fold_case(std::string_view text, CaseFolding folding) {
  std::string out;
  out.reserve(text.size());
  const locale_t locale = folding == CaseFolding::unicode ? utf8_locale() : nullptr;
  for (std::size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) < 0x80 || locale == nullptr) {
      out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
      ++i;
      continue;
    }
    const auto [cp, n] = decode_utf8(text, i);
    if (n == 0) {
      out.push_back(c);
      ++i;
      continue;
    }
    core::append_utf8(out, static_cast<std::uint32_t>(towlower_l(static_cast<wint_t>(cp), locale)));
    i += n;
  }
  return out;
}

const std::string& Candidate::folded_message(CaseFolding folding) {
  auto& slot = folded_[folding == CaseFolding::unicode ? 0 : 1];
  if (!slot) slot = fold_case(record_.message, folding);
  return *slot;
}

Matcher Matcher::compile(const query::LogFilter& filter, CaseFolding folding) {
  Matcher m;
  m.tenant_ = filter.tenant;
  m.folding_ = folding;
  m.device_id_ = filter.device_id;
  m.service_ = filter.service;
  m.app_ = filter.app;
  m.host_ = filter.host;
  for (const auto level : filter.levels)
    m.levels_ |= 1U << static_cast<unsigned>(level);
  for (const auto& term : filter.terms)
    m.terms_.push_back(fold_case(term, folding));
  m.attrs_ = filter.attrs;
  return m;
}

bool Matcher::matches(model::TenantId tenant, const model::Record& record) const {
  Candidate candidate(tenant, record);
  return matches(candidate);
}

bool Matcher::matches(Candidate& candidate) const {
  if (candidate.tenant() != tenant_) return false;
  const model::Record& r = candidate.record();
  // An empty field is stored as NULL, which equals nothing (not even "").
  const auto equal = [](const std::optional<std::string>& wanted, const std::string& field) {
    return !wanted || (!field.empty() && field == *wanted);
  };
  if (!equal(device_id_, r.device_id) || !equal(service_, r.service) || !equal(app_, r.app) ||
      !equal(host_, r.host))
    return false;
  if (levels_ != 0 && (levels_ & (1U << static_cast<unsigned>(r.level))) == 0) return false;
  if (!terms_.empty()) {
    const std::string& message = candidate.folded_message(folding_);
    for (const auto& term : terms_) {
      if (message.find(term) == std::string::npos) return false;
    }
  }
  for (const auto& [path, value] : attrs_) {
    const auto text = json_path_text(r.attrs_json, path);
    if (!text || *text != value) return false;
  }
  return true;
}

}  // namespace logpipe::tail
