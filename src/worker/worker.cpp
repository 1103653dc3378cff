#include "worker/worker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "core/log.hpp"
#include "core/time.hpp"
#include "queue/batch_codec.hpp"
#include "queue/status.hpp"
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
constexpr core::Micros kDay = 86'400'000'000LL;

struct RawEntry {
  std::string id;
  std::string payload;
  core::Result<std::vector<model::Batch>> batches{std::vector<model::Batch>{}};  // decoded

  std::size_t records() const {
    std::size_t n = 0;
    if (batches) {
      for (const auto& b : *batches)
        n += b.records.size();
    }
    return n;
  }
};

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

core::Status ensure_group(queue::SyncClient& redis, const std::string& stream,
                          const std::string& group) {
  auto r = redis.command({"XGROUP", "CREATE", stream, group, "0", "MKSTREAM"});
  if (!r && r.error().message.find("BUSYGROUP") == std::string::npos) return r.error();
  return {};
}

struct Worker::Impl {
  Impl(WorkerOptions o, metrics::Metrics& m)
      : options(std::move(o)), metrics(m), mean_entry_records(options.batch_size) {}

  WorkerOptions options;
  metrics::Metrics& metrics;
  std::optional<queue::SyncClient> redis;
  std::optional<store::Connection> db;
  std::set<core::Micros> known_partitions;  // UTC day starts
  bool pending_drained = false;
  std::size_t mean_entry_records;  // starts at batch_size: the first read takes one entry
  Clock::time_point next_claim{};
  std::atomic<bool> circuit_open{false};
  std::string claim_cursor = "0-0";
  Backoff backoff;

  core::Status connect_redis() {
    if (redis && !redis->broken()) return {};
    redis.reset();
    auto c = queue::SyncClient::connect(options.redis, milliseconds(3000));
    if (!c) return c.error();
    // XREADGROUP BLOCK must not trip the socket timeout.
    if (auto s = c->set_timeout(kIdleBlock + milliseconds(5000)); !s) return s;
    if (auto s = ensure_group(*c, options.stream, options.group); !s) return s;
    redis.emplace(std::move(c).value());
    pending_drained = false;  // after a reconnect, look at our pending entries again
    return {};
  }

  core::Status connect_db() {
    if (db && !db->broken()) return {};
    db.reset();
    known_partitions.clear();
    auto c = store::Connection::open(options.database_url, std::chrono::seconds(3));
    if (!c) return c.error();
    db.emplace(std::move(c).value());
    return {};
  }

  // XREADGROUP; `id` "0" re-reads our own pending entries, ">" new ones.
  core::Result<std::vector<RawEntry>> read(const char* id, milliseconds block) {
    if (auto s = connect_redis(); !s) return s.error();
    const std::string count = std::to_string(entries_per_read());
    const std::string block_ms = std::to_string(block.count());
    std::vector<std::string_view> args{"XREADGROUP",     "GROUP", options.group,
                                       options.consumer, "COUNT", count};
    if (id[0] == '>') {
      args.push_back("BLOCK");
      args.push_back(block_ms);
    }
    args.push_back("STREAMS");
    args.push_back(options.stream);
    args.push_back(id);
    auto reply = redis->command(args);
    if (!reply) {
      if (reply.error().message.find("NOGROUP") != std::string::npos) redis.reset();
      return reply.error();
    }
    std::vector<RawEntry> entries;
    const redisReply& root = **reply;
    if (!queue::reply_is_array(root) || queue::reply_size(root) == 0) return entries;
    const redisReply& stream = queue::reply_at(root, 0);  // [name, [[id, [field, value…]]…]]
    if (queue::reply_size(stream) < 2) return entries;
    return parse_entries(queue::reply_at(stream, 1));
  }

  std::size_t entries_per_read() const {
    return std::clamp<std::size_t>(
        options.batch_size / std::max<std::size_t>(mean_entry_records, 1), 1, kMaxEntriesPerRead);
  }

  // [[id, [field, value…]]…] → entries, decoded.
  std::vector<RawEntry> parse_entries(const redisReply& list) {
    std::vector<RawEntry> entries;
    for (std::size_t i = 0; i < queue::reply_size(list); ++i) {
      const redisReply& entry = queue::reply_at(list, i);
      if (queue::reply_size(entry) < 2) continue;
      RawEntry raw{std::string(queue::reply_string(queue::reply_at(entry, 0))), {}};
      const redisReply& fields = queue::reply_at(entry, 1);
      // A pending entry that was deleted meanwhile comes back with nil fields.
      for (std::size_t f = 0; f + 1 < queue::reply_size(fields); f += 2) {
        if (queue::reply_string(queue::reply_at(fields, f)) == "b")
          raw.payload = queue::reply_string(queue::reply_at(fields, f + 1));
      }
      // Deleted while pending (empty) decodes to nothing; a corrupt payload keeps its error.
      if (!raw.payload.empty()) raw.batches = queue::decode_entry(raw.payload);
      mean_entry_records = (mean_entry_records * 7 + raw.records()) / 8;
      entries.push_back(std::move(raw));
    }
    return entries;
  }

  // Entries another consumer took and has left pending for longer than claim_idle (it died):
  // XAUTOCLAIM makes them ours. Checked every claim_idle / 2; also forgets consumers that have
  // nothing pending and have not been seen for a long time, so the group lists live ones.
  core::Result<std::vector<RawEntry>> claim_abandoned() {
    const auto now = Clock::now();
    if (now < next_claim) return std::vector<RawEntry>{};
    next_claim = now + std::max(options.claim_idle / 2, milliseconds(100));
    if (auto s = connect_redis(); !s) return s.error();
    const std::string idle = std::to_string(options.claim_idle.count());
    const std::string count = std::to_string(entries_per_read());
    auto reply = redis->command({"XAUTOCLAIM", options.stream, options.group, options.consumer,
                                 idle, claim_cursor, "COUNT", count});
    if (!reply) return reply.error();
    const redisReply& root = **reply;  // [next cursor, [entries…], [deleted ids…]]
    if (!queue::reply_is_array(root) || queue::reply_size(root) < 2) return std::vector<RawEntry>{};
    claim_cursor = std::string(queue::reply_string(queue::reply_at(root, 0)));
    // More may wait past the cursor: look again on the next round rather than in claim_idle / 2.
    if (claim_cursor != "0-0") next_claim = now;
    auto claimed = parse_entries(queue::reply_at(root, 1));
    if (!claimed.empty()) {
      metrics.worker_processed("claimed", static_cast<double>(claimed.size()));
      core::log::info(
          "claimed entries of a dead consumer",
          {{"entries", std::to_string(claimed.size())}, {"consumer", options.consumer}});
    }
    forget_dead_consumers();
    return claimed;
  }

  void forget_dead_consumers() {
    auto reply = redis->command({"XINFO", "CONSUMERS", options.stream, options.group});
    if (!reply) return;
    const auto forget_after = std::max(options.claim_idle * 20, milliseconds(600'000));
    for (std::size_t i = 0; i < queue::reply_size(**reply); ++i) {
      const redisReply& c = queue::reply_at(**reply, i);  // [name, n, pending, p, idle, i, …]
      std::string name;
      long long pending = -1, idle = -1;
      for (std::size_t f = 0; f + 1 < queue::reply_size(c); f += 2) {
        const auto key = queue::reply_string(queue::reply_at(c, f));
        const redisReply& value = queue::reply_at(c, f + 1);
        if (key == "name") name = queue::reply_string(value);
        if (key == "pending") pending = queue::reply_integer(value);
        if (key == "idle") idle = queue::reply_integer(value);
      }
      if (name.empty() || name == options.consumer || pending != 0 || idle < forget_after.count())
        continue;
      if (redis->command({"XGROUP", "DELCONSUMER", options.stream, options.group, name}))
        core::log::info("removed a dead consumer from the group", {{"consumer", name}});
    }
  }

  // Gathers up to batch_size records: returns as soon as that many are in hand, or max_wait
  // after the first entry arrived, or (with nothing) after one idle block. Our own pending
  // entries come first, then entries claimed from dead consumers, then new ones.
  core::Result<std::vector<RawEntry>> gather(const std::stop_token& stop) {
    std::vector<RawEntry> batch;
    if (!pending_drained) {
      auto pending = read("0", milliseconds(0));
      if (!pending) return pending.error();
      if (!pending->empty()) return pending;
      pending_drained = true;
    }
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
      auto got = read(">", block);
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
    const core::Micros today = core::now_micros() / kDay * kDay;
    std::set<core::Micros> days;
    for (const auto& e : entries) {
      for (const auto& batch : e.batches) {
        for (const auto& r : batch.records) {
          const core::Micros day = (r.ts >= 0 ? r.ts : r.ts - kDay + 1) / kDay * kDay;
          // Far-off days go to logs_default rather than creating a table per stray clock.
          if (day >= today - 7 * kDay && day <= today + 2 * kDay && !known_partitions.count(day))
            days.insert(day);
        }
      }
    }
    for (core::Micros day : days) {
      auto r = db->query("SELECT logpipe_ensure_partition($1::date)",
                         {core::format_rfc3339(day).substr(0, 10)});
      if (r) {
        known_partitions.insert(day);
      } else {
        core::log::warn("cannot create partition", {{"error", r.error().message}});
      }
    }
  }

  // The dead-letter stream: one entry per payload set aside, with the id of the stream entry it
  // came from, the error, when, and the payload itself ("b"), so that it can be replayed.
  core::Status dead_letter(const std::vector<std::array<std::string, 3>>& items) {
    const std::string dlq = queue::dead_letter_stream(options.stream);
    const std::string failed_at = core::format_rfc3339(core::now_micros());
    std::vector<std::vector<std::string_view>> commands;
    for (const auto& [entry, error, payload] : items) {
      commands.push_back(
          {"XADD", dlq, "*", "entry", entry, "error", error, "failed_at", failed_at, "b", payload});
      core::log::error("moved to the dead-letter stream",
                       {{"entry", entry}, {"error", error}, {"dlq", dlq}});
    }
    // An error reply to any XADD fails the whole pipeline (and so the store it belongs to).
    if (auto r = redis->pipeline(commands); !r) return r.error();
    return {};
  }

  core::Status dead_letter_records(const std::vector<store::RejectedRecord>& dead) {
    std::vector<std::array<std::string, 3>> items;
    items.reserve(dead.size());
    for (const auto& d : dead)
      items.push_back({d.entry_id, d.error, queue::encode_batch(d.batch)});
    return dead_letter(items);
  }

  core::Status acknowledge(const std::vector<std::string>& ids) {
    if (ids.empty()) return {};
    std::vector<std::string_view> ack{"XACK", options.stream, options.group};
    std::vector<std::string_view> del{"XDEL", options.stream};
    for (const auto& id : ids) {
      ack.push_back(id);
      del.push_back(id);
    }
    auto r = redis->pipeline({{"MULTI"}, ack, del, {"EXEC"}, {"XLEN", options.stream}});
    if (!r) return r.error();
    metrics.set_stream_size(static_cast<double>(queue::reply_integer(*r->back())));
    return {};
  }

  // Stores entries until it succeeds, the data is at fault, or the stop grace period ends.
  core::Result<store::WriteReport> store_with_retry(const std::vector<store::StreamEntry>& entries,
                                                    const std::stop_token& stop,
                                                    const store::Isolation* isolation = nullptr) {
    std::optional<Clock::time_point> give_up;
    for (;;) {
      auto result = [&]() -> core::Result<store::WriteReport> {
        if (auto s = connect_db(); !s) return s.error();
        ensure_partitions_for(entries);
        return store::write_entries(*db, options.stream, entries, isolation);
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
                    {{"consumer", options.consumer}, {"error", error.message}});
  }
  void close_circuit() {
    if (!circuit_open.exchange(false)) return;
    metrics.worker_circuit(false);
    core::log::info("PostgreSQL is back: circuit closed, draining the backlog",
                    {{"consumer", options.consumer}});
  }

  // One round: gather, decode, store, acknowledge.
  void round(const std::stop_token& stop) {
    auto raw = gather(stop);
    if (!raw) {
      metrics.worker_error("redis_unavailable");
      core::log::warn("reading the stream failed, will retry", {{"error", raw.error().message}});
      redis.reset();
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
      } else if (!r.batches) {  // undecodable: set aside whole, acknowledged once it is
        if (dead_letter({{r.id, r.batches.error().message, r.payload}})) {
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

    if (auto s = acknowledge(done); !s) {
      // Stored but not acknowledged: redelivery finds the ids in ingest_batches and skips them.
      core::log::warn("acknowledge failed; entries will be redelivered and skipped",
                      {{"error", s.error().message}});
      redis.reset();
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
  if (auto s = impl_->connect_redis(); !s) return s;
  if (auto s = impl_->connect_db(); !s) return s;
  return store::ensure_partitions(*impl_->db, 1, 2);
}

bool Worker::degraded() const {
  return impl_->circuit_open;
}

void Worker::run(const std::stop_token& stop) {
  core::log::info("worker started", {{"stream", impl_->options.stream},
                                     {"group", impl_->options.group},
                                     {"consumer", impl_->options.consumer}});
  while (!stop.stop_requested())
    impl_->round(stop);
  core::log::info("worker stopped", {{"consumer", impl_->options.consumer}});
}

}  // namespace logpipe::worker
