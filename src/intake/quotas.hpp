// Per-tenant daily quotas (tenants.max_logs_per_day, max_bytes_per_day; README "Rate limits and
// quotas"): the bookkeeping of one serve process, without I/O, so that it is unit-tested with a
// clock of its own. The Intake feeds it:
//   - the limits, read from PostgreSQL every few seconds (set_limits);
//   - the day's usage across every serve instance: each instance adds its own counts to Redis
//     (INCRBY <stream>:quota:<tenant>:<YYYY-MM-DD>:logs|bytes, keys that expire after two days)
//     about once a second and keeps the totals Redis answers (take_pending, then observed).
// charge() on the hot path touches only local counters: used = the last total Redis answered +
// this instance's counts not yet confirmed by Redis. What other instances accepted since their last
// flush is not seen yet, so the tenants can go over by about one flush interval of the other
// instances' traffic (documented in README); never by this instance's own.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"
#include "core/time.hpp"
#include "model/record.hpp"

namespace logpipe::intake {

struct TenantLimits {
  std::int64_t max_logs_per_day = 0;  // 0: no quota
  std::int64_t max_bytes_per_day = 0;
};

// What a record costs against max_bytes_per_day: the text it stores (message, names, attrs).
std::int64_t record_bytes(const model::Record& record);

enum class QuotaKind { logs, bytes };

// Why records were refused: which quota (for the metric's reason) and the error to answer.
struct QuotaRefusal {
  QuotaKind kind;
  core::Error error;
};

class QuotaLedger {
 public:
  // Replaces every tenant's limits; tenants absent have none.
  void set_limits(const std::unordered_map<model::TenantId, TenantLimits>& limits);
  // Whether any tenant has a quota: without, the hot path takes no lock.
  bool any() const { return any_.load(std::memory_order_relaxed); }

  // Refused (rate_limited, Retry-After until the next UTC day) once the tenant's day is used up:
  // for admission before the body is read.
  std::optional<QuotaRefusal> check(model::TenantId tenant, core::Micros now) const;
  // Counts `logs` records of `bytes` against the tenant's day, or refuses them all (nothing
  // counted) when they would take it over a limit.
  std::optional<QuotaRefusal> charge(model::TenantId tenant, std::int64_t logs, std::int64_t bytes,
                                     core::Micros now);

  // This instance's counts not yet sent to Redis, per tenant with a quota (and zero counts too, so
  // that an idle instance still learns the others' totals); they become "in flight".
  struct Pending {
    model::TenantId tenant = 0;
    std::string day;  // YYYY-MM-DD (UTC)
    std::int64_t logs = 0;
    std::int64_t bytes = 0;
  };
  std::vector<Pending> take_pending(core::Micros now);
  // Redis answered the INCRBY of `amount` of `kind`: `total` is the day's usage of every
  // instance.
  void observed(model::TenantId tenant, const std::string& day, QuotaKind kind, std::int64_t amount,
                std::int64_t total);
  // The INCRBY failed: its counts go back to pending, to be sent with the next flush.
  void failed(model::TenantId tenant, const std::string& day, QuotaKind kind, std::int64_t amount);

 private:
  struct Counter {
    std::int64_t known = 0;      // the day's total as Redis last answered
    std::int64_t in_flight = 0;  // sent to Redis, not answered yet
    std::int64_t pending = 0;    // not sent yet
    std::int64_t used() const { return known + in_flight + pending; }
  };
  struct Usage {
    TenantLimits limits;
    core::Micros day = 0;  // start of the UTC day the counters are of
    Counter logs, bytes;
  };
  Usage* current(model::TenantId tenant, core::Micros now);  // mutex held; null: no quota

  mutable std::mutex mutex_;
  std::unordered_map<model::TenantId, Usage> usage_;
  std::atomic<bool> any_{false};
};

}  // namespace logpipe::intake
