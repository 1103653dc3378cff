// The live tail's fan-out, one per serve process: a reader of the ingest stream WITHOUT a consumer
// group (XREAD BLOCK on a Redis connection of its own, on its own thread), so every instance
// sees every entry and a record ingested through any instance reaches the subscribers of all.
// It reads only while someone subscribes, from the stream's end at the time the first one came
// (then from the last id it saw, also across a reconnect to Redis); each entry is decoded once,
// each record tested against each subscriber's matcher and rendered at most once, however many
// match. docs/ARCHITECTURE.md "Live tail" says why this and not pub/sub after storage.
//
// A subscriber's Sink is bounded: a full one makes the hub drop that subscriber's records (and
// count them); once it takes messages again, it first gets the number dropped, then records.
// Nothing a subscriber does slows the hub, ingest, or another subscriber.
//
// The worker deletes an entry from the stream once its records are stored, so a hub that falls
// behind the worker (a loaded machine) can find entries gone before it read them. It notices:
// about every second it reads inside a script that also takes the stream's entries-added counter
// atomically, and whenever it has read to the end, every entry added since it started that it did
// not see was such a gap. Subscribers are told (`missed_batches` in the next notice), the metric
// tail_entries_missed_total counts them, and last_gap() lets the alert evaluator hold back an
// absence alert that a gap may have caused.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "core/result.hpp"
#include "metrics/metrics.hpp"
#include "model/record.hpp"
#include "queue/redis.hpp"
#include "tail/matcher.hpp"

namespace logpipe::tail {

// What a subscriber has not been sent since its last message: its own records its full queue
// could not take, and batches (stream entries, of any tenant) the hub never saw.
struct Drops {
  std::uint64_t records = 0;
  std::uint64_t missed_batches = 0;
  bool any() const { return records != 0 || missed_batches != 0; }
};
// The notice's JSON: {"dropped":N}, with "missed_batches":K when the hub missed some.
std::string drops_json(const Drops& drops);

// Where the hub hands one subscriber's messages. Every call is on the hub's thread, under its
// lock: none may block, nor call back into the hub.
class Sink {
 public:
  enum class Offer { taken, full, closed };
  virtual ~Sink() = default;
  // One record, rendered (an item of GET /api/v1/logs without its id). full: no room now (the
  // hub drops and counts it); closed: the client is gone (the hub forgets it at its next tick).
  virtual Offer record(std::string_view json) = 0;
  // The notice of what was not sent since the last message it took (drops_json()).
  virtual Offer dropped(const Drops& drops) = 0;
  // About every poll interval: keep-alives, the connection's lifetime. False: done (the hub
  // forgets it and calls close()).
  virtual bool tick(std::chrono::steady_clock::time_point now) = 0;
  // The hub is done with it (stopping, or tick said done): end the connection.
  virtual void close() = 0;
};

struct HubOptions {
  queue::RedisEndpoint redis;
  std::string stream = "logs:stream";
  std::size_t max_subscribers = 1000;  // beyond, subscribe() refuses (503)
  // How long one XREAD blocks: also the longest the hub takes to notice stop() or that the last
  // subscriber left.
  std::chrono::milliseconds block{500};
  std::size_t read_count = 1000;  // entries per XREAD at most
  // How often the hub checks that it missed no entry (a scripted read with the stream's counter).
  std::chrono::milliseconds gap_check{1000};
  CaseFolding folding = CaseFolding::unicode;
};

class Hub {
 public:
  // A record of `batch` as a subscriber receives it; called at most once per record.
  using Render = std::function<std::string(const model::Batch& batch, const model::Record& record)>;
  // Every record of every tenant (batch.tenant_id), on the hub's thread: must be cheap (the
  // alert evaluator).
  using RawCallback = std::function<void(const model::Batch& batch, const model::Record& record)>;
  using Id = std::uint64_t;

  Hub(HubOptions options, Render render, metrics::Metrics& metrics);
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Starts the reader thread (idle until a subscriber comes).
  void start();
  // Closes every sink and joins the thread. Idempotent; subscribe() refuses afterwards.
  void stop();

  // Errc::unavailable when max_subscribers are subscribed or the hub has stopped. `transport`
  // labels the tail_subscribers gauge (ws, sse).
  core::Result<Id> subscribe(Matcher matcher, std::shared_ptr<Sink> sink,
                             std::string_view transport);
  // The subscriber's filter from its next record on; false when it is gone.
  bool set_filter(Id id, Matcher matcher);
  // Forgets a subscriber (its connection closed); nothing when already gone.
  void unsubscribe(Id id);
  Id subscribe_raw(RawCallback callback);
  void unsubscribe_raw(Id id);
  std::size_t subscribers() const;
  CaseFolding folding() const { return options_.folding; }

  // The reader's work, public for tests without Redis: hands each record of `batch` to the raw
  // callbacks and to the subscribers whose filter it matches.
  void deliver(const model::Batch& batch);
  // Keep-alives and lifetimes of every sink, pending dropped notices, and forgets closed ones.
  void tick(std::chrono::steady_clock::time_point now);
  // The reader found `batches` entries deleted before it read them: every subscriber is told in
  // its next notice, and last_gap() moves to now. Public for tests, like deliver().
  void missed(std::uint64_t batches);
  // When the reader last missed entries (core::now_micros()), 0 if never: until then, what the
  // raw callbacks were handed may lack records.
  std::int64_t last_gap() const { return last_gap_.load(); }

 private:
  struct Subscriber {
    Matcher matcher;
    std::shared_ptr<Sink> sink;
    std::string transport;
    Drops drops;  // since the last message it took
    bool closed = false;
  };
  void run();
  // Hands the entries of an XREAD reply to deliver(); returns how many, and moves last_id on.
  std::size_t consume(const redisReply& streams, std::string& last_id);
  void offer(Subscriber& subscriber, std::string_view json);
  bool flush_dropped(Subscriber& subscriber);
  void forget(std::map<Id, Subscriber>::iterator it, std::vector<std::shared_ptr<Sink>>& to_close);
  bool active() const { return !subscribers_.empty() || !raw_.empty(); }
  // Waits up to `d` unless stop() comes; false once stopping.
  bool pause(std::chrono::milliseconds d);

  const HubOptions options_;
  const Render render_;
  metrics::Metrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<Id, Subscriber> subscribers_;
  std::map<Id, RawCallback> raw_;
  Id next_id_ = 1;
  bool stopping_ = false;
  std::atomic<std::int64_t> last_gap_{0};
  std::chrono::steady_clock::time_point last_tick_{};
  std::thread thread_;
};

}  // namespace logpipe::tail
