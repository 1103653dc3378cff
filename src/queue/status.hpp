// The state of the queue for operators (GET /api/v1/queue, alias /queue/status): stream
// length, what the consumer group has pending and has yet to deliver (lag), each consumer's
// pending count and idle time, and the dead-letter stream's size. One pipelined round trip of
// XINFO/XLEN commands; the API renders the result.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "queue/redis.hpp"

namespace logpipe::queue {

// "logs:stream" → "logs:dlq"; any other name gets ":dlq" appended.
std::string dead_letter_stream(const std::string& stream);

struct QueueNames {
  std::string stream;
  std::string group;
};

// The commands to send, in order.
std::vector<std::vector<std::string>> status_commands(const QueueNames& names);

struct ConsumerStatus {
  std::string name;
  std::int64_t pending = 0;
  std::int64_t idle_ms = 0;
};

struct QueueStatus {
  QueueNames names;
  std::int64_t length = 0;   // entries not yet stored
  std::int64_t pending = 0;  // delivered, not acknowledged
  std::int64_t lag = 0;      // not yet delivered
  std::int64_t groups = 0;
  std::string last_message_id;
  std::string last_delivered_id;
  // The stream's first entry: since workers delete what they acknowledge (stored or set aside in
  // the DLQ), the oldest entry not yet stored. Empty when the stream is.
  std::string first_entry_id;
  std::vector<ConsumerStatus> consumers;
  std::string dlq_stream;
  std::int64_t dlq_length = 0;
};

// From the replies to status_commands(), in the same order. A stream or group that does not
// exist yet (an error reply) shows as empty, not as an error.
QueueStatus read_status(const QueueNames& names, std::span<const core::Result<ReplyPtr>> replies);

// Age in milliseconds of the entry `id` ("<ms>-<seq>", Redis' clock when it was added) at
// `now_ms`: 0 for an empty or unreadable id, never negative.
std::int64_t entry_age_ms(std::string_view id, std::int64_t now_ms);

// Redis' TIME reply (seconds, microseconds) in milliseconds; nullopt when it is not one. Ages are
// measured on Redis' clock, so a skewed host clock cannot make them wrong.
std::optional<std::int64_t> redis_time_ms(const redisReply& reply);

}  // namespace logpipe::queue
