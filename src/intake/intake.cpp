#include "intake/intake.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/asio/post.hpp>
#include <chrono>
#include <optional>

#include "core/in_flight.hpp"
#include "core/log.hpp"
#include "queue/batch_codec.hpp"
#include "store/batch_writer.hpp"

namespace logpipe::intake {
namespace {

using Clock = std::chrono::steady_clock;

using Batches = std::vector<model::Batch>;

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

core::Status Intake::admit(const model::Principal&) const {
  const auto over = [&](std::size_t limit, long long held, std::string_view unit) -> core::Status {
    if (limit == 0 || held <= static_cast<long long>(limit)) return {};
    return impl_->reject("backpressure", core::Errc::overloaded,
                         fmt::format("the queue holds {} {} not yet stored (limit {}); nothing "
                                     "was stored, retry later",
                                     held, unit, limit));
  };
  if (auto ok = over(impl_->options.max_backlog, impl_->backlog_entries.load(), "entries"); !ok)
    return ok;
  return over(impl_->options.max_backlog_bytes, impl_->backlog_bytes.load(), "bytes");
}

void Intake::submit(const model::Principal& principal, model::Batch batch, Done done) {
  std::vector<model::Batch> batches;
  batches.push_back(std::move(batch));
  submit(principal, std::move(batches), std::move(done));
}

void Intake::submit(const model::Principal& principal, std::vector<model::Batch> batches,
                    Done done) {
  for (auto& b : batches)
    b.tenant_id = principal.tenant;
  impl_->submit(std::make_shared<Batches>(std::move(batches)), std::move(done));
}

void Intake::write_through(const model::Principal& principal, std::vector<model::Batch> batches,
                           Done done) {
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

bool Intake::falls_back_to_db() const {
  return impl_->options.fallback_to_db;
}

int Intake::in_flight() const {
  return impl_->in_flight.count();
}

}  // namespace logpipe::intake
