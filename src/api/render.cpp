#include "api/render.hpp"

#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "queue/batch_codec.hpp"

namespace logpipe::api {
namespace {

void optional_field(core::JsonWriter& w, const char* name,
                    const std::optional<std::string>& value) {
  w.key(name);
  if (value) {
    w.value(*value);
  } else {
    w.null();
  }
}

}  // namespace

std::string device_logs_json(std::span<const query::StoredLog> logs, std::string_view source) {
  core::JsonWriter w;
  w.begin_object()
      .field("total", static_cast<std::int64_t>(logs.size()))
      .field("source", source)
      .key("data");
  w.begin_array();
  for (const auto& log : logs) {
    const std::string ts = core::format_rfc3339(log.ts);
    w.begin_object()
        .field("id", log.id)
        .field("device_id", log.device_id.value_or(""))
        .field("log_level", log.level)
        .field("message", log.message)
        .key("log_data")
        .raw(log.attrs_json)
        .field("created_at", ts)
        .field("ts", ts)
        .field("received_at", core::format_rfc3339(log.received_at))
        .field("level", log.level);
    optional_field(w, "service", log.service);
    optional_field(w, "app", log.app);
    optional_field(w, "host", log.host);
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

namespace {

// An item of GET /api/v1/logs (also GET /api/v1/logs/{id}, each line of the NDJSON export, and
// each live tail message, which has no id yet): the one place its shape is written.
struct LogItem {
  std::optional<std::int64_t> id;
  core::Micros ts = 0, received_at = 0;
  std::string_view level, message;
  std::optional<std::string_view> device_id, service, app, host;
  std::string_view attrs_json;
};

void write_log(core::JsonWriter& w, const LogItem& log) {
  w.begin_object();
  if (log.id) w.field("id", *log.id);
  w.field("ts", core::format_rfc3339(log.ts))
      .field("received_at", core::format_rfc3339(log.received_at))
      .field("level", log.level)
      .field("message", log.message);
  for (const auto& [name, value] : {std::pair{"device_id", log.device_id},
                                    {"service", log.service},
                                    {"app", log.app},
                                    {"host", log.host}}) {
    w.key(name);
    if (value) {
      w.value(*value);
    } else {
      w.null();
    }
  }
  w.key("attrs").raw(log.attrs_json).end_object();
}

void write_log(core::JsonWriter& w, const query::StoredLog& log) {
  const auto view = [](const std::optional<std::string>& v) -> std::optional<std::string_view> {
    if (v) return std::string_view(*v);
    return std::nullopt;
  };
  write_log(w, LogItem{log.id, log.ts, log.received_at, log.level, log.message, view(log.device_id),
                       view(log.service), view(log.app), view(log.host), log.attrs_json});
}

void append_csv_field(std::string& out, std::string_view value) {
  const bool formula =
      !value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos;
  const bool quoted = value.find_first_of(",\"\r\n") != std::string_view::npos;
  if (quoted) out.push_back('"');
  if (formula) out.push_back('\'');
  for (const char c : value) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  if (quoted) out.push_back('"');
}

}  // namespace

std::string log_json(const query::StoredLog& log) {
  core::JsonWriter w;
  write_log(w, log);
  return w.take();
}

std::string logs_json(const query::LogPage& page) {
  core::JsonWriter w;
  w.begin_object().key("logs").begin_array();
  for (const auto& log : page.logs)
    write_log(w, log);
  w.end_array().field("count", static_cast<std::int64_t>(page.logs.size())).key("next_cursor");
  if (page.next) {
    w.value(query::encode_cursor(*page.next));
  } else {
    w.null();
  }
  return w.end_object().take();
}

std::string tail_record_json(const model::Batch& batch, const model::Record& record) {
  // What the store writes as NULL (an empty field) is null here too.
  const auto view = [](const std::string& v) -> std::optional<std::string_view> {
    if (v.empty()) return std::nullopt;
    return std::string_view(v);
  };
  core::JsonWriter w;
  write_log(w, LogItem{std::nullopt, record.ts, batch.received_at, model::to_string(record.level),
                       record.message, view(record.device_id), view(record.service),
                       view(record.app), view(record.host), record.attrs_json});
  return w.take();
}

std::string logs_ndjson(std::span<const query::StoredLog> logs) {
  std::string out;
  for (const auto& log : logs) {
    out += log_json(log);
    out.push_back('\n');
  }
  return out;
}

std::string logs_csv(std::span<const query::StoredLog> logs) {
  std::string out;
  const auto cell = [&out](std::string_view value) {
    append_csv_field(out, value);
    out.push_back(',');
  };
  const auto optional_cell = [&cell](const std::optional<std::string>& value) {
    cell(value ? std::string_view(*value) : std::string_view());
  };
  for (const auto& log : logs) {
    cell(std::to_string(log.id));
    cell(core::format_rfc3339(log.ts));
    cell(core::format_rfc3339(log.received_at));
    cell(log.level);
    optional_cell(log.device_id);
    optional_cell(log.service);
    optional_cell(log.app);
    optional_cell(log.host);
    cell(log.message);
    cell(log.attrs_json);
    append_csv_field(out, log.source_format);
    out += "\r\n";
  }
  return out;
}

std::string queue_status_json(const queue::QueueStatus& s) {
  core::JsonWriter w;
  w.begin_object()
      .field("status", "success")
      .field("queue_name", s.names.stream)
      .field("group", s.names.group)
      .field("length", s.length)
      .field("pending_messages", s.pending)
      .field("lag", s.lag)
      .field("consumer_groups", s.groups)
      .field("consumers", static_cast<std::int64_t>(s.consumers.size()))
      .field("last_message_id", s.last_message_id)
      .field("last_delivered_id", s.last_delivered_id);
  w.key("consumer_details").begin_array();
  for (const auto& c : s.consumers) {
    w.begin_object()
        .field("name", c.name)
        .field("pending", c.pending)
        .field("idle_ms", c.idle_ms)
        .end_object();
  }
  w.end_array();
  w.key("dlq").begin_object().field("stream", s.dlq_stream).field("length", s.dlq_length);
  w.end_object().end_object();
  return w.take();
}

std::string dlq_json(const queue::DlqPage& page) {
  core::JsonWriter w;
  w.begin_object().field("stream", page.stream).field("length", page.length);
  w.key("entries").begin_array();
  for (const auto& e : page.entries) {
    w.begin_object()
        .field("id", e.id)
        .field("entry", e.entry)
        .field("error", e.error)
        .field("failed_at", e.failed_at)
        .field("tenant_id", static_cast<std::int64_t>(e.tenant));
    auto batches = queue::decode_entry(e.payload);
    w.key("records");
    if (!batches) {
      w.null();
    } else {
      w.begin_array();
      for (const auto& b : *batches) {
        for (const auto& r : b.records) {
          w.begin_object()
              .field("ts", core::format_rfc3339(r.ts))
              .field("level", model::to_string(r.level))
              .field("message", r.message)
              .field("device_id", r.device_id)
              .field("service", r.service)
              .field("app", r.app)
              .field("host", r.host)
              .key("attrs")
              .raw(r.attrs_json)
              .end_object();
        }
      }
      w.end_array();
    }
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

namespace {

void counts_object(core::JsonWriter& w, const std::map<std::string, std::int64_t>& counts) {
  w.begin_object();
  for (const auto& [name, n] : counts)
    w.field(name, n);
  w.end_object();
}

// A histogram's buckets, as /api/v1/stats and /api/v1/logs/histogram both answer them.
void buckets_array(core::JsonWriter& w, const std::vector<query::Stats::Bucket>& buckets) {
  w.begin_array();
  for (const auto& b : buckets) {
    w.begin_object().field("start", core::format_rfc3339(b.start)).field("total", b.total);
    w.key("by_level");
    counts_object(w, b.by_level);
    w.end_object();
  }
  w.end_array();
}

}  // namespace

std::string stats_json(const query::Stats& s) {
  core::JsonWriter w;
  w.begin_object()
      .field("total_logs", s.total)
      .field("from", core::format_rfc3339(s.from))
      .field("to", core::format_rfc3339(s.to));
  w.key("by_level");
  counts_object(w, s.by_level);
  w.key("logs_by_level");  // seed 000's name of by_level
  counts_object(w, s.by_level);
  w.key("by_service");
  counts_object(w, s.by_service);
  w.key("by_app");
  counts_object(w, s.by_app);
  w.field("device_count", s.device_count).key("recent_devices").begin_array();
  for (const auto& d : s.recent_devices)
    w.value(d);
  w.end_array().field("interval", query::to_string(s.interval)).key("histogram");
  buckets_array(w, s.histogram);
  return w.end_object().take();
}

std::string histogram_json(const query::Histogram& h) {
  core::JsonWriter w;
  w.begin_object()
      .field("from", core::format_rfc3339(h.from))
      .field("to", core::format_rfc3339(h.to))
      .field("interval", h.interval.name)
      .field("interval_seconds", h.interval.length / core::kSecond)
      .field("total", h.total)
      .field("source", query::to_string(h.source))
      .key("buckets");
  buckets_array(w, h.buckets);
  return w.end_object().take();
}

std::string devices_json(std::span<const query::DeviceSummary> devices) {
  core::JsonWriter w;
  w.begin_object().key("devices").begin_array();
  for (const auto& d : devices) {
    w.begin_object()
        .field("device_id", d.device_id)
        .field("first_seen", core::format_rfc3339(d.first_seen))
        .field("last_seen", core::format_rfc3339(d.last_seen))
        .field("log_count", d.log_count)
        .end_object();
  }
  return w.end_array()
      .field("count", static_cast<std::int64_t>(devices.size()))
      .end_object()
      .take();
}

std::string services_json(std::span<const query::NamedCount> services) {
  core::JsonWriter w;
  w.begin_object().key("services").begin_array();
  for (const auto& s : services)
    w.begin_object().field("service", s.name).field("log_count", s.log_count).end_object();
  return w.end_array()
      .field("count", static_cast<std::int64_t>(services.size()))
      .end_object()
      .take();
}

namespace {

void write_app(core::JsonWriter& w, const query::App& app) {
  w.begin_object()
      .field("name", app.name)
      .field("description", app.description)
      .field("created_at", core::format_rfc3339(app.created_at))
      .field("log_count", app.log_count)
      .end_object();
}

}  // namespace

std::string app_json(const query::App& app) {
  core::JsonWriter w;
  write_app(w, app);
  return w.take();
}

std::string apps_json(std::span<const query::App> apps) {
  core::JsonWriter w;
  w.begin_object().key("apps").begin_array();
  for (const auto& app : apps)
    write_app(w, app);
  return w.end_array().field("count", static_cast<std::int64_t>(apps.size())).end_object().take();
}

namespace {

void write_optional_time(core::JsonWriter& w, std::string_view name,
                         const std::optional<core::Micros>& t) {
  w.key(name);
  if (t) {
    w.value(core::format_rfc3339(*t));
  } else {
    w.null();
  }
}

void write_positive_or_null(core::JsonWriter& w, std::string_view name, std::int64_t v) {
  w.key(name);
  if (v > 0) {
    w.value(v);
  } else {
    w.null();
  }
}

void write_key(core::JsonWriter& w, const auth::KeyInfo& k, core::Micros now,
               std::optional<std::string_view> secret) {
  w.begin_object().field("id", k.id);
  if (secret) w.field("key", *secret);
  w.field("tenant", k.tenant_name).field("name", k.name).key("scopes").begin_array();
  for (const auto scope : {model::Scope::ingest, model::Scope::query, model::Scope::admin}) {
    if (model::includes(k.scopes, scope)) w.value(model::to_string(scope));
  }
  w.end_array();
  write_positive_or_null(w, "requests_per_second", k.requests_per_second);
  write_positive_or_null(w, "logs_per_second", k.logs_per_second);
  w.field("created_at", core::format_rfc3339(k.created_at));
  write_optional_time(w, "expires_at", k.expires_at);
  write_optional_time(w, "revoked_at", k.revoked_at);
  w.field("active", !k.revoked_at && (!k.expires_at || *k.expires_at > now));
  w.end_object();
}

void write_tenant(core::JsonWriter& w, const auth::Tenant& t) {
  w.begin_object().field("id", static_cast<std::int64_t>(t.id)).field("name", t.name);
  write_positive_or_null(w, "max_logs_per_day", t.max_logs_per_day.value_or(0));
  write_positive_or_null(w, "max_bytes_per_day", t.max_bytes_per_day.value_or(0));
  write_positive_or_null(w, "retention_days", t.retention_days.value_or(0));
  w.field("created_at", core::format_rfc3339(t.created_at)).end_object();
}

}  // namespace

std::string key_json(const auth::KeyInfo& key, core::Micros now,
                     std::optional<std::string_view> secret) {
  core::JsonWriter w;
  write_key(w, key, now, secret);
  return w.take();
}

std::string key_audit_detail(const auth::KeyInfo& key) {
  core::JsonWriter w;
  return w.begin_object()
      .field("tenant", key.tenant_name)
      .field("name", key.name)
      .field("scopes", auth::scopes_text(key.scopes))
      .end_object()
      .take();
}

std::string keys_json(std::span<const auth::KeyInfo> keys, core::Micros now) {
  core::JsonWriter w;
  w.begin_object().key("keys").begin_array();
  for (const auto& k : keys)
    write_key(w, k, now, std::nullopt);
  return w.end_array().field("count", static_cast<std::int64_t>(keys.size())).end_object().take();
}

std::string tenant_json(const auth::Tenant& tenant) {
  core::JsonWriter w;
  write_tenant(w, tenant);
  return w.take();
}

std::string tenants_json(std::span<const auth::Tenant> tenants) {
  core::JsonWriter w;
  w.begin_object().key("tenants").begin_array();
  for (const auto& t : tenants)
    write_tenant(w, t);
  return w.end_array()
      .field("count", static_cast<std::int64_t>(tenants.size()))
      .end_object()
      .take();
}

namespace {
void write_ids(core::JsonWriter& w, std::string_view name, std::span<const std::string> ids) {
  w.key(name).begin_array();
  for (const auto& id : ids)
    w.value(id);
  w.end_array();
}
}  // namespace

std::string dlq_replay_audit_detail(std::span<const std::string> ids,
                                    const queue::ReplayResult& done) {
  core::JsonWriter w;
  w.begin_object();
  if (ids.empty()) {
    w.field("all", true);
  } else {
    write_ids(w, "ids", ids);
  }
  return w.field("replayed", static_cast<std::uint64_t>(done.replayed))
      .field("remaining", done.remaining)
      .end_object()
      .take();
}

std::string dlq_delete_audit_detail(std::span<const std::string> ids,
                                    const queue::DlqDeleteResult& done) {
  core::JsonWriter w;
  w.begin_object();
  write_ids(w, "ids", ids);
  w.field("deleted", static_cast<std::uint64_t>(done.deleted)).field("remaining", done.remaining);
  if (!done.not_found.empty()) write_ids(w, "not_found", done.not_found);
  return w.end_object().take();
}

std::string audit_json(const query::AuditPage& page) {
  core::JsonWriter w;
  w.begin_object().key("entries").begin_array();
  for (const auto& r : page.records) {
    w.begin_object().field("id", r.id).field("at", core::format_rfc3339(r.at));
    optional_field(w, "key_id", r.key_id);
    w.field("action", r.action);
    optional_field(w, "target", r.target);
    w.key("detail").raw(r.detail_json);
    optional_field(w, "remote_addr", r.remote_addr);
    optional_field(w, "request_id", r.request_id);
    w.end_object();
  }
  w.end_array().field("count", static_cast<std::int64_t>(page.records.size())).key("next_cursor");
  if (page.next) {
    w.value(query::encode_cursor(*page.next));
  } else {
    w.null();
  }
  return w.end_object().take();
}

}  // namespace logpipe::api
