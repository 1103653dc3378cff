// The Prometheus metrics of one logpipe process (README "Metrics"), rendered in the text format for
// GET /metrics. One instance per process, created at start and shared by reference.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace prometheus {
class Registry;
class Gauge;
class Counter;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace logpipe::metrics {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // HTTP (serve)
  void observe_request(std::string_view method, std::string_view route, unsigned status,
                       double seconds, std::size_t request_bytes, std::size_t response_bytes);
  void logs_received(std::string_view level, double count);
  void ingest_rejected(std::string_view reason,
                       double count = 1);  // logs_processing_errors_total{error_type}
  void redis_operation(std::string_view operation, double seconds);
  void set_stream_size(double entries);
  // rate_limited_total{reason}: requests refused with 429 by a rate limit or quota: key_requests,
  // ip_requests (per second, on the head), key_logs (logs per second), quota_logs, quota_bytes
  // (the tenant's day).
  void rate_limited(std::string_view reason);
  // Logs stored directly in PostgreSQL because Redis was down (ingest_fallback_logs_total).
  void ingest_fallback(double count);

  // device_cache_requests_total{result}: hit, miss, error (Redis failed: PostgreSQL answered).
  void device_cache(std::string_view result);

  // auth_failures_total{reason}: missing, unknown, revoked, expired, not_loaded (keys not read
  // from PostgreSQL yet), wrong_tenant, scope.
  void auth_failure(std::string_view reason);
  // auth_key_reloads_total{result}: ok, failed (the keys loaded before stay in use).
  void auth_keys_reload(bool ok);
  // audit_write_failures_total: audit_log rows that could not be written. A change in PostgreSQL
  // fails with its row; a DLQ change in Redis has happened by then (README "Audit log").
  void audit_write_failed();

  // http_connection_events_total{event}: see http::ConnectionObserver for the events.
  void connection_event(std::string_view event);

  // tls_certificate_reloads_total{listener,outcome}: a SIGHUP reload of the certificate of serve's
  // HTTPS ("http") or a listener's TLS ("syslog"): ok, or failed (the old certificate stays).
  void tls_reload(std::string_view listener, bool ok);
  // tls_certificate_expiry_timestamp_seconds{listener}: notAfter of the certificate in use.
  void tls_certificate_expiry(std::string_view listener, double unix_seconds);

  // GET /api/v1/logs/export: log_exports_started_total once its response begins,
  // log_exports_completed_total or log_exports_aborted_total{reason} (client_gone,
  // database_error) when it ends, and log_export_rows_total as rows reach the socket.
  void export_started();
  void export_completed();
  void export_aborted(std::string_view reason);
  void exported_rows(double count);

  // The live tail (src/tail): tail_subscribers{transport} (ws, sse) connected now;
  // tail_messages_sent_total (records and dropped notices handed to a subscriber's queue);
  // tail_messages_dropped_total (records a subscriber's full queue could not take);
  // tail_stream_errors_total{reason}: redis (a read of the stream failed: reconnecting), decode (an
  // entry that could not be decoded); tail_entries_missed_total (stream entries the worker had
  // deleted before the hub read them: it fell behind).
  void tail_subscriber(std::string_view transport, bool subscribed);
  void tail_sent(double count = 1);
  void tail_dropped(double count = 1);
  void tail_missed(double entries);
  void tail_stream_error(std::string_view reason);

  // The listeners of each protocol (src/listeners): protocol is syslog or gelf, the prefix of
  // the metric names; transport is tcp, tls or udp.
  // <protocol>_messages_received_total: messages decoded and handed to the intake.
  void listener_received(std::string_view protocol, std::string_view transport, double messages);
  // <protocol>_bytes_received_total: bytes read from connections and datagrams.
  void listener_bytes(std::string_view protocol, std::string_view transport, double bytes);
  // <protocol>_messages_rejected_total{reason}: malformed (not in the protocol), oversized (longer
  // than <protocol>_max_message_bytes), truncated (an octet-counted frame cut off by the
  // connection's end), incomplete (GELF chunks that stopped coming), too_many_pending (GELF
  // messages beyond the reassembly limits).
  void listener_rejected(std::string_view protocol, std::string_view transport,
                         std::string_view reason, double count = 1);
  // <protocol>_dropped_total{reason}: decoded messages that were not stored: backpressure and
  // in_flight (UDP only: TCP stops reading instead), shutdown, and the intake's error codes
  // (unavailable, timeout, …).
  void listener_dropped(std::string_view protocol, std::string_view transport,
                        std::string_view reason, double count);
  // <protocol>_connections_open: TCP and TLS connections now.
  void listener_connection_open(std::string_view protocol, std::string_view transport, bool opened);
  // <protocol>_connection_events_total{event}: refused (at <protocol>_max_connections),
  // idle_timeout, tls_failed (handshake), accept_failed; with a client CA (mutual TLS), TLS
  // clients refused for their certificate: client_cert_missing, client_cert_untrusted,
  // client_cert_no_tenant (not exactly one CN), unknown_tenant (the CN names none),
  // tenant_lookup_failed (PostgreSQL did not answer).
  void listener_connection_event(std::string_view protocol, std::string_view transport,
                                 std::string_view event);

  // worker
  void worker_processed(std::string_view status, double count);  // stored|duplicate|failed
  void batch_processed(double seconds, double records);
  void worker_error(std::string_view error_type);
  // worker_circuit_breaker_open: consumers of this process whose circuit is open.
  void worker_circuit(bool opened);
  // maintenance_runs_total{outcome}: ok, skipped (another instance holds the lock), failed.
  void maintenance_run(std::string_view outcome);
  // maintenance_partitions_total{action}: created, archived, dropped, indexed.
  void maintenance_partitions(std::string_view action, double count);

  // alerts (alerts::Notifier): alert_notifications_total{result} per delivery attempt: ok (2xx),
  // retry (failed, tried again later), failed (failed for good: not retryable, or the last
  // attempt); alert_notifications_dropped_total{reason}: deliveries never made or abandoned:
  // queue_full (the notifier's queue was at its limit), shutdown.
  void alert_notification(std::string_view result);
  void alert_notification_dropped(std::string_view reason, double count = 1);
  // alerts (alerts::Evaluator): alerts_firing (the evaluating instance's open episodes; 0 on the
  // others), alert_evaluator_leading (1 on the instance that evaluates),
  // alert_evaluation_failures_total (a round, a rule read or a delivery row that failed),
  // alert_groups_overflow_total (records of a group beyond a rule's max groups, not counted).
  void set_alerts_firing(std::size_t firing);
  void set_alert_evaluator_leading(bool leading);
  void alert_evaluation_failed();
  void alert_groups_overflow();

  // The queue as serve reads it at each scrape (api::metrics_text; docs/ARCHITECTURE.md
  // "Observability"): stream_oldest_entry_age_seconds (the e2e lag: age of the oldest entry not
  // yet stored, 0 when none), stream_undelivered_entries (entries no worker has read yet),
  // stream_pending_entries{consumer} (read by that consumer, not yet acknowledged; a consumer
  // gone from the group loses its series), dlq_entries (the dead-letter stream's length) and
  // redis_up. nullopt: Redis did not answer; redis_up drops to 0 and the other gauges keep their
  // last values.
  struct QueueSample {
    double oldest_entry_age_seconds = 0;
    double undelivered = 0;
    double dlq_entries = 0;
    std::vector<std::pair<std::string, double>> pending;  // consumer → pending entries
  };
  void set_queue(const std::optional<QueueSample>& sample);
  // postgres_up: 1 if PostgreSQL answered the last scrape's SELECT 1 (serve only).
  void set_postgres_up(bool up);

  // Prometheus text exposition format, including process CPU and memory.
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  prometheus::Family<prometheus::Histogram>* http_duration_;
  prometheus::Family<prometheus::Histogram>* http_request_size_;
  prometheus::Family<prometheus::Histogram>* http_response_size_;
  prometheus::Family<prometheus::Counter>* logs_received_;
  prometheus::Family<prometheus::Counter>* processing_errors_;
  prometheus::Family<prometheus::Histogram>* redis_duration_;
  prometheus::Gauge* stream_size_;
  prometheus::Gauge* oldest_entry_age_;
  prometheus::Gauge* undelivered_;
  prometheus::Gauge* dlq_entries_;
  prometheus::Gauge* redis_up_;
  prometheus::Gauge* postgres_up_;
  prometheus::Family<prometheus::Gauge>* consumer_pending_;
  std::mutex consumers_mutex_;  // two scrapes may set the queue at once
  std::map<std::string, prometheus::Gauge*, std::less<>> consumers_;
  prometheus::Counter* fallback_logs_;
  prometheus::Family<prometheus::Counter>* rate_limited_;
  prometheus::Counter* audit_write_failures_;
  prometheus::Family<prometheus::Counter>* worker_processed_;
  prometheus::Histogram* batch_duration_;
  prometheus::Histogram* batch_size_;
  prometheus::Gauge* circuit_open_;
  prometheus::Family<prometheus::Counter>* connection_events_;
  prometheus::Family<prometheus::Counter>* auth_failures_;
  prometheus::Family<prometheus::Counter>* auth_key_reloads_;
  prometheus::Family<prometheus::Counter>* tls_reloads_;
  prometheus::Family<prometheus::Gauge>* tls_expiry_;
  prometheus::Family<prometheus::Counter>* device_cache_;
  prometheus::Family<prometheus::Counter>* maintenance_runs_;
  prometheus::Family<prometheus::Counter>* maintenance_partitions_;
  prometheus::Counter* exports_started_;
  prometheus::Counter* exports_completed_;
  prometheus::Family<prometheus::Counter>* exports_aborted_;
  prometheus::Counter* exported_rows_;
  prometheus::Family<prometheus::Gauge>* tail_subscribers_;
  prometheus::Counter* tail_sent_;
  prometheus::Counter* tail_dropped_;
  prometheus::Counter* tail_missed_;
  prometheus::Family<prometheus::Counter>* tail_errors_;
  prometheus::Family<prometheus::Counter>* alert_notifications_;
  prometheus::Family<prometheus::Counter>* alert_notifications_dropped_;
  prometheus::Gauge* alerts_firing_;
  prometheus::Gauge* alert_evaluator_leading_;
  prometheus::Counter* alert_evaluation_failures_;
  prometheus::Counter* alert_groups_overflow_;
  struct ListenerFamilies {
    prometheus::Family<prometheus::Counter>* received;
    prometheus::Family<prometheus::Counter>* bytes;
    prometheus::Family<prometheus::Counter>* rejected;
    prometheus::Family<prometheus::Counter>* dropped;
    prometheus::Family<prometheus::Gauge>* connections;
    prometheus::Family<prometheus::Counter>* connection_events;
  };
  const ListenerFamilies& listener(std::string_view protocol) const;
  ListenerFamilies syslog_, gelf_;
  double start_time_;  // seconds since the Unix epoch
};

}  // namespace logpipe::metrics
