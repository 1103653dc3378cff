#include "intake/intake.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/asio/post.hpp>
#include <chrono>
#include <optional>

#include "auth/rate_limiter.hpp"
#include "core/in_flight.hpp"
#include "core/log.hpp"
#include "queue/batch_codec.hpp"
#include "store/batch_writer.hpp"

namespace logpipe::intake {
namespace {

using Clock = std::chrono::steady_clock;

using Batches = std::vector<model::Batch>;

// How often the tenants' limits are read again from PostgreSQL: a changed quota takes effect
// within this.
constexpr core::Micros kLimitsRefresh = 5 * core::kSecond;
// The day's usage keys in Redis outlive their day by one, for late flushes and for looking.
constexpr const char* kUsageTtlSeconds = "172800";

core::Result<std::unordered_map<model::TenantId, TenantLimits>> read_tenant_limits(
    store::Connection& c) {
  auto rows = c.query(
      "SELECT id, coalesce(max_logs_per_day, 0), coalesce(max_bytes_per_day, 0) FROM tenants"
      " WHERE max_logs_per_day IS NOT NULL OR max_bytes_per_day IS NOT NULL");
  if (!rows) return rows.error();
  std::unordered_map<model::TenantId, TenantLimits> limits;
  for (int i = 0; i < rows->size(); ++i)
    limits[static_cast<model::TenantId>(rows->get_int(i, 0))] = {rows->get_int(i, 1),
                                                                 rows->get_int(i, 2)};
  return limits;
}

void count_levels(metrics::Metrics& metrics, const Batches& batches) {
  std::array<double, 8> by_level{};
  for (const auto& batch : batches) {
    for (const auto& r : batch.records)
      by_level[static_cast<std::size_t>(r.level)] += 1;
  }
  for (std::size_t l = 0; l < by_level.size(); ++l) {
    if (by_level[l] > 0)
      metrics.logs_received(model::to_string(static_cast<model::Level>(l)), by_level[l]);
  }
}

}  // namespace

const char* to_string(Backend backend) {
  return backend == Backend::db ? "db" : "redis";
}

struct Intake::Impl : std::enable_shared_from_this<Intake::Impl> {
  Impl(queue::AsyncClient& r, queue::StreamAppender& a, store::Pool& p, boost::asio::thread_pool& t,
       metrics::Metrics& m, IntakeOptions o)
      : redis(r), appender(a), db(p), db_threads(t), metrics(m), options(std::move(o)) {}

  queue::AsyncClient& redis;
  queue::StreamAppender& appender;
  store::Pool& db;
  boost::asio::thread_pool& db_threads;
  metrics::Metrics& metrics;
  const IntakeOptions options;
  std::atomic<long long> backlog_entries{0};
  std::atomic<long long> backlog_bytes{0};
  std::atomic<int> fallback_in_flight{0};
  std::atomic<std::uint64_t> fallback_sequence{0};
  core::InFlight in_flight;
  auth::RateLimiter key_logs{auth::RateLimiterOptions{.unit = "logs", .subject = "key"}};
  QuotaLedger quotas;
  std::atomic<bool> loading_limits{false};
  std::atomic<core::Micros> limits_loaded_at{0};

  core::Error limited(std::string_view reason, core::Error error) {
    metrics.ingest_rejected("rate_limited");
    metrics.rate_limited(reason);
    return error;
  }

  // The key's logs per second, then the tenant's quotas. A refusal comes before anything is
  // appended, and what a refusal refused is counted against neither (the bucket is taken first:
  // a quota must never count logs that a rate limit then refused).
  std::optional<core::Error> charge(const model::Principal& principal, const Batches& batches) {
    std::int64_t logs = 0;
    for (const auto& b : batches)
      logs += static_cast<std::int64_t>(b.records.size());
    if (!principal.key_id.empty()) {
      const std::uint32_t rate =
          principal.logs_per_second != 0 ? principal.logs_per_second : options.key_logs_per_second;
      if (rate != 0) {
        if (auto ok = key_logs.take(principal.key_id, rate, static_cast<double>(logs)); !ok)
          return limited("key_logs", ok.error());
      }
    }
    if (!quotas.any()) return std::nullopt;
    std::int64_t bytes = 0;
    for (const auto& b : batches) {
      for (const auto& r : b.records)
        bytes += record_bytes(r);
    }
    if (auto refused = quotas.charge(principal.tenant, logs, bytes, core::now_micros()))
      return limited(refused->kind == QuotaKind::logs ? "quota_logs" : "quota_bytes",
                     std::move(refused->error));
    return std::nullopt;
  }

  core::Error reject(std::string_view reason, core::Errc code, std::string message) {
    metrics.ingest_rejected(reason);
    return core::make_error(code, std::move(message));
  }

  void accepted(const Batches& batches, std::string entry_id, Backend backend, const Done& done,
                std::vector<std::int64_t> ids = {}) {
    count_levels(metrics, batches);
    std::size_t count = 0;
    for (const auto& b : batches)
      count += b.records.size();
    done(
        Accepted{std::move(entry_id), count, batches.front().received_at, backend, std::move(ids)});
  }

  void submit(std::shared_ptr<Batches> batches, Done done) {
    std::vector<std::string> payloads;
    payloads.reserve(batches->size());
    for (const auto& b : *batches)
      payloads.push_back(queue::encode_batch(b));
    const auto started = Clock::now();
    appender.append(
        std::move(payloads),
        [self = shared_from_this(), batch = std::move(batches), done = std::move(done), started,
         token = in_flight.enter()](core::Result<std::string> entry_id) mutable {
          self->metrics.redis_operation(
              "xadd", std::chrono::duration<double>(Clock::now() - started).count());
          if (entry_id)
            return self->accepted(*batch, std::move(entry_id).value(), Backend::redis, done);
          const core::Error& error = entry_id.error();
          if (error.code == core::Errc::timeout) {
            // Redis may have stored it: neither a fallback write (it could store it twice) nor a
            // 503 (which promises nothing was stored) would be true.
            core::log::warn("enqueue outcome unknown", {{"error", error.message}});
            return done(self->reject(
                "redis_outcome_unknown", core::Errc::timeout,
                "the queue did not confirm the write (its connection was lost); the logs may have "
                "been stored, and sending them again may store them twice"));
          }
          if (self->options.fallback_to_db) return self->store_in_database(batch, done, error);
          core::log::warn("enqueue failed", {{"error", error.message}});
          done(self->reject("redis_unavailable", core::Errc::unavailable,
                            "the queue is unavailable; nothing was stored, retry later"));
        });
  }

  // One transaction per submission, on the database threads; its id goes into ingest_batches
  // in the same transaction, so the records are stored exactly once. `redis_error` is why the
  // queue was passed by: its failure (the fallback), or none (a write-through, which also
  // returns the stored ids).
  void store_in_database(std::shared_ptr<Batches> batch, Done done,
                         std::optional<core::Error> redis_error) {
    const bool write_through = !redis_error;
    if (fallback_in_flight.fetch_add(1) >= options.max_fallback_in_flight) {
      --fallback_in_flight;
      return done(reject(write_through ? "database_saturated" : "fallback_saturated",
                         core::Errc::unavailable,
                         write_through ? "too many database writes at once; nothing was stored, "
                                         "retry later"
                                       : "the queue is unavailable and the database fallback is "
                                         "saturated; nothing was stored, retry later"));
    }
    boost::asio::post(db_threads, [self = shared_from_this(), batch = std::move(batch),
                                   done = std::move(done), redis_error = std::move(redis_error),
                                   write_through, token = in_flight.enter()] {
      store::StreamEntry entry{
          fmt::format("db-{}-{}", self->options.instance, ++self->fallback_sequence), {}};
      entry.batches = std::move(*batch);
      auto stored = self->db.with([&](store::Connection& c) {
        return store::write_entries(
            c, self->options.stream, std::span(&entry, 1),
            {.shard = store::rollup_shard(fmt::format("db-{}", self->options.instance)),
             .return_ids = write_through});
      });
      --self->fallback_in_flight;
      if (stored) {
        if (!write_through)
          self->metrics.ingest_fallback(static_cast<double>(entry.record_count()));
        return self->accepted(entry.batches, entry.id, Backend::db, done, std::move(stored->ids));
      }
      if (write_through) {
        core::log::error("database write failed", {{"postgres", stored.error().message}});
        return done(self->reject("postgres_unavailable", core::Errc::unavailable,
                                 "the database is unavailable; nothing was stored, retry "
                                 "later"));
      }
      core::log::error("enqueue and database fallback both failed",
                       {{"redis", redis_error->message}, {"postgres", stored.error().message}});
      done(self->reject("redis_and_postgres_unavailable", core::Errc::unavailable,
                        "the queue and the database are unavailable; nothing was stored, retry "
                        "later"));
    });
  }
};

Intake::Intake(queue::AsyncClient& redis, queue::StreamAppender& appender, store::Pool& db,
               boost::asio::thread_pool& db_threads, metrics::Metrics& metrics,
               IntakeOptions options)
    : impl_(std::make_shared<Impl>(redis, appender, db, db_threads, metrics, std::move(options))) {}

Intake::~Intake() = default;

core::Status Intake::admit(const model::Principal& principal) const {
  const auto over = [&](std::size_t limit, long long held, std::string_view unit) -> core::Status {
    if (limit == 0 || held <= static_cast<long long>(limit)) return {};
    return impl_->reject("backpressure", core::Errc::overloaded,
                         fmt::format("the queue holds {} {} not yet stored (limit {}); nothing "
                                     "was stored, retry later",
                                     held, unit, limit));
  };
  if (auto ok = over(impl_->options.max_backlog, impl_->backlog_entries.load(), "entries"); !ok)
    return ok;
  if (auto ok = over(impl_->options.max_backlog_bytes, impl_->backlog_bytes.load(), "bytes"); !ok)
    return ok;
  if (!impl_->quotas.any()) return {};
  if (auto refused = impl_->quotas.check(principal.tenant, core::now_micros()))
    return impl_->limited(refused->kind == QuotaKind::logs ? "quota_logs" : "quota_bytes",
                          std::move(refused->error));
  return {};
}

void Intake::submit(const model::Principal& principal, model::Batch batch, Done done) {
  std::vector<model::Batch> batches;
  batches.push_back(std::move(batch));
  submit(principal, std::move(batches), std::move(done));
}

void Intake::submit(const model::Principal& principal, std::vector<model::Batch> batches,
                    Done done) {
  if (auto refused = impl_->charge(principal, batches)) return done(std::move(*refused));
  for (auto& b : batches)
    b.tenant_id = principal.tenant;
  impl_->submit(std::make_shared<Batches>(std::move(batches)), std::move(done));
}

void Intake::write_through(const model::Principal& principal, std::vector<model::Batch> batches,
                           Done done) {
  if (auto refused = impl_->charge(principal, batches)) return done(std::move(*refused));
  for (auto& b : batches)
    b.tenant_id = principal.tenant;
  impl_->store_in_database(std::make_shared<Batches>(std::move(batches)), std::move(done),
                           std::nullopt);
}

void Intake::refresh_backlog() {
  const std::string& stream = impl_->options.stream;
  impl_->redis.send({"XLEN", stream}, [impl = impl_](core::Result<queue::ReplyPtr> r) {
    if (!r) return;
    const auto entries = queue::reply_integer(**r);
    impl->backlog_entries = entries;
    impl->metrics.set_stream_size(static_cast<double>(entries));
  });
  if (impl_->options.max_backlog_bytes == 0) return;
  // Sampled (Redis' default of 5 nodes): O(1) on the Redis side, close enough for a limit.
  impl_->redis.send({"MEMORY", "USAGE", stream}, [impl = impl_](core::Result<queue::ReplyPtr> r) {
    if (r) impl->backlog_bytes = queue::reply_integer(**r);
  });
}

core::Status Intake::load_quotas() {
  auto limits = impl_->db.with([](store::Connection& c) { return read_tenant_limits(c); });
  if (!limits) return limits.error();
  impl_->quotas.set_limits(std::move(limits).value());
  impl_->limits_loaded_at = core::now_micros();
  return {};
}

void Intake::sync_quotas() {
  const core::Micros now = core::now_micros();
  if (now - impl_->limits_loaded_at.load() >= kLimitsRefresh &&
      !impl_->loading_limits.exchange(true)) {
    boost::asio::post(impl_->db_threads, [impl = impl_, now] {
      auto limits = impl->db.with([](store::Connection& c) { return read_tenant_limits(c); });
      if (limits) {
        impl->quotas.set_limits(std::move(limits).value());
      } else {
        // The last limits stay in force.
        core::log::warn("reading the tenants' quotas failed", {{"error", limits.error().message}});
      }
      impl->limits_loaded_at = now;
      impl->loading_limits = false;
    });
  }
  for (const auto& p : impl_->quotas.take_pending(now)) {
    for (const auto& [kind, amount] :
         {std::pair{QuotaKind::logs, p.logs}, std::pair{QuotaKind::bytes, p.bytes}}) {
      const std::string key = fmt::format("{}:quota:{}:{}:{}", impl_->options.stream, p.tenant,
                                          p.day, kind == QuotaKind::logs ? "logs" : "bytes");
      const std::string by = std::to_string(amount);
      impl_->redis.send(
          {"INCRBY", key, by}, [impl = impl_, tenant = p.tenant, day = p.day, kind = kind,
                                amount = amount](core::Result<queue::ReplyPtr> r) {
            if (r) {
              impl->quotas.observed(tenant, day, kind, amount, queue::reply_integer(**r));
            } else {
              impl->quotas.failed(tenant, day, kind, amount);
            }
          });
      impl_->redis.send({"EXPIRE", key, kUsageTtlSeconds}, [](core::Result<queue::ReplyPtr>) {});
    }
  }
}

bool Intake::falls_back_to_db() const {
  return impl_->options.fallback_to_db;
}

int Intake::in_flight() const {
  return impl_->in_flight.count();
}

}  // namespace logpipe::intake
