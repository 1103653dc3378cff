// The audit log (table audit_log, migration 0005): who did what, when, from where, to the data
// or the keys: key and tenant changes, deletes of logs and apps, DLQ replays and deletes, alert
// rule changes.
// A change in PostgreSQL appends its row in the change's own transaction, so that there is no
// change without its row; a change elsewhere (the DLQ in Redis) appends it right after.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "model/record.hpp"
#include "store/connection.hpp"

namespace logpipe::store {

// The actions the audit log names (its `action` column), one place for all writers.
namespace audit_action {
inline constexpr std::string_view kLogsDelete = "logs.delete";  // by filter
inline constexpr std::string_view kLogDelete = "log.delete";    // one log by id
inline constexpr std::string_view kAppDelete = "app.delete";    // an app and its logs
inline constexpr std::string_view kDlqReplay = "dlq.replay";
inline constexpr std::string_view kDlqDelete = "dlq.delete";
inline constexpr std::string_view kKeyCreate = "key.create";
inline constexpr std::string_view kKeyRevoke = "key.revoke";
inline constexpr std::string_view kTenantCreate = "tenant.create";
inline constexpr std::string_view kAlertRuleCreate = "alert_rule.create";
inline constexpr std::string_view kAlertRuleUpdate = "alert_rule.update";
inline constexpr std::string_view kAlertRuleDelete = "alert_rule.delete";
}  // namespace audit_action

// remote_addr of what the command line does (no network peer).
inline constexpr std::string_view kCommandLine = "cli";

// One row. Empty optional texts (key_id, target, remote_addr, request_id) are stored as NULL:
// an empty key id means no key (auth = "none", or the command line).
struct AuditEntry {
  model::TenantId tenant = model::kDefaultTenant;
  std::string key_id;
  std::string action;
  std::string target;
  std::string detail = "{}";  // a JSON object: what the action was given and what it did
  std::string remote_addr;
  std::string request_id;
};

// The row of a change made from the command line: no key, remote_addr "cli", no request id.
AuditEntry command_line_audit_entry(std::string_view action, std::string target,
                                    std::string detail = "{}",
                                    model::TenantId tenant = model::kDefaultTenant);

// Appends `entry` (at = now(), the transaction's start when inside one). Errc::invalid_field when
// `detail` is not a JSON object.
core::Status append_audit(Connection& connection, const AuditEntry& entry);

}  // namespace logpipe::store
