// JSON renderings of what the queue and the query side return: response shapes belong to the
// API, not to the modules that fetch the data.
#pragma once

#include <span>
#include <string>

#include "auth/key_store.hpp"
#include "query/audit.hpp"
#include "query/catalog.hpp"
#include "query/device_logs.hpp"
#include "query/histogram.hpp"
#include "query/logs.hpp"
#include "query/stats.hpp"
#include "queue/dlq.hpp"
#include "queue/status.hpp"

namespace logpipe::api {

// The device-logs shape older clients read:
// {"total":N,"source":"database"|"cache","data":[{"id","device_id","log_level",
// "message","log_data","created_at", plus "ts","received_at","level","service","app","host"}]}
// where created_at is the event time and log_level/log_data mirror level/attrs.
std::string device_logs_json(std::span<const query::StoredLog> logs, std::string_view source);

// GET /api/v1/logs: {"logs":[{"id","ts","received_at","level","message","device_id","service",
// "app","host","attrs"}],"count":N,"next_cursor":"…"|null}.
std::string logs_json(const query::LogPage& page);
// GET /api/v1/logs/{id}: one object of the shape above.
std::string log_json(const query::StoredLog& log);

// A live tail message (GET /api/v1/tail, /ws/logs): a record as an item of GET /api/v1/logs,
// without "id" (a queued record has none yet); attrs as received (the same JSON value; the search
// shows PostgreSQL's jsonb printing of it).
std::string tail_record_json(const model::Batch& batch, const model::Record& record);

// GET /api/v1/logs/export?format=ndjson: one line per log, each exactly an item of logs_json.
std::string logs_ndjson(std::span<const query::StoredLog> logs);

// GET /api/v1/logs/export?format=csv: the header row, then logs_csv's rows. RFC 4180: CRLF line
// ends; a field holding a comma, quote, CR or LF is quoted, its quotes doubled; NULL is empty.
// A field starting with = + - @ (or a tab or CR) gets a leading ' so that a spreadsheet shows it
// as text rather than running it as a formula (OWASP's CSV injection advice).
inline constexpr std::string_view kLogsCsvHeader =
    "id,ts,received_at,level,device_id,service,app,host,message,attrs,source_format\r\n";
std::string logs_csv(std::span<const query::StoredLog> logs);

// GET /api/v1/stats and /api/stats: {"total_logs","from","to","by_level","logs_by_level" (the
// same, seed 000's name),"by_service","by_app","device_count","recent_devices":[…],"interval",
// "histogram":[{"start","total","by_level"}]}. Logs without a service or app count under "".
std::string stats_json(const query::Stats& stats);
// GET /api/v1/logs/histogram.
std::string histogram_json(const query::Histogram& histogram);

// GET /api/v1/devices: {"devices":[{"device_id","first_seen","last_seen","log_count"}],"count"}.
std::string devices_json(std::span<const query::DeviceSummary> devices);
// GET /api/v1/services: {"services":[{"service","log_count"}],"count"}.
std::string services_json(std::span<const query::NamedCount> services);
// /api/v1/apps: {"name","description","created_at","log_count"}, and lists of them
// {"apps":[…],"count"}.
std::string app_json(const query::App& app);
std::string apps_json(std::span<const query::App> apps);

// GET /api/v1/queue (the field names of the older /queue/status).
std::string queue_status_json(const queue::QueueStatus& status);

// GET /api/v1/dlq and `logpipe dlq list --json`:
// {"stream":…,"length":N,"entries":[{"id","entry","error","failed_at","tenant_id","records":[…]}]};
// the records are decoded from the payload (an undecodable one shows "records": null).
std::string dlq_json(const queue::DlqPage& page);

// A key as /api/v1/keys and `logpipe keys list --json` show it, never its secret:
// {"id","tenant","name","scopes":[…],"requests_per_second","logs_per_second" (null: the
// server's default),"created_at","expires_at","revoked_at" (null: not), "active"}; with the key
// itself ("key") only in the answer that created it.
std::string key_json(const auth::KeyInfo& key, core::Micros now,
                     std::optional<std::string_view> secret = std::nullopt);
// The detail of a key's audit row: {"tenant","name","scopes"} (never the key).
std::string key_audit_detail(const auth::KeyInfo& key);
// {"keys":[…],"count":N}
std::string keys_json(std::span<const auth::KeyInfo> keys, core::Micros now);
// {"id","name","max_logs_per_day","max_bytes_per_day","retention_days" (null: none / the
// setting's),"created_at"}
std::string tenant_json(const auth::Tenant& tenant);
// {"tenants":[…],"count":N}
std::string tenants_json(std::span<const auth::Tenant> tenants);
// The audit details of DLQ changes, the same from the API and the command line:
// dlq.replay {"all":true | "ids":[…],"replayed":N,"remaining":N} (no ids: every entry, up to the
// call's limit); dlq.delete {"ids":[…],"deleted":N,"remaining":N,"not_found":[…]}.
std::string dlq_replay_audit_detail(std::span<const std::string> ids,
                                    const queue::ReplayResult& done);
std::string dlq_delete_audit_detail(std::span<const std::string> ids,
                                    const queue::DlqDeleteResult& done);

// GET /api/v1/audit: {"entries":[{"id","at","key_id","action","target","detail","remote_addr",
// "request_id"}],"count":N,"next_cursor":"…"|null}, newest first; absent values are null.
std::string audit_json(const query::AuditPage& page);

}  // namespace logpipe::api
