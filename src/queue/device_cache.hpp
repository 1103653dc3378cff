// The Redis cache of GET /api/logs/{device_id} (seed 000), kept never staler than the worker's
// acknowledgement of a batch:
//   <stream>:cache:<tenant>:<device>        hash  limit → rendered answer, expires after the TTL
//   <stream>:cache-stamp:<tenant>:<device>  a counter the worker bumps when it stored logs of the
//                                           device (after COMMIT, in the pipeline of its XACK),
//                                           deleting the hash at the same time
// serve reads the answer and the stamp in one round trip; on a miss it queries PostgreSQL and
// stores the answer only if the stamp is still the one it read (a script, atomically), so an
// answer read before a commit can never be cached after that commit's invalidation.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/principal.hpp"

namespace logpipe::queue {

struct DeviceCacheKeys {
  std::string answers;
  std::string stamp;
};
DeviceCacheKeys device_cache_keys(std::string_view stream, model::TenantId tenant,
                                  std::string_view device_id);

using DeviceSet = std::set<std::pair<model::TenantId, std::string>>;

// One EVAL that bumps the stamps and drops the answers of these devices (empty: no command).
std::vector<std::string> device_cache_invalidation(std::string_view stream,
                                                   const DeviceSet& devices);

// EVAL that stores `answer` under `limit` for ttl_seconds if the stamp still reads `stamp` ("" for
// none); replies 1 when stored, 0 when the device changed meanwhile.
std::vector<std::string> device_cache_store(const DeviceCacheKeys& keys, std::string_view stamp,
                                            std::string_view limit, std::string_view answer,
                                            std::size_t ttl_seconds);

}  // namespace logpipe::queue
