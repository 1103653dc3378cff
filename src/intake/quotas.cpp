#include "intake/quotas.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace logpipe::intake {
namespace {

using core::kDay;

// Until the quotas reset, at the next 00:00 UTC.
unsigned seconds_to_next_day(core::Micros now) {
  const core::Micros left = core::floor_to(now, kDay) + kDay - now;
  return static_cast<unsigned>((left + core::kSecond - 1) / core::kSecond);
}

QuotaRefusal exhausted(model::TenantId tenant, QuotaKind kind, std::int64_t limit,
                       core::Micros now) {
  const bool logs = kind == QuotaKind::logs;
  core::Error error(core::Errc::rate_limited,
                    fmt::format("tenant {} has used its daily quota of {} {} ({}); nothing was "
                                "stored; the quota resets at 00:00 UTC",
                                tenant, limit, logs ? "logs" : "bytes",
                                logs ? "max_logs_per_day" : "max_bytes_per_day"));
  error.retry_after_seconds = seconds_to_next_day(now);
  return {kind, std::move(error)};
}

}  // namespace

std::int64_t record_bytes(const model::Record& r) {
  return static_cast<std::int64_t>(r.message.size() + r.device_id.size() + r.service.size() +
                                   r.app.size() + r.host.size() + r.attrs_json.size());
}

void QuotaLedger::set_limits(const std::unordered_map<model::TenantId, TenantLimits>& limits) {
  std::lock_guard lock(mutex_);
  for (auto it = usage_.begin(); it != usage_.end();) {
    if (!limits.count(it->first)) {
      it = usage_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [tenant, l] : limits)
    usage_[tenant].limits = l;
  any_ = !usage_.empty();
}

QuotaLedger::Usage* QuotaLedger::current(model::TenantId tenant, core::Micros now) {
  auto it = usage_.find(tenant);
  if (it == usage_.end()) return nullptr;
  Usage& u = it->second;
  const core::Micros today = core::floor_to(now, kDay);
  if (u.day != today) {
    // A new day: yesterday's counts (and any answer still coming for them) no longer matter.
    u.day = today;
    u.logs = {};
    u.bytes = {};
  }
  return &u;
}

std::optional<QuotaRefusal> QuotaLedger::check(model::TenantId tenant, core::Micros now) const {
  if (!any()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = usage_.find(tenant);
  if (it == usage_.end() || it->second.day != core::floor_to(now, kDay)) return std::nullopt;
  const Usage& u = it->second;
  if (u.limits.max_logs_per_day > 0 && u.logs.used() >= u.limits.max_logs_per_day)
    return exhausted(tenant, QuotaKind::logs, u.limits.max_logs_per_day, now);
  if (u.limits.max_bytes_per_day > 0 && u.bytes.used() >= u.limits.max_bytes_per_day)
    return exhausted(tenant, QuotaKind::bytes, u.limits.max_bytes_per_day, now);
  return std::nullopt;
}

std::optional<QuotaRefusal> QuotaLedger::charge(model::TenantId tenant, std::int64_t logs,
                                                std::int64_t bytes, core::Micros now) {
  if (!any()) return std::nullopt;
  std::lock_guard lock(mutex_);
  Usage* u = current(tenant, now);
  if (!u) return std::nullopt;
  if (u->limits.max_logs_per_day > 0 && u->logs.used() + logs > u->limits.max_logs_per_day)
    return exhausted(tenant, QuotaKind::logs, u->limits.max_logs_per_day, now);
  if (u->limits.max_bytes_per_day > 0 && u->bytes.used() + bytes > u->limits.max_bytes_per_day)
    return exhausted(tenant, QuotaKind::bytes, u->limits.max_bytes_per_day, now);
  u->logs.pending += logs;
  u->bytes.pending += bytes;
  return std::nullopt;
}

std::vector<QuotaLedger::Pending> QuotaLedger::take_pending(core::Micros now) {
  std::vector<Pending> out;
  if (!any()) return out;
  std::lock_guard lock(mutex_);
  out.reserve(usage_.size());
  for (auto& [tenant, ignored] : usage_) {
    Usage* u = current(tenant, now);
    out.push_back({tenant, core::format_date(u->day), u->logs.pending, u->bytes.pending});
    u->logs.in_flight += u->logs.pending;
    u->bytes.in_flight += u->bytes.pending;
    u->logs.pending = 0;
    u->bytes.pending = 0;
  }
  return out;
}

void QuotaLedger::observed(model::TenantId tenant, const std::string& day, QuotaKind kind,
                           std::int64_t amount, std::int64_t total) {
  std::lock_guard lock(mutex_);
  auto it = usage_.find(tenant);
  if (it == usage_.end() || core::format_date(it->second.day) != day) return;
  Counter& c = kind == QuotaKind::logs ? it->second.logs : it->second.bytes;
  // The total includes `amount` (and everything this instance sent before it); what is still in
  // flight was sent after it.
  c.known = std::max(c.known, total);
  c.in_flight -= amount;
}

void QuotaLedger::failed(model::TenantId tenant, const std::string& day, QuotaKind kind,
                         std::int64_t amount) {
  std::lock_guard lock(mutex_);
  auto it = usage_.find(tenant);
  if (it == usage_.end() || core::format_date(it->second.day) != day) return;
  Counter& c = kind == QuotaKind::logs ? it->second.logs : it->second.bytes;
  c.in_flight -= amount;
  c.pending += amount;
}

}  // namespace logpipe::intake
