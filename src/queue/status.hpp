// The state of the queue for operators (GET /api/v1/queue, seed 001's /queue/status): stream
// length, what the consumer group has pending and has yet to deliver (lag), each consumer's
// pending count and idle time, and the dead-letter stream's size. One pipelined round trip of
// XINFO/XLEN commands, rendered as JSON.
#pragma once

#include <span>
#include <string>
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

// JSON from the replies to status_commands(), in the same order. A stream or group that does
// not exist yet (an error reply) shows as empty, not as an error.
std::string status_json(const QueueNames& names, std::span<const core::Result<ReplyPtr>> replies);

}  // namespace logpipe::queue
