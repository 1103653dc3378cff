// GET /api/v1/logs: the filter model, its parsing from a query string, and the keyset-paged SQL.
//
// Filters (all optional, combined with AND): device_id, service, app, host; level (repeatable:
// any of) and min_level; from/to (RFC 3339, or relative to now: 30s, 15m, 2h, 7d; from ≤ ts < to);
// q (every word and "quoted phrase" appears in the message, case-insensitive);
// attrs.<key>[.<key>…]=<value> (the attribute at that path, as text, equals the value).
// Paging: order=desc (default) or asc, limit 1..1000 (default 100), cursor (opaque, from
// next_cursor). Pages are keyset pages on (ts, id): concurrent inserts never make a page repeat
// or skip a row that existed when paging began.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "model/record.hpp"
#include "query/device_logs.hpp"
#include "store/connection.hpp"
#include "store/forget.hpp"

namespace logpipe::query {

struct Cursor {
  core::Micros ts = 0;
  std::int64_t id = 0;
};

// Opaque to clients: "<ts>.<id>" in base64url.
std::string encode_cursor(const Cursor& cursor);
core::Result<Cursor> decode_cursor(std::string_view text);

struct LogFilter {
  model::TenantId tenant = model::kDefaultTenant;
  std::optional<std::string> device_id, service, app, host;
  std::vector<model::Level> levels;  // any of these (min_level folds in here)
  std::optional<core::Micros> from, to;
  std::vector<std::string> terms;  // each must appear in the message
  std::vector<std::pair<std::vector<std::string>, std::string>> attrs;  // path → value

  // No condition but the tenant.
  bool empty() const;
};

struct LogQuery {
  LogFilter filter;
  bool ascending = false;
  int limit = kDefaultLimit;
  std::optional<Cursor> after;
};

using Params = std::vector<std::pair<std::string, std::string>>;

// The 422 of a bad query parameter, naming it: "<param> <message>".
core::Error invalid_param(std::string_view param, std::string message);
// An RFC 3339 time, or a duration before `now` (30s, 15m, 2h, 7d).
core::Result<core::Micros> parse_time(std::string_view param, std::string_view text,
                                      core::Micros now);

// From a request's decoded query parameters, in order. Errors are Errc::invalid_field naming the
// parameter; an unknown parameter is one too (a typo must not silently widen a query).
core::Result<LogQuery> parse_log_query(const Params& params, model::TenantId tenant,
                                       core::Micros now);

struct LogPage {
  std::vector<StoredLog> logs;
  std::optional<Cursor> next;  // set when more rows follow
};

core::Result<LogPage> find_logs(store::Connection& db, const LogQuery& query);

// One log by id: Errc::not_found when the tenant has no such log.
core::Result<StoredLog> find_log(store::Connection& db, model::TenantId tenant, std::int64_t id);
// Parses a log id path segment (a positive integer) or names it in a 422.
core::Result<std::int64_t> parse_log_id(std::string_view text);

// DELETE /api/v1/logs?<filters>: the search's filters (at least one; order and cursor don't apply)
// and limit, how many at most (oldest first; 1..100000, default 10000).
struct LogDelete {
  LogFilter filter;
  std::int64_t limit = 10'000;
};
core::Result<LogDelete> parse_log_delete(const Params& params, model::TenantId tenant,
                                         core::Micros now);
// Deletes and corrects the rollups.
core::Result<store::Deleted> delete_logs(store::Connection& db, const LogDelete& what);
// Errc::not_found when the tenant has no such log.
core::Result<store::Deleted> delete_log(store::Connection& db, model::TenantId tenant,
                                        std::int64_t id);

// The filter as a WHERE condition over `logs` with its $n parameters ($1 is the tenant), for
// every statement that selects logs by filter (search, export, delete).
struct SqlWhere {
  std::string sql;
  std::vector<std::string> args;

  // Adds a parameter; returns its placeholder ("$3").
  std::string param(std::string value);
};
SqlWhere where_clause(const LogFilter& filter);

}  // namespace logpipe::query
