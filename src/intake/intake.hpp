// The one path every protocol's records take into logpipe (docs/ARCHITECTURE.md), whatever decoded
// them: HTTP handlers today, syslog and OTLP listeners later. Decoders only decode; renderers only
// render; everything between is here:
//
//   admit   before decoding: backpressure (the stream's backlog in entries and bytes) and a
//           tenant whose daily quota is used up, so a flood is refused before it is parsed
//   submit  the key's logs per second and the tenant's daily quotas (logs, bytes) charged once the
//           records are known, before anything is appended; stamp the tenant, encode the batch,
//           append it to the stream (group commit: see queue::StreamAppender), count it; with
//           Redis down and fallback on, commit it to PostgreSQL instead, exactly once
//
// Outcomes are values: Accepted, or an Error whose code says what the client may assume:
//   overloaded  (429) backlog over the limit; nothing stored
//   rate_limited (429) the key's logs per second or the tenant's daily quota; nothing stored, and
//               nothing counted against either; Retry-After says when to try again
//   unavailable (503) the queue (and the fallback) failed; nothing stored
//   timeout     (504) Redis may have stored it (its connection broke mid-write); sending again
//               may store it twice
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "intake/quotas.hpp"
#include "metrics/metrics.hpp"
#include "model/principal.hpp"
#include "queue/async_client.hpp"
#include "queue/stream_appender.hpp"
#include "store/pool.hpp"

namespace logpipe::intake {

enum class Backend { redis, db };
const char* to_string(Backend backend);  // "redis", "db"

struct Accepted {
  std::string entry_id;  // the stream entry, or the fallback's id in ingest_batches
  std::size_t count = 0;
  core::Micros received_at = 0;
  Backend backend = Backend::redis;
  std::vector<std::int64_t> ids;  // write_through only: the stored records' ids, in order
};

using Done = std::function<void(core::Result<Accepted>)>;

struct IntakeOptions {
  std::string stream = "logs:stream";
  std::string instance;               // names the fallback's ids in ingest_batches
  bool fallback_to_db = true;         // Redis down: store in PostgreSQL (fallback = "db")
  std::size_t max_backlog = 0;        // stream entries not yet stored; 0: no limit
  std::size_t max_backlog_bytes = 0;  // Redis memory of the stream; 0: no limit
  // Fallback writes in flight at once; beyond, 503: an outage must not queue unbounded work.
  int max_fallback_in_flight = 256;
  // Logs per second of a key (README "Rate limits and quotas"): the principal's own limit, or
  // this default; 0: no limit. Principals without a key (auth = "none", the listeners) have none.
  std::uint32_t key_logs_per_second = 0;
};

class Intake {
 public:
  Intake(queue::AsyncClient& redis, queue::StreamAppender& appender, store::Pool& db,
         boost::asio::thread_pool& db_threads, metrics::Metrics& metrics, IntakeOptions options);
  ~Intake();
  Intake(const Intake&) = delete;
  Intake& operator=(const Intake&) = delete;

  // Checks that can refuse before the body is decoded. Cheap; call per request.
  core::Status admit(const model::Principal& principal) const;

  // Stores `batch` under the principal's tenant; `done` runs once, on another thread (or before
  // submit returns, for a refusal that needed no I/O: rate limits, quotas, saturation).
  void submit(const model::Principal& principal, model::Batch batch, Done done);
  // Several batches of one request (records of several source formats), stored as one unit: all
  // in the same stream entry, or all in the same fallback transaction. Not empty.
  void submit(const model::Principal& principal, std::vector<model::Batch> batches, Done done);
  // Read-your-write (POST /data/): stores the batches in PostgreSQL, exactly once, before `done`
  // runs, bypassing the queue; Accepted::ids names the stored records. Bounded like the fallback
  // (max_fallback_in_flight), so slow database writes cannot pile up without limit.
  void write_through(const model::Principal& principal, std::vector<model::Batch> batches,
                     Done done);

  // Measures the backlog admit() compares with the limits (XLEN and MEMORY USAGE of the stream,
  // pipelined) and the redis_stream_size metric; serve calls it every 250 ms. Redis down: the
  // last values stay, and ingest finds out by itself.
  void refresh_backlog();
  // The tenants' daily quotas (tenants.max_logs_per_day, max_bytes_per_day). load_quotas reads
  // the limits from PostgreSQL on the calling thread (serve's start). sync_quotas, every second:
  // adds this instance's counts to the day's totals in Redis and keeps the totals every instance
  // added, and every 5 s reads the limits again (on the database threads).
  core::Status load_quotas();
  void sync_quotas();
  // Whether a Redis outage sends ingest to PostgreSQL (health reports what ingest can do).
  bool falls_back_to_db() const;
  // Submissions not yet answered; shutdown waits for zero before closing Redis.
  int in_flight() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace logpipe::intake
