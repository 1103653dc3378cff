#include "query/audit.hpp"

#include <fmt/format.h>

#include "core/time.hpp"

namespace logpipe::query {

core::Result<AuditQuery> parse_audit_query(const Params& params, model::TenantId tenant,
                                           core::Micros now) {
  constexpr std::size_t kMaxValueBytes = 1024;
  constexpr std::size_t kMaxActions = 32;
  AuditQuery q;
  q.tenant = tenant;
  for (const auto& [key, value] : params) {
    if (value.size() > kMaxValueBytes)
      return invalid_param(key, fmt::format("is longer than {} bytes", kMaxValueBytes));
    if (auto paged = parse_page_param(key, value, q.limit, q.after)) {
      if (!*paged) return paged->error();
      continue;
    }
    if (key == "action") {
      // action=log.delete&action=logs.delete, or action=log.delete,logs.delete
      std::string_view rest = value;
      while (true) {
        const auto comma = rest.find(',');
        const auto one = rest.substr(0, comma);
        if (one.empty()) return invalid_param(key, "has an empty action");
        q.actions.emplace_back(one);
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
      }
      if (q.actions.size() > kMaxActions)
        return invalid_param(key, fmt::format("names more than {} actions", kMaxActions));
    } else if (key == "key_id") {
      if (q.key_id) return invalid_param(key, "is given twice");
      q.key_id = value;
    } else if (key == "from" || key == "to") {
      auto t = parse_time(key, value, now);
      if (!t) return t.error();
      (key == "from" ? q.from : q.to) = *t;
    } else {
      return invalid_param(key,
                           "is not a parameter of the audit log (action, key_id, from, to, "
                           "limit, cursor)");
    }
  }
  if (q.from && q.to && *q.from > *q.to) return invalid_param("from", "is after to");
  return q;
}

core::Result<AuditPage> find_audit(store::Connection& db, const AuditQuery& q) {
  SqlWhere w;
  w.sql = "tenant_id = $1";
  w.args.push_back(std::to_string(q.tenant));
  if (!q.actions.empty()) {
    // One parameter per action: no array literal to escape.
    std::string any;
    for (const auto& action : q.actions)
      any += (any.empty() ? "" : ", ") + w.param(action);
    w.sql += fmt::format(" AND action IN ({})", any);
  }
  if (q.key_id) w.sql += fmt::format(" AND key_id = {}", w.param(*q.key_id));
  // Times as RFC 3339 with six fractional digits: exact to the microsecond, as the keyset needs.
  if (q.from)
    w.sql += fmt::format(" AND at >= {}::timestamptz", w.param(core::format_rfc3339(*q.from)));
  if (q.to) w.sql += fmt::format(" AND at < {}::timestamptz", w.param(core::format_rfc3339(*q.to)));
  if (q.after) {
    w.sql += fmt::format(" AND (at, id) < ({}::timestamptz, {}::bigint)",
                         w.param(core::format_rfc3339(q.after->ts)),
                         w.param(std::to_string(q.after->id)));
  }
  // One row more than asked tells whether a next page exists.
  auto rows = db.query(
      fmt::format("SELECT id, (extract(epoch FROM at) * 1000000)::bigint, key_id, action, target,"
                  " detail::text, remote_addr, request_id FROM audit_log WHERE {}"
                  " ORDER BY at DESC, id DESC LIMIT {}",
                  w.sql, q.limit + 1),
      store::Params(w.args.begin(), w.args.end()));
  if (!rows) return rows.error();
  const auto optional_text = [&](int row, int col) -> std::optional<std::string> {
    if (rows->is_null(row, col)) return std::nullopt;
    return std::string(rows->get(row, col));
  };
  AuditPage page;
  for (int i = 0; i < rows->size() && i < q.limit; ++i) {
    AuditRecord& r = page.records.emplace_back();
    r.id = rows->get_int(i, 0);
    r.at = rows->get_int(i, 1);
    r.key_id = optional_text(i, 2);
    r.action = rows->get(i, 3);
    r.target = optional_text(i, 4);
    r.detail_json = rows->get(i, 5);
    r.remote_addr = optional_text(i, 6);
    r.request_id = optional_text(i, 7);
  }
  if (rows->size() > q.limit) page.next = Cursor{page.records.back().at, page.records.back().id};
  return page;
}

}  // namespace logpipe::query
