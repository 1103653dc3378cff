// GET /api/v1/audit: the audit log (store/audit.hpp) of one tenant, newest first.
//
// Filters (optional, combined with AND): action (repeatable or comma-separated: any of), key_id,
// from/to (as /api/v1/logs: RFC 3339 or a duration before now; from ≤ at < to). Paging: limit
// 1..1000 (default 100) and cursor (opaque, from next_cursor): keyset pages on (at, id), so rows
// appended meanwhile never make a page repeat or skip one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "model/record.hpp"
#include "query/logs.hpp"
#include "store/connection.hpp"

namespace logpipe::query {

struct AuditQuery {
  model::TenantId tenant = model::kDefaultTenant;
  std::vector<std::string> actions;  // any of these
  std::optional<std::string> key_id;
  std::optional<core::Micros> from, to;
  int limit = kDefaultLimit;
  std::optional<Cursor> after;  // (at, id) of the last row of the previous page
};

// From a request's decoded query parameters. Errors are Errc::invalid_field naming the
// parameter; an unknown parameter is one too.
core::Result<AuditQuery> parse_audit_query(const Params& params, model::TenantId tenant,
                                           core::Micros now);

struct AuditRecord {
  std::int64_t id = 0;
  core::Micros at = 0;
  std::optional<std::string> key_id;
  std::string action;
  std::optional<std::string> target;
  std::string detail_json;  // a JSON object
  std::optional<std::string> remote_addr, request_id;
};

struct AuditPage {
  std::vector<AuditRecord> records;  // newest first
  std::optional<Cursor> next;        // set when older rows follow
};

core::Result<AuditPage> find_audit(store::Connection& db, const AuditQuery& query);

}  // namespace logpipe::query
