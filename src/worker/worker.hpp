// The stream → PostgreSQL worker. It reads entries of the consumer group through a
// queue::StreamConsumer, gathers up to batch_size records or waits at most max_wait, stores them
// in ONE transaction (store::write_entries), and only after COMMIT acknowledges and deletes the
// entries in one MULTI/EXEC. A crash at any point leaves the entries pending; they are stored
// again at most once thanks to ingest_batches.
//
// On start it first re-processes its own pending entries (id 0). PostgreSQL or Redis outages
// are retried with backoff; nothing is acknowledged that isn't committed. An entry that can't
// be decoded, or whose records PostgreSQL rejects on their own, goes to the dead-letter stream
// (queue::dead_letter_stream()) with the error and is acknowledged, so it can't block the others.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stop_token>
#include <string>

#include "core/result.hpp"
#include "metrics/metrics.hpp"
#include "queue/redis.hpp"

namespace logpipe::worker {

struct WorkerOptions {
  queue::RedisEndpoint redis;
  std::string database_url;
  std::string stream = "logs:stream";
  std::string group = "log_workers";
  std::string consumer;  // empty: a leased, stable "<hostname>-<i>" (queue::ConsumerSlot)
  std::size_t batch_size = 10000;
  std::chrono::milliseconds max_wait{200};
  // Entries pending this long with another consumer are taken over (the consumer died).
  std::chrono::milliseconds claim_idle{30'000};
  // A batch PostgreSQL rejects for its data is tried this many times before the records at
  // fault are isolated and moved to the dead-letter stream.
  std::size_t max_retries = 5;
  // After a stop request, how long to keep retrying the in-flight batch before leaving it
  // pending for the next worker.
  std::chrono::milliseconds stop_grace{10'000};
};

class Worker {
 public:
  Worker(WorkerOptions options, metrics::Metrics& metrics);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Connects to Redis and PostgreSQL and creates the group: a clear error if either is
  // unreachable, for start-up.
  core::Status connect();
  // Runs until stop is requested; returns after the in-flight batch is stored and acknowledged
  // (or left pending when the grace period ends).
  void run(const std::stop_token& stop);
  // True while PostgreSQL is unavailable to it (its circuit breaker is open). Thread-safe.
  bool degraded() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logpipe::worker
