// Deleting stored logs, for the API's deletes (one log, a filter, an app): the rows go and the
// rollups (log_counts per minute, hour and day; devices) are corrected in the same statement, so
// statistics keep equalling count(*) over what is stored.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.hpp"
#include "model/principal.hpp"
#include "store/connection.hpp"

namespace logpipe::store {

// The rollup shard that holds the corrections of deletes (negative counts); no writer owns it.
inline constexpr int kCorrectionShard = 16;

struct Deleted {
  std::int64_t count = 0;
  // The devices whose logs went: cached answers about them are stale now.
  std::set<std::pair<model::TenantId, std::string>> devices;
};

// Which rows a bounded delete takes: the oldest (a sort of every match), or any (the first found:
// for deleting everything that matches in batches, where the order does not matter).
enum class DeleteOrder { oldest_first, any };

// Deletes the logs matching `where` (a condition over `logs` using `params`), at most `limit` of
// them when given, oldest first unless `order` says any.
core::Result<Deleted> delete_logs(Connection& connection, std::string_view where,
                                  const Params& params, std::optional<std::int64_t> limit,
                                  DeleteOrder order = DeleteOrder::oldest_first);

}  // namespace logpipe::store
