#include "store/audit.hpp"

namespace logpipe::store {

AuditEntry command_line_audit_entry(std::string_view action, std::string target, std::string detail,
                                    model::TenantId tenant) {
  AuditEntry e;
  e.tenant = tenant;
  e.action = std::string(action);
  e.target = std::move(target);
  e.detail = std::move(detail);
  e.remote_addr = std::string(kCommandLine);
  return e;
}

core::Status append_audit(Connection& c, const AuditEntry& e) {
  const auto nullable = [](const std::string& text) -> std::optional<std::string> {
    if (text.empty()) return std::nullopt;
    return text;
  };
  // jsonb_typeof guards the contract (an object) in the statement itself: a CHECK would need a
  // migration for what only the writers can get wrong.
  auto rows = c.query(
      "INSERT INTO audit_log (tenant_id, key_id, action, target, detail, remote_addr, request_id)"
      " SELECT $1, $2, $3, $4, d, $6, $7 FROM (SELECT $5::jsonb AS d) AS x"
      " WHERE jsonb_typeof(d) = 'object' RETURNING id",
      {std::to_string(e.tenant), nullable(e.key_id), e.action, nullable(e.target), e.detail,
       nullable(e.remote_addr), nullable(e.request_id)});
  if (!rows) return rows.error();
  if (rows->size() != 1)
    return core::make_error(core::Errc::invalid_field, "audit detail must be a JSON object");
  return {};
}

}  // namespace logpipe::store
