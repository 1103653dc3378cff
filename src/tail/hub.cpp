#include "tail/hub.hpp"

#include <algorithm>
#include <vector>

#include "core/log.hpp"
#include "queue/batch_codec.hpp"
#include "queue/stream_consumer.hpp"

namespace logpipe::tail {
namespace {

using namespace std::chrono_literals;

constexpr auto kTickEvery = 250ms;
constexpr auto kFirstBackoff = 100ms;
constexpr auto kMaxBackoff = 5000ms;

}  // namespace

Hub::Hub(HubOptions options, Render render, metrics::Metrics& metrics)
    : options_(std::move(options)), render_(std::move(render)), metrics_(metrics) {}

Hub::~Hub() {
  stop();
}

void Hub::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void Hub::stop() {
  std::vector<std::shared_ptr<Sink>> to_close;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    while (!subscribers_.empty())
      forget(subscribers_.begin(), to_close);
    raw_.clear();
  }
  wake_.notify_all();
  for (auto& sink : to_close)
    sink->close();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

core::Result<Hub::Id> Hub::subscribe(Matcher matcher, std::shared_ptr<Sink> sink,
                                     std::string_view transport) {
  Id id = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return core::make_error(core::Errc::unavailable, "the server is shutting down");
    if (subscribers_.size() >= options_.max_subscribers) {
      core::Error error(core::Errc::unavailable,
                        "as many live tail subscribers as this server takes (" +
                            std::to_string(options_.max_subscribers) +
                            ", tail_max_subscribers) are connected; retry later");
      error.retry_after_seconds = 5;
      return error;
    }
    id = next_id_++;
    subscribers_.emplace(id,
                         Subscriber{std::move(matcher), std::move(sink), std::string(transport)});
  }
  metrics_.tail_subscriber(transport, true);
  wake_.notify_all();
  return id;
}

bool Hub::set_filter(Id id, Matcher matcher) {
  std::lock_guard lock(mutex_);
  const auto it = subscribers_.find(id);
  if (it == subscribers_.end()) return false;
  it->second.matcher = std::move(matcher);
  return true;
}

void Hub::unsubscribe(Id id) {
  std::vector<std::shared_ptr<Sink>> unused;  // its connection is closing already
  std::lock_guard lock(mutex_);
  if (const auto it = subscribers_.find(id); it != subscribers_.end()) {
    metrics_.tail_subscriber(it->second.transport, false);
    subscribers_.erase(it);
  }
}

void Hub::forget(std::map<Id, Subscriber>::iterator it,
                 std::vector<std::shared_ptr<Sink>>& to_close) {
  metrics_.tail_subscriber(it->second.transport, false);
  to_close.push_back(std::move(it->second.sink));
  subscribers_.erase(it);
}

Hub::Id Hub::subscribe_raw(RawCallback callback) {
  Id id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    raw_.emplace(id, std::move(callback));
  }
  wake_.notify_all();
  return id;
}

void Hub::unsubscribe_raw(Id id) {
  std::lock_guard lock(mutex_);
  raw_.erase(id);
}

std::size_t Hub::subscribers() const {
  std::lock_guard lock(mutex_);
  return subscribers_.size();
}

bool Hub::flush_dropped(Subscriber& s) {
  if (s.dropped == 0) return true;
  switch (s.sink->dropped(s.dropped)) {
    case Sink::Offer::taken:
      metrics_.tail_sent();
      s.dropped = 0;
      return true;
    case Sink::Offer::full:
      return false;
    case Sink::Offer::closed:
      s.closed = true;
      return false;
  }
  return false;
}

void Hub::offer(Subscriber& s, std::string_view json) {
  if (s.closed) return;
  if (!flush_dropped(s)) {
    if (s.closed) return;
    ++s.dropped;
    metrics_.tail_dropped();
    return;
  }
  switch (s.sink->record(json)) {
    case Sink::Offer::taken:
      metrics_.tail_sent();
      break;
    case Sink::Offer::full:
      ++s.dropped;
      metrics_.tail_dropped();
      break;
    case Sink::Offer::closed:
      s.closed = true;
      break;
  }
}

void Hub::deliver(const model::Batch& batch) {
  std::lock_guard lock(mutex_);
  for (const auto& record : batch.records) {
    for (const auto& [id, callback] : raw_)
      callback(batch, record);
    Candidate candidate(batch.tenant_id, record);
    std::optional<std::string> json;  // rendered once, for the first subscriber it matches
    for (auto& [id, s] : subscribers_) {
      if (s.closed || s.matcher.tenant() != batch.tenant_id || !s.matcher.matches(candidate))
        continue;
      if (!json) json = render_(batch, record);
      offer(s, *json);
    }
  }
}

void Hub::tick(std::chrono::steady_clock::time_point now) {
  std::vector<std::shared_ptr<Sink>> to_close;
  {
    std::lock_guard lock(mutex_);
    last_tick_ = now;
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
      auto& s = it->second;
      if (!s.closed) flush_dropped(s);
      if (s.closed || !s.sink->tick(now)) {
        forget(it++, to_close);
      } else {
        ++it;
      }
    }
  }
  for (auto& sink : to_close)
    sink->close();
}

bool Hub::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

void Hub::run() {
  std::optional<queue::SyncClient> redis;
  std::string last_id;  // empty: start from the stream's end once someone subscribes
  auto backoff = kFirstBackoff;
  bool failing = false;
  const std::string block = std::to_string(options_.block.count());
  const std::string count = std::to_string(options_.read_count);
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (!active() && !stopping_) {
        // Idle: no reads, no connection. The next subscriber starts from the stream's end then.
        last_id.clear();
        redis.reset();
        wake_.wait(lock, [this] { return stopping_ || active(); });
      }
      if (stopping_) return;
    }
    if (std::chrono::steady_clock::now() - last_tick_ >= kTickEvery)
      tick(std::chrono::steady_clock::now());

    const auto failed = [&](std::string_view step, const core::Error& error) {
      metrics_.tail_stream_error("redis");
      core::log::error("live tail: reading the stream failed; reconnecting",
                       {{"step", std::string(step)},
                        {"error", error.message},
                        {"resume_after", last_id.empty() ? "the end" : last_id},
                        {"retry_in_ms", std::to_string(backoff.count())}});
      redis.reset();
      failing = true;
      pause(backoff);
      backoff = std::min(backoff * 2, kMaxBackoff);
    };
    if (!redis) {
      auto connected = queue::SyncClient::connect(options_.redis, 3000ms);
      if (!connected) {
        failed("connect", connected.error());
        continue;
      }
      // XREAD BLOCK must not trip the socket's timeout.
      if (auto ok = connected->set_timeout(options_.block + 5000ms); !ok) {
        failed("connect", ok.error());
        continue;
      }
      redis.emplace(std::move(connected).value());
      if (failing)
        core::log::info("live tail: reconnected to Redis",
                        {{"resume_after", last_id.empty() ? "the end" : last_id}});
    }
    if (last_id.empty()) {
      // The newest entry's id, so that later reads (and a reconnect) resume right after it.
      auto newest = redis->command({"XREVRANGE", options_.stream, "+", "-", "COUNT", "1"});
      if (!newest) {
        failed("XREVRANGE", newest.error());
        continue;
      }
      const auto& reply = **newest;
      last_id =
          queue::reply_is_array(reply) && queue::reply_size(reply) > 0 &&
                  queue::reply_size(queue::reply_at(reply, 0)) > 0
              ? std::string(queue::reply_string(queue::reply_at(queue::reply_at(reply, 0), 0)))
              : "0-0";
    }
    auto read = redis->command(
        {"XREAD", "COUNT", count, "BLOCK", block, "STREAMS", options_.stream, last_id});
    if (!read) {
      failed("XREAD", read.error());
      continue;
    }
    failing = false;
    backoff = kFirstBackoff;
    const auto& reply = **read;
    if (queue::reply_is_nil(reply) || !queue::reply_is_array(reply)) continue;  // timed out
    for (std::size_t s = 0; s < queue::reply_size(reply); ++s) {
      const auto& stream = queue::reply_at(reply, s);
      if (queue::reply_size(stream) < 2) continue;
      const auto& entries = queue::reply_at(stream, 1);
      for (std::size_t e = 0; e < queue::reply_size(entries); ++e) {
        const auto& entry = queue::reply_at(entries, e);
        if (queue::reply_size(entry) < 2) continue;
        last_id = std::string(queue::reply_string(queue::reply_at(entry, 0)));
        const auto& fields = queue::reply_at(entry, 1);
        for (std::size_t f = 0; f + 1 < queue::reply_size(fields); f += 2) {
          if (queue::reply_string(queue::reply_at(fields, f)) != queue::field::payload) continue;
          auto batches = queue::decode_entry(queue::reply_string(queue::reply_at(fields, f + 1)));
          if (!batches) {
            metrics_.tail_stream_error("decode");
            core::log::error("live tail: a stream entry could not be decoded; skipped",
                             {{"entry", last_id}, {"error", batches.error().message}});
            continue;
          }
          for (const auto& batch : *batches)
            deliver(batch);
        }
      }
    }
  }
}

}  // namespace logpipe::tail
