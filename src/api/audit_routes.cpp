// The audit log: the row every audited handler writes (audit_entry, audited in handlers.hpp) and
// GET /api/v1/audit, which reads the principal's tenant's rows.
#include "api/handlers.hpp"
#include "api/render.hpp"
#include "core/time.hpp"
#include "http/query_string.hpp"
#include "query/audit.hpp"

namespace logpipe::api {

store::AuditEntry audit_entry(const http::RequestContext& rc, std::string_view action,
                              std::string target, std::string detail) {
  store::AuditEntry e;
  e.tenant = rc.principal.tenant;
  e.key_id = rc.principal.key_id;
  e.action = std::string(action);
  e.target = std::move(target);
  e.detail = std::move(detail);
  e.remote_addr = rc.peer;
  e.request_id = rc.request_id;
  return e;
}

void audit_write_failed(Context& ctx, const store::AuditEntry& entry, const core::Error& error) {
  ctx.metrics.audit_write_failed();
  core::log::error("audit log row not written", {{"action", entry.action},
                                                 {"target", entry.target},
                                                 {"request_id", entry.request_id},
                                                 {"error", error.message}});
}

void list_audit(Context& ctx, http::Request& req, http::RequestContext& rc,
                const http::Reply& reply) {
  auto q = query::parse_audit_query(http::query_params(req.target()), rc.principal.tenant,
                                    core::now_micros());
  if (!q) return reply(http::error_response(req, q.error()));
  answer_from_db(
      ctx, req, reply, "audit log read failed",
      [q = std::move(q).value()](store::Connection& c) { return query::find_audit(c, q); },
      [](const query::AuditPage& page) { return audit_json(page); });
}

}  // namespace logpipe::api
