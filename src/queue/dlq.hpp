// The dead-letter stream (docs/OPERATIONS.md): what the worker set aside, and replay once the cause
// is fixed. Admin operations on a synchronous connection; serve runs them off its io threads.
//
// Every tenant's dead letters share one stream; each entry names its tenant (field::tenant, the
// default tenant's when it names none). A call made for one tenant sees, counts, replays and
// deletes only that tenant's entries: another tenant's id is as absent as an unknown one.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "model/record.hpp"
#include "queue/redis.hpp"

namespace logpipe::queue {

// Whose dead letters a call sees and changes: one tenant's (an API key's), or every tenant's
// (std::nullopt: the operator, the command line).
using DlqTenant = std::optional<model::TenantId>;

struct DlqEntry {
  std::string id;                                  // in the dead-letter stream
  std::string entry;                               // the stream entry it came from
  std::string error;                               // why PostgreSQL (or the decoder) refused it
  std::string failed_at;                           // RFC 3339
  std::string payload;                             // a batch or entry payload (batch_codec)
  model::TenantId tenant = model::kDefaultTenant;  // whose records (field::tenant)
};

struct DlqPage {
  std::string stream;             // the dead-letter stream's name
  std::int64_t length = 0;        // the entries the call may see: every one, or its tenant's
  std::vector<DlqEntry> entries;  // oldest first
};

// The oldest `limit` entries. For one tenant, the stream is read through in steps of a few
// hundred entries on the Redis side (so that its length is the tenant's): a cost proportional to
// the whole dead-letter stream, which holds what PostgreSQL refused, not the traffic.
core::Result<DlqPage> dlq_list(SyncClient& redis, const std::string& stream, std::size_t limit,
                               DlqTenant tenant);

struct ReplayResult {
  std::size_t replayed = 0;
  std::int64_t remaining = 0;  // the entries the call may see, left in the dead-letter stream
};

// Moves the given entries (all of them, oldest first up to `limit`, when `ids` is empty) back into
// `stream` as new entries, each in one MULTI with its deletion from the dead-letter stream, so an
// entry is never lost or doubled between the two. Ids not in the dead-letter stream, or not the
// tenant's, are skipped.
core::Result<ReplayResult> dlq_replay(SyncClient& redis, const std::string& stream,
                                      std::span<const std::string> ids, std::size_t limit,
                                      DlqTenant tenant);

struct DlqDeleteResult {
  std::size_t deleted = 0;
  std::vector<std::string> not_found;  // ids not in the dead-letter stream (or not the tenant's)
  std::int64_t remaining = 0;          // the entries the call may see, left in the stream
};

// Deletes the given entries from the dead-letter stream for good (XDEL), for records that are not
// worth replaying. Errc::invalid_argument, and nothing deleted, when an id is not a stream entry
// id ("<ms>-<seq>" or "<ms>").
core::Result<DlqDeleteResult> dlq_delete(SyncClient& redis, const std::string& stream,
                                         const std::vector<std::string>& ids, DlqTenant tenant);

}  // namespace logpipe::queue
