// Configuration: flags > environment (LOGPIPE_*) > config file (logpipe.toml) > defaults.
// Every option is declared once in a table (settings.cpp) that drives the flags, the
// environment names, the TOML keys, the defaults and the --help text.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace CLI {
class App;
}

namespace logpipe::config {

// A user-defined line format (README "Patterns"): [patterns.<name>] in the config file.
struct Pattern {
  std::string name;
  std::string regex;
  std::string ts_format;  // empty: rfc3339
};

struct Settings {
  std::string http_addr;
  std::string redis_url;
  std::string database_url;
  std::string stream;
  std::string group;
  std::string consumer;  // empty: a leased "<hostname>-<i>" per consumer
  std::size_t batch_size = 0;
  std::size_t max_wait_ms = 0;
  std::size_t workers = 0;  // parallel consumers in one worker process
  std::size_t claim_idle_ms = 0;
  std::size_t max_retries = 0;
  std::string fallback;               // "db" or "off": what ingest does while Redis is down
  std::size_t max_backlog = 0;        // entries; 0: no limit
  std::size_t max_backlog_bytes = 0;  // Redis memory of the stream; 0: no limit
  std::size_t max_connections = 0;
  std::size_t max_connections_per_ip = 0;  // 0: no limit
  // Reverse proxies whose X-Forwarded-For is believed ("10.0.0.0/8,::1"); checked by serve at
  // start (http::parse_trusted_proxies, the http module's); empty: none.
  std::string trusted_proxies;
  std::size_t tail_max_subscribers = 0;   // live tail, per instance
  std::size_t tail_queue_messages = 0;    // per subscriber
  std::size_t tail_max_lifetime_ms = 0;   // then the connection is closed (clients reconnect)
  std::size_t tail_ping_interval_ms = 0;  // SSE keep-alive comments
  std::size_t max_header_bytes = 0;
  std::size_t max_header_count = 0;
  std::size_t header_timeout_ms = 0;
  std::size_t body_timeout_ms = 0;
  std::size_t min_body_rate = 0;  // bytes per second; 0: no minimum
  std::size_t idle_timeout_ms = 0;
  std::string tls_cert;  // PEM files: serve speaks HTTPS when both are set
  std::string tls_key;
  std::vector<std::string> cors_origins;  // "scheme://host[:port]" or "*"; empty: no CORS
  std::string metrics_addr;  // worker: host:port of its /metrics and /health; empty: none
  std::size_t threads = 0;   // 0: one per core
  std::size_t max_body_bytes = 0;
  std::size_t max_decoded_bytes = 0;  // a compressed body, once decoded
  std::size_t max_records_per_request = 0;
  std::size_t max_json_depth = 0;
  std::size_t max_message_bytes = 0;
  std::size_t max_name_bytes = 0;
  std::size_t db_pool_size = 0;
  // README "Rate limits and quotas". 0: no limit (a key's own limit still applies).
  std::size_t key_requests_per_second = 0;
  std::size_t key_logs_per_second = 0;
  std::size_t ip_requests_per_second = 0;  // requests without a key, per client address; 0: off
  std::size_t ip_auth_failures_per_second = 10;  // failed authentications per client address
  std::string es_prefix;                // the Elasticsearch-compatible API's path, e.g. "/es"
  bool es_at_root = false;              // …also served at /
  std::size_t device_cache_ttl_ms = 0;  // 0: GET /api/logs/{device_id} uncached
  std::string log_level;
  std::size_t retention_days = 0;           // 0: keep everything
  std::string archive_dir;                  // empty: expired partitions are dropped unarchived
  std::size_t partitions_ahead = 0;         // days
  std::size_t maintenance_interval_ms = 0;  // 0: the worker runs no maintenance loop
  std::string syslog_tcp_addr;              // host:port; empty: the listener is off
  std::string syslog_udp_addr;
  std::string syslog_tls_addr;
  std::string syslog_tls_cert;  // PEM files for syslog_tls_addr
  std::string syslog_tls_key;
  std::string syslog_tls_client_ca;  // PEM: mutual TLS, the tenant from the client's CN
  std::size_t syslog_max_message_bytes = 0;
  std::size_t syslog_max_connections = 0;
  std::size_t syslog_idle_timeout_ms = 0;
  std::string gelf_udp_addr;  // host:port; empty: the listener is off
  std::string gelf_tcp_addr;
  std::size_t gelf_max_message_bytes = 0;
  std::string syslog_tenant;  // tenant names
  std::string gelf_tenant;
  std::string auth;  // "keys" | "none"
  std::size_t auth_refresh_ms = 0;
  std::string metrics_auth;  // "keys" | "none"
  // Alert notifications (alerts::NotifierOptions; README "Alert notifications").
  bool alerts = true;                           // evaluate alert rules (alerts::Evaluator)
  std::size_t alert_interval_ms = 0;            // between judgements
  std::size_t alert_resend_interval_ms = 0;     // firing alerts to Alertmanager targets again
  std::string public_url;                       // links in notifications; "": none
  std::size_t alert_notify_attempts = 0;        // in all, the first included
  std::size_t alert_notify_retry_delay_ms = 0;  // before the 2nd attempt, doubled after each
  std::size_t alert_notify_timeout_ms = 0;      // each step of an attempt
  std::size_t alert_notify_queue = 0;           // deliveries queued or under way
  // The only setting that is not a row of the table: a table of tables, in the config file only
  // (a regex does not fit a flag). Checked for shape here; compiled by serve at start-up.
  std::vector<Pattern> patterns;

  std::string host() const;        // of http_addr
  unsigned short port() const;     // of http_addr
  std::size_t io_threads() const;  // threads, or the core count
};

// "host:port" (or "[v6]:port") → host and port.
struct Address {
  std::string host;
  unsigned short port = 0;
};
core::Result<Address> split_address(const std::string& address);

// Which subcommands an option belongs to (for flags and --help).
enum Use : unsigned {
  kServe = 1,
  kWorker = 2,
  kMigrate = 4,
  kLoadtest = 8,
  kDlq = 16,
  kMaintenance = 32,
  kAll = kServe | kWorker | kMigrate | kLoadtest | kDlq | kMaintenance,
};

// Binds options to CLI11 subcommands and resolves the final Settings.
class Options {
 public:
  Options();
  ~Options();
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;

  // Adds --config and the flags of every option whose Use intersects `use`.
  void add_to(CLI::App& command, unsigned use);

  // After CLI11 parsed: defaults, then the config file (--config, LOGPIPE_CONFIG, or
  // ./logpipe.toml when present), then the environment, then the flags given. One clear error
  // for an invalid value, an unknown config key or an unreadable config file.
  core::Result<Settings> resolve() const;

 private:
  struct Flags;
  Flags* flags_;
};

}  // namespace logpipe::config
