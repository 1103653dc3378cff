// The dead-letter stream (docs/OPERATIONS.md): what the worker set aside, and replay once the cause
// is fixed. Admin operations on a synchronous connection; serve runs them off its io threads.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "queue/redis.hpp"

namespace logpipe::queue {

struct DlqEntry {
  std::string id;         // in the dead-letter stream
  std::string entry;      // the stream entry it came from
  std::string error;      // why PostgreSQL (or the decoder) refused it
  std::string failed_at;  // RFC 3339
  std::string payload;    // a batch or entry payload (batch_codec)
};

struct DlqPage {
  std::string stream;  // the dead-letter stream's name
  std::int64_t length = 0;
  std::vector<DlqEntry> entries;  // oldest first
};

core::Result<DlqPage> dlq_list(SyncClient& redis, const std::string& stream, std::size_t limit);

struct ReplayResult {
  std::size_t replayed = 0;
  std::int64_t remaining = 0;
};

// Moves the given entries (all of them, oldest first up to `limit`, when `ids` is empty) back into
// `stream` as new entries, each in one MULTI with its deletion from the dead-letter stream, so an
// entry is never lost or doubled between the two. Ids not in the dead-letter stream are skipped.
core::Result<ReplayResult> dlq_replay(SyncClient& redis, const std::string& stream,
                                      std::span<const std::string> ids, std::size_t limit);

struct DlqDeleteResult {
  std::size_t deleted = 0;
  std::vector<std::string> not_found;  // ids that were not in the dead-letter stream
  std::int64_t remaining = 0;          // entries left in the dead-letter stream
};

// Deletes the given entries from the dead-letter stream for good (XDEL), for records that are not
// worth replaying. Errc::invalid_argument, and nothing deleted, when an id is not a stream entry
// id ("<ms>-<seq>" or "<ms>").
core::Result<DlqDeleteResult> dlq_delete(SyncClient& redis, const std::string& stream,
                                         const std::vector<std::string>& ids);

}  // namespace logpipe::queue
