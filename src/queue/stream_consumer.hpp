// One consumer of the stream's consumer group (DESIGN.md §2), on its own blocking connection:
// what a worker needs from Redis, and nothing about PostgreSQL. It reads its own pending entries
// first (after a start or a reconnect: what it had read but not acknowledged), then new ones;
// takes over entries that another consumer left pending longer than claim_idle (XAUTOCLAIM);
// acknowledges and deletes stored entries in one MULTI; sets entries aside in the dead-letter
// stream; and forgets consumers of the group that are long gone. Without an explicit name it
// holds a stable one, "<hostname>-<i>", leased per host (queue/consumer_slot.hpp).
//
// Entries are decoded here (queue::decode_entry), so the caller sees batches or the reason they
// could not be decoded. Not thread-safe: one per worker thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "model/record.hpp"
#include "queue/consumer_slot.hpp"
#include "queue/redis.hpp"

namespace logpipe::queue {

// The field names of stream entries, written by serve (StreamAppender) and the worker, read by
// the worker and the DLQ commands.
namespace field {
inline constexpr std::string_view payload = "b";  // the encoded batches (batch_codec)
// Dead-letter entries only:
inline constexpr std::string_view entry = "entry";          // id of the stream entry it came from
inline constexpr std::string_view error = "error";          // why it was set aside
inline constexpr std::string_view failed_at = "failed_at";  // RFC 3339
// The tenant whose records it holds (its id, in decimal). Entries set aside before tenants were
// recorded have none: they are the default tenant's, as is an undecodable entry, whose owner
// cannot be known.
inline constexpr std::string_view tenant = "tenant";
}  // namespace field

// Creates the consumer group (from the stream's start, so nothing queued before the first
// worker is skipped) and the stream if missing. Used by serve and worker at start.
core::Status ensure_group(SyncClient& redis, const std::string& stream, const std::string& group);

struct ConsumedEntry {
  std::string id;
  std::string payload;  // empty: the entry was deleted while pending (nothing left to store)
  core::Result<std::vector<model::Batch>> batches{std::vector<model::Batch>{}};

  std::size_t records() const;  // 0 when undecodable
};

// An entry set aside: the stream entry's id, the error, the payload to keep for replay, and whose
// records they are (field::tenant).
struct DeadLetter {
  std::string entry;
  std::string error;
  std::string payload;
  model::TenantId tenant = model::kDefaultTenant;
};

struct ConsumerOptions {
  RedisEndpoint redis;
  std::string stream = "logs:stream";
  std::string group = "log_workers";
  std::string name;  // the consumer's name in the group; empty: a leased "<hostname>-<i>"
  std::string host;  // for the leased name; empty: gethostname()
  std::chrono::milliseconds slot_ttl{30'000};  // the lease; refreshed every slot_ttl / 6
  std::chrono::milliseconds claim_idle{30'000};
  std::chrono::milliseconds longest_block{1000};  // the longest read_new() block asked for
};

class StreamConsumer {
 public:
  explicit StreamConsumer(ConsumerOptions options);

  const ConsumerOptions& options() const { return options_; }
  // The consumer's name: the explicit one, or the leased slot's (empty until connect()).
  const std::string& name() const { return name_; }

  // Connects (when not connected), creates the group if missing, and takes or renews the slot
  // lease when due. Every call below does this first.
  core::Status connect();
  // Drops the connection after an error; the next call reconnects.
  void reset();
  // Renews the slot lease when due, if connected; for callers busy elsewhere for long (a
  // worker retrying PostgreSQL), so that the lease outlives their wait.
  core::Status keep_alive();
  // Gives the leased slot up, on a clean stop, so that nothing waits for its lease.
  void release();

  // Up to `count` of this consumer's own pending entries, oldest first; empty once they are
  // drained (until the next reconnect, after which they are looked at again).
  core::Result<std::vector<ConsumedEntry>> read_own_pending(std::size_t count);
  // Up to `count` new entries, waiting at most `block` for the first.
  core::Result<std::vector<ConsumedEntry>> read_new(std::size_t count,
                                                    std::chrono::milliseconds block);
  // Up to `count` entries that other consumers left pending longer than claim_idle, now this
  // consumer's. Looks every claim_idle / 2 (sooner while more wait); empty in between. Also
  // forgets consumers with nothing pending that have been idle for long (see forget_after).
  core::Result<std::vector<ConsumedEntry>> claim_abandoned(std::size_t count);

  // XACK + XDEL of stored entries in one MULTI, and `also` (a command, e.g. the device cache's
  // invalidation) in the same round trip; returns the stream's length after it.
  core::Result<std::int64_t> acknowledge(const std::vector<std::string>& ids,
                                         const std::vector<std::string>& also = {});
  // Appends to the dead-letter stream, one entry each; an error fails them all.
  core::Status dead_letter(const std::vector<DeadLetter>& items);

  // Consumers idle this long with nothing pending are removed from the group.
  std::chrono::milliseconds forget_after() const;

 private:
  core::Result<std::vector<ConsumedEntry>> read(std::string_view id, std::size_t count,
                                                std::optional<std::chrono::milliseconds> block);
  void forget_dead_consumers();
  core::Status keep_slot();

  ConsumerOptions options_;
  std::string name_;
  std::optional<SyncClient> redis_;
  std::optional<ConsumerSlot> slot_;
  std::chrono::steady_clock::time_point next_slot_refresh_{};
  bool pending_drained_ = false;
  std::chrono::steady_clock::time_point next_claim_{};
  std::string claim_cursor_ = "0-0";
};

}  // namespace logpipe::queue
