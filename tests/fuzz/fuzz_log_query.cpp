// libFuzzer target: the query parameters of the read endpoints (untrusted text from the URL):
// GET /api/v1/logs, its export and histogram, DELETE /api/v1/logs, /api/v1/stats,
// /api/v1/devices. Parsing must never crash; a refusal is a 422 naming the parameter; what is
// accepted is within its documented bounds (a histogram's range whole buckets, at most 2000), and
// a cursor survives its own round trip.
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "query/catalog.hpp"
#include "query/histogram.hpp"
#include "query/logs.hpp"
#include "query/stats.hpp"

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
  constexpr core::Micros kNow = 1'764'000'000'000'000;
  const auto refused_well = [](const core::Error& e) {
    check(e.code == core::Errc::invalid_field && !e.details.empty());
  };
  if (auto stats = query::parse_stats_query(params, 1, kNow); stats) {
    check(stats->recent_devices >= 0 && stats->recent_devices <= 1000);
    check(!stats->from || !stats->to || *stats->from <= *stats->to);
  } else {
    refused_well(stats.error());
  }
  if (auto devices = query::parse_device_list_query(params, 1, kNow); devices) {
    check(devices->limit >= 1 && devices->limit <= 10'000);
  } else {
    refused_well(devices.error());
  }
  if (auto del = query::parse_log_delete(params, 1, kNow); del) {
    check(!del->filter.empty() && del->limit >= 1 && del->limit <= 100'000);
  } else {
    refused_well(del.error());
  }
  if (auto exported = query::parse_log_export_query(params, 1, kNow); exported) {
    check(!exported->limit || *exported->limit >= 1);
    check(!exported->filter.from || !exported->filter.to ||
          *exported->filter.from <= *exported->filter.to);
  } else {
    refused_well(exported.error());
  }
  if (auto h = query::parse_histogram_query(params, 1, kNow); h) {
    const core::Micros length = h->interval.length;
    check(length > 0 && h->filter.from && h->filter.to);
    check(core::floor_to(*h->filter.from, length) == *h->filter.from);
    check(*h->filter.to > *h->filter.from && (*h->filter.to - *h->filter.from) % length == 0);
    check((*h->filter.to - *h->filter.from) / length <= query::kMaxBuckets);
  } else {
    refused_well(h.error());
  }
  auto q = query::parse_log_query(params, 1, kNow);
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
