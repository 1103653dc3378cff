// libFuzzer target: what a live tail's WebSocket client sends to change its filter
// ({"filter":{…}}, untrusted text), and the #>> reader the matcher runs over a record's attrs.
// Parsing must never crash; a refusal is malformed or a 422 naming the parameter; an accepted
// filter compiles and tests a record; the same bytes as attrs are read without harm.
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "tail/filter_message.hpp"
#include "tail/json_path.hpp"
#include "tail/matcher.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr core::Micros kNow = 1'764'000'000'000'000;

  model::Record record;
  record.message = "Timeout ÄRGER σφάλμα 100%";
  record.service = "api";
  record.attrs_json = R"({"region":"eu","http":{"status":500},"tags":["a",{"k":1.50}]})";
  auto filter = tail::parse_filter_message(text, 3, kNow);
  if (filter) {
    check(filter->tenant == 3 && !filter->from && !filter->to);
    for (const auto folding : {tail::CaseFolding::unicode, tail::CaseFolding::ascii}) {
      const auto matcher = tail::Matcher::compile(*filter, folding);
      check(!matcher.matches(4, record));  // never another tenant's
      (void)matcher.matches(3, record);
    }
  } else {
    const auto code = filter.error().code;
    check(code == core::Errc::malformed ||
          (code == core::Errc::invalid_field && !filter.error().details.empty()));
  }

  // The same bytes as a record's attrs and its message.
  for (const auto& path : {std::vector<std::string>{"a"}, std::vector<std::string>{"a", "0"},
                           std::vector<std::string>{"a", "-1", "b"}}) {
    if (auto value = tail::json_path_text(text, path)) check(value->size() <= size * 8 + 16);
  }
  (void)tail::fold_case(text, tail::CaseFolding::unicode);
  return 0;
}
