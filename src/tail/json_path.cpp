#include "tail/json_path.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "core/json_writer.hpp"

namespace logpipe::tail {
namespace {

constexpr int kMaxDepth = 256;         // deeper JSON is refused (nullopt), never a deep recursion
constexpr long kMaxExponent = 100000;  // numeric's own limit is far beyond any real attribute

// jsonb's escape_json: the two JSON specials and control characters escaped, the rest as is.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char c : text) {
    switch (c) {
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out.push_back(kHex[(c >> 4) & 0xF]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

// A recursive-descent reader of one JSON text; every method returns false on malformed input.
class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  char peek() {
    ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  std::size_t pos() const { return i_; }
  void seek(std::size_t pos) { i_ = pos; }

  // A string at the cursor, unescaped into `out` (when not null).
  bool string(std::string* out) {
    if (!eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        if (out) out->push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      char plain = 0;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          plain = e;
          break;
        case 'b':
          plain = '\b';
          break;
        case 'f':
          plain = '\f';
          break;
        case 'n':
          plain = '\n';
          break;
        case 'r':
          plain = '\r';
          break;
        case 't':
          plain = '\t';
          break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00) {
            std::uint32_t low = 0;
            if (i_ + 1 >= s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return false;
            i_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          if (cp == 0) cp = 0xFFFD;  // as the store writes it: jsonb refuses \u0000
          if (out) core::append_utf8(*out, cp);
          continue;
        }
        default:
          return false;
      }
      if (out) out->push_back(plain);
    }
    return false;
  }

  // A number at the cursor: its text.
  bool number(std::string_view& text) {
    ws();
    const std::size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    const std::size_t digits = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
      ++i_;
    if (i_ == digits || (s_[digits] == '0' && i_ - digits > 1)) return false;
    if (i_ < s_.size() && s_[i_] == '.') {
      const std::size_t frac = ++i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
        ++i_;
      if (i_ == frac) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      const std::size_t exp = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9')
        ++i_;
      if (i_ == exp) return false;
    }
    text = s_.substr(start, i_ - start);
    return true;
  }

  bool literal(std::string_view word) {
    ws();
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  bool skip(int depth = 0) {
    std::string_view ignored;
    return value(nullptr, ignored, depth);
  }

  // A value at the cursor, printed as jsonb prints it into `out` (when not null).
  bool value(std::string* out, std::string_view& number_text, int depth) {
    if (depth > kMaxDepth) return false;
    switch (peek()) {
      case '{':
        return object(out, depth);
      case '[':
        return array(out, depth);
      case '"': {
        if (!out) return string(nullptr);
        std::string text;
        if (!string(&text)) return false;
        append_json_string(*out, text);
        return true;
      }
      case 't':
        if (out) *out += "true";
        return literal("true");
      case 'f':
        if (out) *out += "false";
        return literal("false");
      case 'n':
        if (out) *out += "null";
        return literal("null");
      default: {
        if (!number(number_text)) return false;
        if (!out) return true;
        auto printed = numeric_text(number_text);
        if (!printed) return false;
        *out += *printed;
        return true;
      }
    }
  }

 private:
  bool hex4(std::uint32_t& out) {
    if (i_ + 4 > s_.size()) return false;
    out = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      out <<= 4;
      if (c >= '0' && c <= '9') {
        out |= static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        out |= static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        out |= static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  bool object(std::string* out, int depth) {
    eat('{');
    std::vector<std::pair<std::string, std::string>> members;  // only when printing
    if (!eat('}')) {
      do {
        std::string key;
        if (!string(out ? &key : nullptr) || !eat(':')) return false;
        std::string printed;
        std::string_view ignored;
        if (!value(out ? &printed : nullptr, ignored, depth + 1)) return false;
        if (out) members.emplace_back(std::move(key), std::move(printed));
      } while (eat(','));
      if (!eat('}')) return false;
    }
    if (!out) return true;
    // jsonb: a repeated key keeps its last value; keys ordered by length, then bytes.
    std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
      if (a.first.size() != b.first.size()) return a.first.size() < b.first.size();
      return a.first < b.first;
    });
    out->push_back('{');
    bool first = true;
    for (std::size_t k = 0; k < members.size(); ++k) {
      if (k + 1 < members.size() && members[k + 1].first == members[k].first) continue;
      if (!first) *out += ", ";
      first = false;
      append_json_string(*out, members[k].first);
      *out += ": ";
      *out += members[k].second;
    }
    out->push_back('}');
    return true;
  }

  bool array(std::string* out, int depth) {
    eat('[');
    if (out) out->push_back('[');
    if (!eat(']')) {
      bool first = true;
      do {
        if (out && !first) *out += ", ";
        first = false;
        std::string_view ignored;
        if (!value(out, ignored, depth + 1)) return false;
      } while (eat(','));
      if (!eat(']')) return false;
    }
    if (out) out->push_back(']');
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

// A path element as an array index, as PostgreSQL reads it (strtol of the whole text; negative
// counts from the end).
std::optional<long> array_index(const std::string& text) {
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const long index = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || *end != '\0' || errno != 0 || index > INT_MAX || index < INT_MIN)
    return std::nullopt;
  return index;
}

}  // namespace

std::optional<std::string> numeric_text(std::string_view number) {
  bool negative = false;
  std::size_t i = 0;
  if (i < number.size() && number[i] == '-') {
    negative = true;
    ++i;
  }
  std::string digits;
  long int_digits = 0;
  long frac_digits = 0;
  while (i < number.size() && number[i] >= '0' && number[i] <= '9') {
    digits.push_back(number[i++]);
    ++int_digits;
  }
  if (int_digits == 0) return std::nullopt;
  if (i < number.size() && number[i] == '.') {
    ++i;
    while (i < number.size() && number[i] >= '0' && number[i] <= '9') {
      digits.push_back(number[i++]);
      ++frac_digits;
    }
    if (frac_digits == 0) return std::nullopt;
  }
  long exponent = 0;
  if (i < number.size() && (number[i] == 'e' || number[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < number.size() && (number[i] == '+' || number[i] == '-'))
      exp_negative = number[i++] == '-';
    const std::size_t start = i;
    while (i < number.size() && number[i] >= '0' && number[i] <= '9') {
      exponent = exponent * 10 + (number[i++] - '0');
      if (exponent > kMaxExponent) return std::nullopt;
    }
    if (i == start) return std::nullopt;
    if (exp_negative) exponent = -exponent;
  }
  if (i != number.size()) return std::nullopt;
  // numeric keeps the scale the text gave, less the exponent: 1.50 → 1.50, 1.5e1 → 15, 1e-2 → 0.01.
  const long scale = std::max(0L, frac_digits - exponent);
  const long point = int_digits + exponent;  // digits before the decimal point
  std::string whole, fraction;
  const long n = static_cast<long>(digits.size());
  for (long k = 0; k < point; ++k)
    whole.push_back(k < n ? digits[static_cast<std::size_t>(k)] : '0');
  for (long k = point; static_cast<long>(fraction.size()) < scale; ++k)
    fraction.push_back(k >= 0 && k < n ? digits[static_cast<std::size_t>(k)] : '0');
  const auto nonzero = whole.find_first_not_of('0');
  whole = nonzero == std::string::npos ? "0" : whole.substr(nonzero);
  const bool zero = whole == "0" && fraction.find_first_not_of('0') == std::string::npos;
  std::string out = negative && !zero ? "-" : "";
  out += whole;
  if (!fraction.empty()) {
    out.push_back('.');
    out += fraction;
  }
  return out;
}

std::optional<std::string> json_path_text(std::string_view json,
                                          const std::vector<std::string>& path) {
  Reader r(json);
  for (const auto& step : path) {
    const char open = r.peek();
    if (open == '{') {
      r.eat('{');
      std::optional<std::size_t> found;  // a repeated key: the last one counts, as in jsonb
      if (!r.eat('}')) {
        do {
          std::string key;
          if (!r.string(&key) || !r.eat(':')) return std::nullopt;
          r.ws();
          if (key == step) found = r.pos();
          if (!r.skip()) return std::nullopt;
        } while (r.eat(','));
        if (!r.eat('}')) return std::nullopt;
      }
      if (!found) return std::nullopt;
      r.seek(*found);
    } else if (open == '[') {
      const auto index = array_index(step);
      if (!index) return std::nullopt;
      r.eat('[');
      std::vector<std::size_t> starts;
      if (!r.eat(']')) {
        do {
          r.ws();
          starts.push_back(r.pos());
          if (!r.skip()) return std::nullopt;
        } while (r.eat(','));
        if (!r.eat(']')) return std::nullopt;
      }
      const long size = static_cast<long>(starts.size());
      const long at = *index >= 0 ? *index : size + *index;
      if (at < 0 || at >= size) return std::nullopt;
      r.seek(starts[static_cast<std::size_t>(at)]);
    } else {
      return std::nullopt;  // a path through a scalar
    }
  }
  switch (r.peek()) {
    case '"': {
      std::string text;
      if (!r.string(&text)) return std::nullopt;
      return text;
    }
    case 'n':
      return std::nullopt;  // JSON null: SQL NULL
    default: {
      std::string printed;
      std::string_view ignored;
      if (!r.value(&printed, ignored, 0)) return std::nullopt;
      return printed;
    }
  }
}

}  // namespace logpipe::tail
