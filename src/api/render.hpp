// JSON renderings of what the queue and the query side return: response shapes belong to the
// API, not to the modules that fetch the data.
#pragma once

#include <span>
#include <string>

#include "query/device_logs.hpp"
#include "query/logs.hpp"
#include "queue/dlq.hpp"
#include "queue/status.hpp"

namespace logpipe::api {

// The device-logs shape older clients read:
// {"total":N,"source":"database","data":[{"id","device_id","log_level",
// "message","log_data","created_at", plus "ts","received_at","level","service","app","host"}]}
// where created_at is the event time and log_level/log_data mirror level/attrs.
std::string device_logs_json(std::span<const query::StoredLog> logs);

// GET /api/v1/logs: {"logs":[{"id","ts","received_at","level","message","device_id","service",
// "app","host","attrs"}],"count":N,"next_cursor":"…"|null}.
std::string logs_json(const query::LogPage& page);

// GET /api/v1/queue (the field names of the older /queue/status).
std::string queue_status_json(const queue::QueueStatus& status);

// GET /api/v1/dlq and `logpipe dlq list --json`:
// {"stream":…,"length":N,"entries":[{"id","entry","error","failed_at","records":[…]}]}; the
// records are decoded from the payload (an undecodable one shows "records": null).
std::string dlq_json(const queue::DlqPage& page);

}  // namespace logpipe::api
