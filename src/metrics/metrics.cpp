#include "metrics/metrics.hpp"

#include <prometheus/client_metric.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace logpipe::metrics {
namespace {

using prometheus::Histogram;

const Histogram::BucketBoundaries kLatencyBuckets = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
const Histogram::BucketBoundaries kSizeBuckets = {100,     1000,      10'000,
                                                  100'000, 1'000'000, 10'000'000};
const Histogram::BucketBoundaries kRedisBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                                   0.005,  0.01,    0.025,  0.05,  0.1};
// The same six families for each listener protocol, named after it (syslog_…, gelf_…).
template <class Families>
Families make_listener_families(prometheus::Registry& r, const std::string& prefix,
                                const std::string& title) {
  Families f{};
  f.received = &prometheus::BuildCounter()
                    .Name(prefix + "_messages_received_total")
                    .Help(title + " messages decoded and handed to the intake, by transport")
                    .Register(r);
  f.bytes = &prometheus::BuildCounter()
                 .Name(prefix + "_bytes_received_total")
                 .Help("Bytes read by the " + title + " listeners, by transport")
                 .Register(r);
  f.rejected = &prometheus::BuildCounter()
                    .Name(prefix + "_messages_rejected_total")
                    .Help(title + " messages refused: malformed, oversized (over " + prefix +
                          "_max_message_bytes), truncated (cut off by the connection's end), "
                          "incomplete and too_many_pending (GELF chunks)")
                    .Register(r);
  f.dropped = &prometheus::BuildCounter()
                   .Name(prefix + "_dropped_total")
                   .Help("Decoded " + title +
                         " messages not stored, by reason: backpressure and in_flight (UDP), "
                         "shutdown, or the intake's error code")
                   .Register(r);
  f.connections = &prometheus::BuildGauge()
                       .Name(prefix + "_connections_open")
                       .Help("Open " + title + " TCP/TLS connections, by transport")
                       .Register(r);
  f.connection_events = &prometheus::BuildCounter()
                             .Name(prefix + "_connection_events_total")
                             .Help(title + " connections refused at " + prefix +
                                   "_max_connections, closed idle (idle_timeout), failed TLS "
                                   "handshakes, failed accepts, TLS clients refused for their "
                                   "certificate or its tenant (client_cert_missing, "
                                   "client_cert_untrusted, client_cert_no_tenant, "
                                   "unknown_tenant, tenant_lookup_failed)")
                             .Register(r);
  return f;
}

const Histogram::BucketBoundaries kBatchBuckets = {1, 10, 100, 500, 1000, 5000, 10'000, 50'000};

struct ProcessStats {
  double resident_bytes = 0;
  double cpu_seconds = 0;  // user + system
};

// From /proc/self: resident bytes and CPU seconds (user + system).
ProcessStats read_process_stats() {
  ProcessStats stats;
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream statm("/proc/self/statm");
  double size = 0, resident = 0;
  if (statm >> size >> resident) stats.resident_bytes = resident * page;
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line)) return stats;
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const auto close = line.rfind(')');
  if (close == std::string::npos) return stats;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  stats.cpu_seconds = (utime + stime) / ticks;
  return stats;
}

prometheus::MetricFamily process_family(std::string name, std::string help,
                                        prometheus::MetricType type, double value) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return {std::move(name), std::move(help), type, {metric}};
}

// The process metrics of the Prometheus client conventions, read when scraped. They are families
// built here rather than registered Gauges/Counters: process_cpu_seconds_total is a counter whose
// value the kernel keeps, and prometheus-cpp's Counter can only be incremented.
std::vector<prometheus::MetricFamily> process_families(double start_time) {
  const ProcessStats stats = read_process_stats();
  using prometheus::MetricType;
  return {
      process_family("process_cpu_seconds_total", "User and system CPU time spent in seconds",
                     MetricType::Counter, stats.cpu_seconds),
      process_family("process_resident_memory_bytes", "Resident memory size in bytes",
                     MetricType::Gauge, stats.resident_bytes),
      process_family("process_start_time_seconds",
                     "Start time of the process since the Unix epoch in seconds", MetricType::Gauge,
                     start_time),
  };
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  http_requests_ = &prometheus::BuildCounter()
                        .Name("http_requests_total")
                        .Help("HTTP requests answered, by method, route and status")
                        .Register(r);
  http_duration_ = &prometheus::BuildHistogram()
                        .Name("http_request_duration_seconds")
                        .Help("Time from a request read to its response written")
                        .Register(r);
  http_request_size_ = &prometheus::BuildHistogram()
                            .Name("http_request_size_bytes")
                            .Help("Request body sizes")
                            .Register(r);
  http_response_size_ = &prometheus::BuildHistogram()
                             .Name("http_response_size_bytes")
                             .Help("Response body sizes")
                             .Register(r);
  logs_received_ = &prometheus::BuildCounter()
                        .Name("logs_received_total")
                        .Help("Log records accepted and queued, by level")
                        .Register(r);
  processing_errors_ = &prometheus::BuildCounter()
                            .Name("logs_processing_errors_total")
                            .Help("Requests or batches that failed, by error type")
                            .Register(r);
  redis_duration_ = &prometheus::BuildHistogram()
                         .Name("redis_operation_duration_seconds")
                         .Help("Redis round trips, by operation")
                         .Register(r);
  stream_size_ = &prometheus::BuildGauge()
                      .Name("redis_stream_size")
                      .Help("Entries in the Redis stream not yet stored and removed")
                      .Register(r)
                      .Add({});
  oldest_entry_age_ = &prometheus::BuildGauge()
                           .Name("stream_oldest_entry_age_seconds")
                           .Help("Age of the oldest stream entry not yet stored (end-to-end lag)")
                           .Register(r)
                           .Add({});
  undelivered_ = &prometheus::BuildGauge()
                      .Name("stream_undelivered_entries")
                      .Help("Stream entries no worker has read yet")
                      .Register(r)
                      .Add({});
  consumer_pending_ = &prometheus::BuildGauge()
                           .Name("stream_pending_entries")
                           .Help("Stream entries read by a consumer and not yet acknowledged")
                           .Register(r);
  dlq_entries_ = &prometheus::BuildGauge()
                      .Name("dlq_entries")
                      .Help("Entries in the dead-letter stream")
                      .Register(r)
                      .Add({});
  redis_up_ = &prometheus::BuildGauge()
                   .Name("redis_up")
                   .Help("1 if Redis answered the last scrape's queue read")
                   .Register(r)
                   .Add({});
  postgres_up_ = &prometheus::BuildGauge()
                      .Name("postgres_up")
                      .Help("1 if PostgreSQL answered the last scrape's check")
                      .Register(r)
                      .Add({});
  // The labels are fixed when the build is configured (CMakeLists.txt).
  prometheus::BuildGauge()
      .Name("logpipe_build_info")
      .Help("The build of this logpipe binary; always 1")
      .Register(r)
      .Add({{"version", LOGPIPE_VERSION},
            {"commit", LOGPIPE_COMMIT},
            {"build_type", LOGPIPE_BUILD_TYPE}})
      .Set(1);
  circuit_open_ =
      &prometheus::BuildGauge()
           .Name("worker_circuit_breaker_open")
           .Help("Worker consumers that stopped reading because PostgreSQL is unavailable")
           .Register(r)
           .Add({});
  fallback_logs_ = &prometheus::BuildCounter()
                        .Name("ingest_fallback_logs_total")
                        .Help("Logs stored directly in PostgreSQL because Redis was unavailable")
                        .Register(r)
                        .Add({});
  rate_limited_ = &prometheus::BuildCounter()
                       .Name("rate_limited_total")
                       .Help(
                           "Requests refused by a rate limit (key_requests, ip_requests, key_logs) "
                           "or a tenant's daily quota (quota_logs, quota_bytes)")
                       .Register(r);
  for (const char* reason :
       {"key_requests", "ip_requests", "key_logs", "quota_logs", "quota_bytes"})
    rate_limited_->Add({{"reason", reason}});  // every reason at 0 from the start
  audit_write_failures_ = &prometheus::BuildCounter()
                               .Name("audit_write_failures_total")
                               .Help("Audit log rows that could not be written")
                               .Register(r)
                               .Add({});
  worker_processed_ = &prometheus::BuildCounter()
                           .Name("worker_processed_logs_total")
                           .Help("Records handled by the worker, by status")
                           .Register(r);
  batch_duration_ = &prometheus::BuildHistogram()
                         .Name("batch_processing_duration_seconds")
                         .Help("Time to store one batch in PostgreSQL")
                         .Register(r)
                         .Add({}, kLatencyBuckets);
  batch_size_ = &prometheus::BuildHistogram()
                     .Name("worker_batch_size")
                     .Help("Records per stored batch")
                     .Register(r)
                     .Add({}, kBatchBuckets);
  start_time_ =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  connection_events_ = &prometheus::BuildCounter()
                            .Name("http_connection_events_total")
                            .Help(
                                "HTTP connections the server refused or closed, by event: evicted "
                                "(idle, closed at max_connections for a new one), refused (at the "
                                "cap with none idle), refused_per_ip, accept_failed, tls_failed, "
                                "idle_timeout, and requests refused before their end: "
                                "header_timeout, body_timeout, body_too_slow, header_too_large, "
                                "too_many_headers, body_too_large, malformed, "
                                "unsupported_transfer_coding; and forwarded_for_rejected: a "
                                "trusted proxy's X-Forwarded-For with a malformed entry or too "
                                "many (the request is served)")
                            .Register(r);
  tls_reloads_ = &prometheus::BuildCounter()
                      .Name("tls_certificate_reloads_total")
                      .Help(
                          "TLS certificate reloads (SIGHUP) by listener (http, syslog) and "
                          "outcome: ok, or failed (the previous certificate stays in use)")
                      .Register(r);
  tls_expiry_ = &prometheus::BuildGauge()
                     .Name("tls_certificate_expiry_timestamp_seconds")
                     .Help("When the TLS certificate in use expires (notAfter), by listener")
                     .Register(r);
  device_cache_ = &prometheus::BuildCounter()
                       .Name("device_cache_requests_total")
                       .Help("GET /api/logs/{device_id} through the Redis cache: hit, miss, error")
                       .Register(r);
  maintenance_runs_ = &prometheus::BuildCounter()
                           .Name("maintenance_runs_total")
                           .Help(
                               "Storage maintenance rounds by outcome: ok, skipped (another "
                               "instance held the lock), failed")
                           .Register(r);
  maintenance_partitions_ =
      &prometheus::BuildCounter()
           .Name("maintenance_partitions_total")
           .Help("Daily partitions of logs created, archived, dropped (retention) and indexed")
           .Register(r);
  tail_subscribers_ = &prometheus::BuildGauge()
                           .Name("tail_subscribers")
                           .Help("Live tail subscribers connected, by transport (ws, sse)")
                           .Register(r);
  // At 0 from the start: a dashboard's sum over instances that no one has tailed yet (or that
  // restarted since) is 0, not "no data".
  for (const char* transport : {"ws", "sse"})
    tail_subscribers_->Add({{"transport", transport}});
  tail_sent_ = &prometheus::BuildCounter()
                    .Name("tail_messages_sent_total")
                    .Help("Live tail messages (records, dropped notices) queued to subscribers")
                    .Register(r)
                    .Add({});
  tail_dropped_ = &prometheus::BuildCounter()
                       .Name("tail_messages_dropped_total")
                       .Help("Live tail records dropped: the subscriber's queue was full")
                       .Register(r)
                       .Add({});
  tail_missed_ = &prometheus::BuildCounter()
                      .Name("tail_entries_missed_total")
                      .Help(
                          "Stream entries the live tail never read: stored and deleted before it "
                          "got to them")
                      .Register(r)
                      .Add({});
  tail_errors_ = &prometheus::BuildCounter()
                      .Name("tail_stream_errors_total")
                      .Help(
                          "Live tail stream reads that failed (redis) or entries not decoded "
                          "(decode)")
                      .Register(r);
  exports_started_ = &prometheus::BuildCounter()
                          .Name("log_exports_started_total")
                          .Help("Log exports whose response began")
                          .Register(r)
                          .Add({});
  exports_completed_ = &prometheus::BuildCounter()
                            .Name("log_exports_completed_total")
                            .Help("Log exports that sent every matching row")
                            .Register(r)
                            .Add({});
  exports_aborted_ =
      &prometheus::BuildCounter()
           .Name("log_exports_aborted_total")
           .Help(
               "Log exports cut off: the client left (client_gone) or PostgreSQL failed "
               "mid-stream (database_error)")
           .Register(r);
  for (const char* reason : {"client_gone", "database_error"})
    exports_aborted_->Add({{"reason", reason}});  // both at 0 from the start
  exported_rows_ = &prometheus::BuildCounter()
                        .Name("log_export_rows_total")
                        .Help("Rows written to the clients of log exports")
                        .Register(r)
                        .Add({});
  auth_failures_ = &prometheus::BuildCounter()
                        .Name("auth_failures_total")
                        .Help(
                            "Requests refused a key: missing, unknown, revoked, expired, "
                            "not_loaded, wrong_tenant, scope")
                        .Register(r);
  auth_key_reloads_ = &prometheus::BuildCounter()
                           .Name("auth_key_reloads_total")
                           .Help("Reloads of the API keys from PostgreSQL, by result (ok, failed)")
                           .Register(r);
  alert_notifications_ = &prometheus::BuildCounter()
                              .Name("alert_notifications_total")
                              .Help(
                                  "Alert notification delivery attempts by result: ok (2xx), retry "
                                  "(failed, tried again later), failed (failed for good)")
                              .Register(r);
  for (const char* result : {"ok", "retry", "failed"})
    alert_notifications_->Add({{"result", result}});  // every result at 0 from the start
  alert_notifications_dropped_ =
      &prometheus::BuildCounter()
           .Name("alert_notifications_dropped_total")
           .Help(
               "Alert notification deliveries never made (queue_full: the notifier's queue was "
               "at its limit) or abandoned at shutdown, by reason")
           .Register(r);
  for (const char* reason : {"queue_full", "shutdown"})
    alert_notifications_dropped_->Add({{"reason", reason}});
  alerts_firing_ = &prometheus::BuildGauge()
                        .Name("alerts_firing")
                        .Help("Alerts firing (rule and group), on the instance that evaluates")
                        .Register(r)
                        .Add({});
  alert_evaluator_leading_ = &prometheus::BuildGauge()
                                  .Name("alert_evaluator_leading")
                                  .Help("1 on the one instance that evaluates the alert rules")
                                  .Register(r)
                                  .Add({});
  alert_evaluation_failures_ =
      &prometheus::BuildCounter()
           .Name("alert_evaluation_failures_total")
           .Help(
               "Alert evaluation steps that failed (PostgreSQL): rounds, rule reads, delivery rows")
           .Register(r)
           .Add({});
  alert_groups_overflow_ =
      &prometheus::BuildCounter()
           .Name("alert_groups_overflow_total")
           .Help("Matching records not counted: their group was beyond the rule's max groups")
           .Register(r)
           .Add({});
  syslog_ = make_listener_families<ListenerFamilies>(r, "syslog", "Syslog");
  gelf_ = make_listener_families<ListenerFamilies>(r, "gelf", "GELF");
}

const Metrics::ListenerFamilies& Metrics::listener(std::string_view protocol) const {
  if (protocol == "syslog") return syslog_;
  if (protocol == "gelf") return gelf_;
  throw std::logic_error("no metrics for listener protocol " + std::string(protocol));
}

void Metrics::listener_received(std::string_view protocol, std::string_view transport,
                                double messages) {
  listener(protocol).received->Add({{"transport", std::string(transport)}}).Increment(messages);
}

void Metrics::listener_bytes(std::string_view protocol, std::string_view transport, double bytes) {
  listener(protocol).bytes->Add({{"transport", std::string(transport)}}).Increment(bytes);
}

void Metrics::listener_rejected(std::string_view protocol, std::string_view transport,
                                std::string_view reason, double count) {
  listener(protocol)
      .rejected->Add({{"transport", std::string(transport)}, {"reason", std::string(reason)}})
      .Increment(count);
}

void Metrics::listener_dropped(std::string_view protocol, std::string_view transport,
                               std::string_view reason, double count) {
  listener(protocol)
      .dropped->Add({{"transport", std::string(transport)}, {"reason", std::string(reason)}})
      .Increment(count);
}

void Metrics::listener_connection_open(std::string_view protocol, std::string_view transport,
                                       bool opened) {
  auto& gauge = listener(protocol).connections->Add({{"transport", std::string(transport)}});
  if (opened) {
    gauge.Increment();
  } else {
    gauge.Decrement();
  }
}

void Metrics::listener_connection_event(std::string_view protocol, std::string_view transport,
                                        std::string_view event) {
  listener(protocol)
      .connection_events
      ->Add({{"transport", std::string(transport)}, {"event", std::string(event)}})
      .Increment();
}

Metrics::~Metrics() = default;

void Metrics::auth_keys_reload(bool ok) {
  auth_key_reloads_->Add({{"result", ok ? "ok" : "failed"}}).Increment();
}

void Metrics::auth_failure(std::string_view reason) {
  auth_failures_->Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::alert_notification(std::string_view result) {
  alert_notifications_->Add({{"result", std::string(result)}}).Increment();
}

void Metrics::alert_notification_dropped(std::string_view reason, double count) {
  alert_notifications_dropped_->Add({{"reason", std::string(reason)}}).Increment(count);
}

void Metrics::set_alerts_firing(std::size_t firing) {
  alerts_firing_->Set(static_cast<double>(firing));
}

void Metrics::set_alert_evaluator_leading(bool leading) {
  alert_evaluator_leading_->Set(leading ? 1 : 0);
}

void Metrics::alert_evaluation_failed() {
  alert_evaluation_failures_->Increment();
}

void Metrics::alert_groups_overflow() {
  alert_groups_overflow_->Increment();
}

void Metrics::device_cache(std::string_view result) {
  device_cache_->Add({{"result", std::string(result)}}).Increment();
}

void Metrics::maintenance_run(std::string_view outcome) {
  maintenance_runs_->Add({{"outcome", std::string(outcome)}}).Increment();
}

void Metrics::maintenance_partitions(std::string_view action, double count) {
  maintenance_partitions_->Add({{"action", std::string(action)}}).Increment(count);
}

void Metrics::observe_request(std::string_view method, std::string_view route, unsigned status,
                              double seconds, std::size_t request_bytes,
                              std::size_t response_bytes) {
  const std::string m(method), rt(route);
  http_requests_->Add({{"method", m}, {"route", rt}, {"status", std::to_string(status)}})
      .Increment();
  http_duration_->Add({{"method", m}, {"route", rt}}, kLatencyBuckets).Observe(seconds);
  http_request_size_->Add({{"route", rt}}, kSizeBuckets)
      .Observe(static_cast<double>(request_bytes));
  http_response_size_->Add({{"route", rt}}, kSizeBuckets)
      .Observe(static_cast<double>(response_bytes));
}

void Metrics::logs_received(std::string_view level, double count) {
  logs_received_->Add({{"level", std::string(level)}}).Increment(count);
}

void Metrics::ingest_rejected(std::string_view reason, double count) {
  processing_errors_->Add({{"error_type", std::string(reason)}}).Increment(count);
}

void Metrics::redis_operation(std::string_view operation, double seconds) {
  redis_duration_->Add({{"operation", std::string(operation)}}, kRedisBuckets).Observe(seconds);
}

void Metrics::set_stream_size(double entries) {
  stream_size_->Set(entries);
}

void Metrics::worker_circuit(bool opened) {
  if (opened) {
    circuit_open_->Increment();
  } else {
    circuit_open_->Decrement();
  }
}

void Metrics::rate_limited(std::string_view reason) {
  rate_limited_->Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::ingest_fallback(double count) {
  fallback_logs_->Increment(count);
}

void Metrics::audit_write_failed() {
  audit_write_failures_->Increment();
}

void Metrics::worker_processed(std::string_view status, double count) {
  worker_processed_->Add({{"status", std::string(status)}}).Increment(count);
}

void Metrics::batch_processed(double seconds, double records) {
  batch_duration_->Observe(seconds);
  batch_size_->Observe(records);
}

void Metrics::worker_error(std::string_view error_type) {
  ingest_rejected(error_type);
}

void Metrics::set_queue(const std::optional<QueueSample>& sample) {
  redis_up_->Set(sample ? 1 : 0);
  if (!sample) return;
  oldest_entry_age_->Set(sample->oldest_entry_age_seconds);
  undelivered_->Set(sample->undelivered);
  dlq_entries_->Set(sample->dlq_entries);
  const std::lock_guard lock(consumers_mutex_);
  std::map<std::string, prometheus::Gauge*, std::less<>> seen;
  for (const auto& [name, pending] : sample->pending) {
    auto* gauge = &consumer_pending_->Add({{"consumer", name}});
    gauge->Set(pending);
    seen.emplace(name, gauge);
  }
  // Consumers deleted from the group (a worker's slot released for good) stop being reported.
  for (const auto& [name, gauge] : consumers_) {
    if (!seen.contains(name)) consumer_pending_->Remove(gauge);
  }
  consumers_ = std::move(seen);
}

void Metrics::set_postgres_up(bool up) {
  postgres_up_->Set(up ? 1 : 0);
}

std::string Metrics::render() const {
  auto families = registry_->Collect();
  for (auto& family : process_families(start_time_))
    families.push_back(std::move(family));
  return prometheus::TextSerializer().Serialize(families);
}

void Metrics::connection_event(std::string_view event) {
  connection_events_->Add({{"event", std::string(event)}}).Increment();
}

void Metrics::tls_reload(std::string_view listener, bool ok) {
  tls_reloads_->Add({{"listener", std::string(listener)}, {"outcome", ok ? "ok" : "failed"}})
      .Increment();
}

void Metrics::tls_certificate_expiry(std::string_view listener, double unix_seconds) {
  tls_expiry_->Add({{"listener", std::string(listener)}}).Set(unix_seconds);
}

void Metrics::tail_subscriber(std::string_view transport, bool subscribed) {
  auto& gauge = tail_subscribers_->Add({{"transport", std::string(transport)}});
  if (subscribed) {
    gauge.Increment();
  } else {
    gauge.Decrement();
  }
}

void Metrics::tail_sent(double count) {
  tail_sent_->Increment(count);
}

void Metrics::tail_dropped(double count) {
  tail_dropped_->Increment(count);
}

void Metrics::tail_missed(double entries) {
  tail_missed_->Increment(entries);
}

void Metrics::tail_stream_error(std::string_view reason) {
  tail_errors_->Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::export_started() {
  exports_started_->Increment();
}

void Metrics::export_completed() {
  exports_completed_->Increment();
}

void Metrics::export_aborted(std::string_view reason) {
  exports_aborted_->Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::exported_rows(double count) {
  exported_rows_->Increment(count);
}

}  // namespace logpipe::metrics
