#include "worker/worker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "core/log.hpp"
#include "core/time.hpp"
#include "queue/batch_codec.hpp"
#include "queue/device_cache.hpp"
#include "queue/stream_consumer.hpp"
#include "store/batch_writer.hpp"
#include "store/connection.hpp"
#include "store/migrations.hpp"

namespace logpipe::worker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxEntriesPerRead = 100;
// Memory stays bounded whatever the backlog: a read asks for about batch_size records (judging by
// the entries seen so far), and a batch stops growing at batch_size records or this many bytes.
constexpr std::size_t kMaxBatchBytes = std::size_t{32} << 20;
constexpr milliseconds kIdleBlock{1000};  // longest XREADGROUP block: bounds stop latency
constexpr milliseconds kBackoffMin{100};
constexpr milliseconds kBackoffMax{5000};
constexpr std::chrono::seconds kPartitionRetryDelay{30};
using core::kDay;

using Entries = std::vector<queue::ConsumedEntry>;

bool retryable(const core::Error& e) {
  return e.code == core::Errc::unavailable || e.code == core::Errc::timeout;
}

// Sleeps in small steps so a stop request isn't held up; returns false when stopped.
bool sleep_for(milliseconds d, const std::stop_token& stop) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) {
    if (stop.stop_requested()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - Clock::now(), milliseconds(50)));
  }
  return true;
}

class Backoff {
 public:
  milliseconds next() {
    std::uniform_int_distribution<long> jitter(0, current_.count() / 2);
    const milliseconds d = current_ + milliseconds(jitter(rng_));
    current_ = std::min(current_ * 2, kBackoffMax);
    return d;
  }
  void reset() { current_ = kBackoffMin; }

 private:
  milliseconds current_ = kBackoffMin;
  std::mt19937 rng_{std::random_device{}()};
};

}  // namespace

struct Worker::Impl {
  Impl(WorkerOptions o, metrics::Metrics& m)
      : options(std::move(o)),
        metrics(m),
        consumer({.redis = options.redis,
                  .stream = options.stream,
                  .group = options.group,
                  .name = options.consumer,
                  .host = {},
                  .claim_idle = options.claim_idle,
                  .longest_block = kIdleBlock}),
        mean_entry_records(options.batch_size) {}

  WorkerOptions options;
  metrics::Metrics& metrics;
  queue::StreamConsumer consumer;
  std::optional<store::Connection> db;
  std::set<core::Micros> known_partitions;  // UTC day starts
  // Days whose partition could not be created (a lock not had within its timeout, a deadlock
  // with an index build): their records go to logs_default until then, and maintenance moves
  // them once the partition exists.
  std::map<core::Micros, Clock::time_point> partition_retry_after;
  std::size_t mean_entry_records;  // starts at batch_size: the first read takes one entry
  std::atomic<bool> circuit_open{false};
  Backoff backoff;

  core::Status connect_db() {
    if (db && !db->broken()) return {};
    db.reset();
    known_partitions.clear();
    auto c = store::Connection::open(options.database_url, std::chrono::seconds(3));
    if (!c) return c.error();
    db.emplace(std::move(c).value());
    return {};
  }

  std::size_t entries_per_read() const {
    return std::clamp<std::size_t>(
        options.batch_size / std::max<std::size_t>(mean_entry_records, 1), 1, kMaxEntriesPerRead);
  }

  // Keeps the records-per-entry estimate that sizes reads current.
  core::Result<Entries> sized(core::Result<Entries> read) {
    if (read) {
      for (const auto& e : *read)
        mean_entry_records = (mean_entry_records * 7 + e.records()) / 8;
    }
    return read;
  }

  // Entries another consumer left pending for longer than claim_idle (it died), now ours.
  core::Result<Entries> claim_abandoned() {
    auto claimed = sized(consumer.claim_abandoned(entries_per_read()));
    if (claimed && !claimed->empty()) {
      metrics.worker_processed("claimed", static_cast<double>(claimed->size()));
      core::log::info(
          "claimed entries of a dead consumer",
          {{"entries", std::to_string(claimed->size())}, {"consumer", consumer.name()}});
    }
    return claimed;
  }

  // Gathers up to batch_size records: returns as soon as that many are in hand, or max_wait
  // after the first entry arrived, or (with nothing) after one idle block. Our own pending
  // entries come first, then entries claimed from dead consumers, then new ones.
  core::Result<Entries> gather(const std::stop_token& stop) {
    Entries batch;
    auto pending = sized(consumer.read_own_pending(entries_per_read()));
    if (!pending || !pending->empty()) return pending;
    auto claimed = claim_abandoned();
    if (!claimed) return claimed.error();
    if (!claimed->empty()) return claimed;
    std::size_t records = 0, bytes = 0;
    std::optional<Clock::time_point> deadline;
    while (!stop.stop_requested()) {
      milliseconds block = kIdleBlock;
      if (deadline) {
        const auto left = std::chrono::duration_cast<milliseconds>(*deadline - Clock::now());
        if (left <= milliseconds(0)) break;
        block = std::max(left, milliseconds(1));
      }
      auto got = sized(consumer.read_new(entries_per_read(), block));
      if (!got) {
        if (batch.empty()) return got.error();
        break;  // store what we have; the read error comes back on the next round
      }
      if (got->empty()) {
        if (!deadline) break;  // idle: let the caller check for stop
        continue;
      }
      if (!deadline) deadline = Clock::now() + options.max_wait;
      for (auto& e : *got) {
        records += e.records();
        bytes += e.payload.size();
        batch.push_back(std::move(e));
      }
      if (records >= options.batch_size || bytes >= kMaxBatchBytes) break;
    }
    return batch;
  }

  void ensure_partitions_for(const std::vector<store::StreamEntry>& entries) {
    const core::Micros today = core::floor_to(core::now_micros(), kDay);
    std::set<core::Micros> days;
    for (const auto& e : entries) {
      for (const auto& batch : e.batches) {
        for (const auto& r : batch.records) {
          const core::Micros day = core::floor_to(r.ts, kDay);
          // Far-off days go to logs_default rather than creating a table per stray clock.
          if (day >= today - 7 * kDay && day <= today + 2 * kDay && !known_partitions.count(day))
            days.insert(day);
        }
      }
    }
    const auto now = Clock::now();
    for (core::Micros day : days) {
      if (auto retry = partition_retry_after.find(day);
          retry != partition_retry_after.end() && now < retry->second)
        continue;
      auto r = db->query("SELECT logpipe_ensure_partition($1::date)", {core::format_date(day)});
      if (r) {
        known_partitions.insert(day);
        partition_retry_after.erase(day);
      } else {
        // Not on every batch: a creation that waited out its lock timeout would slow ingest.
        partition_retry_after[day] = now + kPartitionRetryDelay;
        metrics.worker_error("partition_create_failed");
        core::log::warn("cannot create partition; its records wait in logs_default",
                        {{"day", core::format_date(day)}, {"error", r.error().message}});
      }
    }
  }

  core::Status dead_letter_records(const std::vector<store::RejectedRecord>& dead) {
    std::vector<queue::DeadLetter> items;
    items.reserve(dead.size());
    for (const auto& d : dead)
      items.push_back({d.entry_id, d.error, queue::encode_batch(d.batch), d.batch.tenant_id});
    return consumer.dead_letter(items);
  }

  // Acknowledges, and in the same round trip drops the cached device answers (queue/
  // device_cache.hpp) of the devices just stored: after COMMIT, so no reader can cache an answer
  // from before it once this returns.
  core::Status acknowledge(const std::vector<std::string>& ids,
                           const std::vector<store::StreamEntry>& stored) {
    queue::DeviceSet devices;
    for (const auto& e : stored) {
      for (const auto& batch : e.batches) {
        for (const auto& r : batch.records) {
          if (!r.device_id.empty()) devices.emplace(batch.tenant_id, r.device_id);
        }
      }
    }
    auto length =
        consumer.acknowledge(ids, queue::device_cache_invalidation(options.stream, devices));
    if (!length) return length.error();
    metrics.set_stream_size(static_cast<double>(*length));
    return {};
  }

  // Stores entries until it succeeds, the data is at fault, or the stop grace period ends.
  core::Result<store::WriteReport> store_with_retry(const std::vector<store::StreamEntry>& entries,
                                                    const std::stop_token& stop,
                                                    const store::Isolation* isolation = nullptr) {
    std::optional<Clock::time_point> give_up;
    for (;;) {
      if (auto s = consumer.keep_alive(); !s)
        core::log::warn("cannot renew the consumer slot lease", {{"error", s.error().message}});
      auto result = [&]() -> core::Result<store::WriteReport> {
        if (auto s = connect_db(); !s) return s.error();
        ensure_partitions_for(entries);
        return store::write_entries(
            *db, options.stream, entries,
            {.shard = store::rollup_shard(consumer.name()), .isolation = isolation});
      }();
      if (result || !retryable(result.error())) {
        close_circuit();
        return result;
      }
      metrics.worker_error("postgres_unavailable");
      open_circuit(result.error());
      if (stop.stop_requested() && !give_up) give_up = Clock::now() + options.stop_grace;
      if (give_up && Clock::now() >= *give_up) return result;
      const auto wait = backoff.next();
      if (!sleep_for(wait, stop) && !give_up) give_up = Clock::now() + options.stop_grace;
    }
  }

  // The circuit breaker: while PostgreSQL is unavailable the worker holds its batch and reads
  // nothing new (entries wait in the stream), retrying with backoff. Open and close are logged
  // once each and shown by the worker_circuit_breaker_open gauge and /health/ready.
  void open_circuit(const core::Error& error) {
    if (circuit_open.exchange(true)) {
      core::log::debug("storing batch failed, will retry", {{"error", error.message}});
      return;
    }
    metrics.worker_circuit(true);
    core::log::warn("PostgreSQL unavailable: circuit open, entries wait in the stream",
                    {{"consumer", consumer.name()}, {"error", error.message}});
  }
  void close_circuit() {
    if (!circuit_open.exchange(false)) return;
    metrics.worker_circuit(false);
    core::log::info("PostgreSQL is back: circuit closed, draining the backlog",
                    {{"consumer", consumer.name()}});
  }

  // One round: gather, decode, store, acknowledge.
  void round(const std::stop_token& stop) {
    auto raw = gather(stop);
    if (!raw) {
      metrics.worker_error("redis_unavailable");
      core::log::warn("reading the stream failed, will retry", {{"error", raw.error().message}});
      consumer.reset();
      sleep_for(backoff.next(), stop);
      return;
    }
    if (raw->empty()) return;

    const auto started = Clock::now();
    std::vector<store::StreamEntry> entries;
    std::vector<std::string> done;  // ids to acknowledge
    for (auto& r : *raw) {
      if (r.payload.empty()) {  // deleted while pending: nothing left to store
        done.push_back(r.id);
      } else if (!r.batches) {
        // Undecodable: set aside whole, acknowledged once it is. Whose it is cannot be read, so
        // it is the default tenant's: the operator's to look at.
        if (consumer.dead_letter(
                {{r.id, r.batches.error().message, r.payload, model::kDefaultTenant}})) {
          metrics.worker_processed("failed", 1);
          done.push_back(r.id);
        }
      } else {
        entries.push_back({r.id, std::move(r.batches).value()});
      }
    }

    std::size_t records = 0;
    auto report = store_with_retry(entries, stop);
    // Rejected for its data: maybe a passing cause (a constraint being changed); retry, then
    // isolate the records at fault so they cannot hold up the others.
    for (std::size_t attempt = 1;
         !report && !retryable(report.error()) && attempt < options.max_retries; ++attempt) {
      core::log::warn("batch rejected for its data, will retry",
                      {{"attempt", std::to_string(attempt)}, {"error", report.error().message}});
      if (!sleep_for(kBackoffMin * static_cast<int>(attempt), stop)) break;
      report = store_with_retry(entries, stop);
    }
    if (!report && !retryable(report.error())) {
      core::log::warn("batch rejected for its data: isolating the records at fault",
                      {{"error", report.error().message}});
      const store::Isolation isolation{[this](const std::vector<store::RejectedRecord>& dead) {
        return dead_letter_records(dead);
      }};
      report = store_with_retry(entries, stop, &isolation);
    }
    if (report) {
      for (const auto& e : entries)
        done.push_back(e.id);
      records = report->records_stored;
      metrics.worker_processed("stored", static_cast<double>(report->records_stored));
      if (report->records_rejected)
        metrics.worker_processed("failed", static_cast<double>(report->records_rejected));
      if (report->entries_skipped)
        metrics.worker_processed("duplicate", static_cast<double>(report->entries_skipped));
    } else {
      core::log::warn("batch left pending for redelivery", {{"error", report.error().message}});
      return;
    }

    if (auto s = acknowledge(done, entries); !s) {
      // Stored but not acknowledged: redelivery finds the ids in ingest_batches and skips them.
      core::log::warn("acknowledge failed; entries will be redelivered and skipped",
                      {{"error", s.error().message}});
      consumer.reset();
      return;
    }
    backoff.reset();
    const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
    metrics.batch_processed(seconds, static_cast<double>(records));
    core::log::debug("batch stored", {{"entries", std::to_string(done.size())},
                                      {"records", std::to_string(records)}});
  }
};

Worker::Worker(WorkerOptions options, metrics::Metrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), metrics)) {}

Worker::~Worker() = default;

core::Status Worker::connect() {
  if (auto s = impl_->consumer.connect(); !s) return s;
  if (auto s = impl_->connect_db(); !s) return s;
  return store::ensure_partitions(*impl_->db, 1, 2);
}

bool Worker::degraded() const {
  return impl_->circuit_open;
}

void Worker::run(const std::stop_token& stop) {
  core::log::info("worker started", {{"stream", impl_->options.stream},
                                     {"group", impl_->options.group},
                                     {"consumer", impl_->consumer.name()}});
  while (!stop.stop_requested())
    impl_->round(stop);
  impl_->consumer.release();
  core::log::info("worker stopped", {{"consumer", impl_->consumer.name()}});
}

}  // namespace logpipe::worker
