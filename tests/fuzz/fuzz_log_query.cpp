// libFuzzer target: GET /api/v1/logs's parameters (untrusted text from the URL). Parsing must
// never crash; what it accepts must be a query the SQL builder can take as it is, and a cursor
// must survive its own round trip.
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "query/logs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  query::Params params;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    const auto eq = pair.find('=');
    params.emplace_back(std::string(pair.substr(0, eq)), eq == std::string_view::npos
                                                             ? std::string()
                                                             : std::string(pair.substr(eq + 1)));
  }
  auto q = query::parse_log_query(params, 1, 1'764'000'000'000'000);
  if (!q) {
    check(q.error().code == core::Errc::invalid_field && !q.error().details.empty());
    return 0;
  }
  check(q->limit >= 1 && q->limit <= query::kMaxLimit);
  check(!q->filter.from || !q->filter.to || *q->filter.from <= *q->filter.to);
  if (q->after) {
    auto again = query::decode_cursor(query::encode_cursor(*q->after));
    check(again.ok() && again->ts == q->after->ts && again->id == q->after->id);
  }
  return 0;
}
