#include "tail/hub.hpp"

#include <algorithm>
#include <vector>

#include "core/log.hpp"
#include "core/time.hpp"
#include "queue/batch_codec.hpp"
#include "queue/stream_consumer.hpp"

namespace logpipe::tail {
namespace {

using namespace std::chrono_literals;

constexpr auto kTickEvery = 250ms;
constexpr auto kFirstBackoff = 100ms;
constexpr auto kMaxBackoff = 5000ms;

// An XREAD (without BLOCK: a script cannot wait) and, in the same atomic step, the stream's
// entries-added and last-generated-id: {entries or nil, entries-added, last-generated-id}. With
// ARGV[1] empty, only the two counters (where a new reader starts). A missing stream is an empty
// one; entries-added is -1 before Redis 7 (no gap detection then).
constexpr const char* kCountedReadScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return {false, 0, '0-0'} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local added, last = -1, '0-0'
for i = 1, #info, 2 do
  if info[i] == 'entries-added' then added = info[i + 1]
  elseif info[i] == 'last-generated-id' then last = info[i + 1] end
end
if ARGV[1] == '' then return {false, added, last} end
return {redis.call('XREAD', 'COUNT', ARGV[2], 'STREAMS', KEYS[1], ARGV[1]), added, last}
)lua";

}  // namespace

std::string drops_json(const Drops& drops) {
  std::string json = "{\"dropped\":" + std::to_string(drops.records);
  if (drops.missed_batches != 0)
    json.append(",\"missed_batches\":").append(std::to_string(drops.missed_batches));
  json.push_back('}');
  return json;
}

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
    subscribers_.emplace(id, Subscriber{std::move(matcher), std::move(sink), std::string(transport),
                                        Drops{}, false});
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
  if (!s.drops.any()) return true;
  switch (s.sink->dropped(s.drops)) {
    case Sink::Offer::taken:
      metrics_.tail_sent();
      s.drops = {};
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
    ++s.drops.records;
    metrics_.tail_dropped();
    return;
  }
  switch (s.sink->record(json)) {
    case Sink::Offer::taken:
      metrics_.tail_sent();
      break;
    case Sink::Offer::full:
      ++s.drops.records;
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

void Hub::missed(std::uint64_t batches) {
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, s] : subscribers_)
      s.drops.missed_batches += batches;
  }
  last_gap_ = core::now_micros();
  metrics_.tail_missed(static_cast<double>(batches));
  core::log::warn(
      "live tail: stream entries were stored and deleted before this instance read them "
      "(it fell behind the worker); subscribers are told",
      {{"entries", std::to_string(batches)}});
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
  // Gap detection: the stream's entries-added when `seen` (entries read since) was zeroed.
  std::int64_t counted_added = -1;
  std::uint64_t seen = 0;
  auto next_gap_check = std::chrono::steady_clock::now();
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
      // Start after the newest entry, counting from the stream's entries-added then.
      auto position = redis->command({"EVAL", kCountedReadScript, "1", options_.stream, "", "0"});
      if (!position) {
        failed("EVAL", position.error());
        continue;
      }
      const auto& reply = **position;
      if (!queue::reply_is_array(reply) || queue::reply_size(reply) < 3) {
        failed("EVAL",
               core::Error(core::Errc::internal, "unexpected reply to the position script"));
        continue;
      }
      counted_added = queue::reply_integer(queue::reply_at(reply, 1));
      last_id = std::string(queue::reply_string(queue::reply_at(reply, 2)));
      seen = 0;
      next_gap_check = std::chrono::steady_clock::now() + options_.gap_check;
    }
    const bool check_gaps = std::chrono::steady_clock::now() >= next_gap_check;
    auto read =
        check_gaps
            ? redis->command({"EVAL", kCountedReadScript, "1", options_.stream, last_id, count})
            : redis->command(
                  {"XREAD", "COUNT", count, "BLOCK", block, "STREAMS", options_.stream, last_id});
    if (!read) {
      failed(check_gaps ? "EVAL" : "XREAD", read.error());
      continue;
    }
    failing = false;
    backoff = kFirstBackoff;
    const auto& reply = **read;
    if (!check_gaps) {
      if (queue::reply_is_array(reply)) seen += consume(reply, last_id);  // else: timed out
      continue;
    }
    next_gap_check = std::chrono::steady_clock::now() + options_.gap_check;
    if (!queue::reply_is_array(reply) || queue::reply_size(reply) < 3) {
      failed("EVAL", core::Error(core::Errc::internal, "unexpected reply to the read script"));
      continue;
    }
    const auto& entries = queue::reply_at(reply, 0);
    const std::size_t read_now = queue::reply_is_array(entries) ? consume(entries, last_id) : 0;
    seen += read_now;
    const std::int64_t added = queue::reply_integer(queue::reply_at(reply, 1));
    // Only once it has read to the end is every entry added since the count began either seen or
    // deleted unseen.
    if (read_now >= options_.read_count) continue;
    if (counted_added >= 0 && added >= counted_added &&
        static_cast<std::uint64_t>(added - counted_added) > seen)
      missed(static_cast<std::uint64_t>(added - counted_added) - seen);
    // (added < counted_added: the stream was deleted and made anew; count from here.)
    counted_added = added;
    seen = 0;
  }
}

std::size_t Hub::consume(const redisReply& streams, std::string& last_id) {
  std::size_t read = 0;
  for (std::size_t s = 0; s < queue::reply_size(streams); ++s) {
    const auto& stream = queue::reply_at(streams, s);
    if (queue::reply_size(stream) < 2) continue;
    const auto& entries = queue::reply_at(stream, 1);
    for (std::size_t e = 0; e < queue::reply_size(entries); ++e) {
      const auto& entry = queue::reply_at(entries, e);
      if (queue::reply_size(entry) < 2) continue;
      ++read;
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
  return read;
}

}  // namespace logpipe::tail
