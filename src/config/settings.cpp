#include "config/settings.hpp"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <thread>

namespace logpipe::config {
namespace {

using core::Errc;

struct Spec {
  const char* name;  // TOML key; the flag is --name with '_' → '-'; env LOGPIPE_NAME
  const char* default_value;
  const char* help;
  unsigned use;
  std::function<core::Status(Settings&, const std::string&)> set;
};

core::Status parse_size(const std::string& text, std::size_t min, std::size_t max,
                        std::size_t& out) {
  std::size_t value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size())
    return core::make_error(Errc::invalid_argument, fmt::format("\"{}\" is not a number", text));
  if (value < min || value > max)
    return core::make_error(Errc::invalid_argument,
                            fmt::format("{} is out of range [{}, {}]", value, min, max));
  out = value;
  return {};
}

auto size_setter(std::size_t Settings::*field, std::size_t min, std::size_t max) {
  return [=](Settings& s, const std::string& v) { return parse_size(v, min, max, s.*field); };
}

// "30s", "500ms", "2m", "1h", or a plain number of seconds → milliseconds in [min, max].
auto duration_setter(std::size_t Settings::*field, std::size_t min_ms, std::size_t max_ms) {
  return [=](Settings& s, const std::string& v) -> core::Status {
    std::size_t number = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), number);
    const std::string_view unit(p, static_cast<std::size_t>(v.data() + v.size() - p));
    std::size_t ms = 0;
    if (ec == std::errc() && (unit == "ms"))
      ms = number;
    else if (ec == std::errc() && (unit == "s" || unit.empty()))
      ms = number * 1000;
    else if (ec == std::errc() && unit == "m")
      ms = number * 60'000;
    else if (ec == std::errc() && unit == "h")
      ms = number * 3'600'000;
    else
      return core::make_error(Errc::invalid_argument,
                              fmt::format("\"{}\" is not a duration (e.g. 30s, 500ms, 2m, 1h)", v));
    if (ms < min_ms || ms > max_ms)
      return core::make_error(Errc::invalid_argument,
                              fmt::format("{} ms is out of range [{}, {}] ms", ms, min_ms, max_ms));
    s.*field = ms;
    return {};
  };
}

auto text_setter(std::string Settings::*field, bool allow_empty = false) {
  return [=](Settings& s, const std::string& v) -> core::Status {
    if (v.empty() && !allow_empty)
      return core::make_error(Errc::invalid_argument, "must not be empty");
    s.*field = v;
    return {};
  };
}

auto bool_setter(bool Settings::*field) {
  return [=](Settings& s, const std::string& v) -> core::Status {
    if (v != "true" && v != "false")
      return core::make_error(Errc::invalid_argument, "must be true or false");
    s.*field = v == "true";
    return {};
  };
}

// A path of literal segments ("/es", "/compat/es"): where a protocol's endpoints are mounted.
core::Status set_prefix(std::string& out, const std::string& v) {
  std::string prefix = v;
  while (prefix.size() > 1 && prefix.back() == '/')
    prefix.pop_back();
  if (prefix.size() < 2 || prefix.front() != '/' ||
      prefix.find_first_of("{}?#% \t") != std::string::npos ||
      prefix.find("//") != std::string::npos)
    return core::make_error(Errc::invalid_argument,
                            "must be a path like /es (literal segments, not /)");
  out = prefix;
  return {};
}

core::Status split_host_port(const std::string& addr, std::string& host, unsigned short& port) {
  const auto colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return core::make_error(Errc::invalid_argument,
                            fmt::format("\"{}\" is not host:port (e.g. 127.0.0.1:8080)", addr));
  std::size_t p = 0;
  if (auto s = parse_size(addr.substr(colon + 1), 0, 65535, p); !s)
    return core::make_error(Errc::invalid_argument, fmt::format("bad port in \"{}\"", addr));
  host = addr.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  port = static_cast<unsigned short>(p);
  return {};
}

// "" (off) or host:port.
auto optional_address_setter(std::string Settings::*field) {
  return [=](Settings& s, const std::string& v) -> core::Status {
    if (!v.empty()) {
      if (auto a = split_address(v); !a) return a.error();
    }
    s.*field = v;
    return {};
  };
}

// "" (none), "*" (any), or a comma-separated list of origins as browsers send them:
// scheme://host[:port], no path.
core::Status set_origins(std::vector<std::string>& out, const std::string& v) {
  std::vector<std::string> origins;
  std::size_t start = 0;
  while (start <= v.size()) {
    const auto comma = std::min(v.find(',', start), v.size());
    std::string origin = v.substr(start, comma - start);
    start = comma + 1;
    const auto first = origin.find_first_not_of(" \t");
    if (first == std::string::npos) continue;
    origin = origin.substr(first, origin.find_last_not_of(" \t") - first + 1);
    if (origin != "*") {
      const auto scheme_end = origin.find("://");
      const std::string scheme = origin.substr(0, scheme_end);
      const bool ok = scheme_end != std::string::npos && (scheme == "http" || scheme == "https") &&
                      origin.size() > scheme_end + 3 &&
                      origin.find_first_of("/?#* \t", scheme_end + 3) == std::string::npos;
      if (!ok)
        return core::make_error(
            Errc::invalid_argument,
            fmt::format("\"{}\" is not an origin like https://ui.example or http://localhost:3000 "
                        "(or * for any)",
                        origin));
    }
    origins.push_back(std::move(origin));
  }
  out = std::move(origins);
  return {};
}

const std::vector<Spec>& specs() {
  static const std::vector<Spec> table = {
      {"http_addr", "127.0.0.1:8080",
       "HTTP address host:port (serve listens on it, loadtest sends to it)", kServe | kLoadtest,
       [](Settings& s, const std::string& v) -> core::Status {
         std::string host;
         unsigned short port;
         if (auto r = split_host_port(v, host, port); !r) return r;
         s.http_addr = v;
         return {};
       }},
      {"redis_url", "redis://127.0.0.1:6379/0", "Redis URL redis://[:password@]host:port/db",
       kServe | kWorker | kDlq, text_setter(&Settings::redis_url)},
      {"database_url", "postgresql://logpipe@127.0.0.1:5432/logpipe", "PostgreSQL libpq URI", kAll,
       text_setter(&Settings::database_url)},
      {"stream", "logs:stream", "Redis stream that queues log batches", kServe | kWorker | kDlq,
       text_setter(&Settings::stream)},
      {"group", "log_workers", "Redis consumer group of the workers", kServe | kWorker,
       text_setter(&Settings::group)},
      {"consumer", "",
       "consumer name in the group, -<i> appended with several workers (default: a stable "
       "<hostname>-<i> per consumer, leased in Redis, so a restart resumes its pending entries)",
       kWorker, text_setter(&Settings::consumer, true)},
      {"batch_size", "10000", "records per PostgreSQL transaction (1-100000)", kWorker,
       size_setter(&Settings::batch_size, 1, 100000)},
      {"max_wait_ms", "200", "longest wait to fill a batch, in ms (1-60000)", kWorker,
       size_setter(&Settings::max_wait_ms, 1, 60000)},
      {"workers", "2",
       "parallel consumers, each with its own PostgreSQL connection (1-64); 2 lets one batch's "
       "COPY overlap the next",
       kWorker, size_setter(&Settings::workers, 1, 64)},
      {"claim_idle", "30s",
       "take over entries left pending this long by a dead consumer (e.g. 30s, 500ms)", kWorker,
       duration_setter(&Settings::claim_idle_ms, 100, 86'400'000)},
      {"max_retries", "5",
       "tries of a batch PostgreSQL rejects for its data before the records at fault go to the "
       "dead-letter stream (1-100)",
       kWorker, size_setter(&Settings::max_retries, 1, 100)},
      {"metrics_addr", "",
       "worker: serve /metrics and /health/ready on this host:port (empty: not served)", kWorker,
       [](Settings& s, const std::string& v) -> core::Status {
         if (!v.empty()) {
           if (auto a = split_address(v); !a) return a.error();
         }
         s.metrics_addr = v;
         return {};
       }},
      {"fallback", "db",
       "while Redis is down: db = store ingest in PostgreSQL directly, off = answer 503", kServe,
       [](Settings& s, const std::string& v) -> core::Status {
         if (v != "db" && v != "off")
           return core::make_error(Errc::invalid_argument, "must be db or off");
         s.fallback = v;
         return {};
       }},
      {"max_backlog", "100000",
       "entries in the stream not yet stored above which ingest answers 429 (0: no limit)", kServe,
       size_setter(&Settings::max_backlog, 0, std::size_t{1} << 40)},
      {"max_backlog_bytes", "1073741824",
       "Redis memory of the stream (sampled MEMORY USAGE) above which ingest answers 429 "
       "(0: no limit); whichever of max_backlog and this trips first",
       kServe, size_setter(&Settings::max_backlog_bytes, 0, std::size_t{1} << 50)},
      {"max_connections", "10000",
       "open HTTP/WebSocket connections; at the cap the oldest idle one is closed for a new one "
       "(lowered to fit the open-files limit)",
       kServe, size_setter(&Settings::max_connections, 16, std::size_t{1} << 24)},
      {"max_connections_per_ip", "1000",
       "open HTTP/WebSocket connections from one client address; beyond, new ones are refused "
       "(0: no limit; trusted_proxies are not limited)",
       kServe, size_setter(&Settings::max_connections_per_ip, 0, std::size_t{1} << 24)},
      {"trusted_proxies", "",
       "reverse proxies (addresses and CIDR networks, comma-separated, e.g. "
       "127.0.0.1,10.0.0.0/8,::1) whose X-Forwarded-For names the client for per-address limits "
       "and the audit log; they are not held to max_connections_per_ip; empty: trust none, the "
       "header is ignored",
       kServe, text_setter(&Settings::trusted_proxies, true)},
      {"tail_max_subscribers", "1000",
       "live tail subscribers (GET /api/v1/tail, /ws/logs) this instance serves at once; beyond, "
       "503",
       kServe, size_setter(&Settings::tail_max_subscribers, 1, 1'000'000)},
      {"tail_queue_messages", "1000",
       "messages a live tail subscriber may have waiting to be sent; beyond, its records are "
       "dropped and it is told how many (16-1024)",
       kServe, size_setter(&Settings::tail_queue_messages, 16, 1024)},
      {"tail_max_lifetime", "1h",
       "how long a live tail connection lasts before the server closes it (clients reconnect; SSE "
       "is told to after 1 s)",
       kServe, duration_setter(&Settings::tail_max_lifetime_ms, 1000, 86'400'000)},
      {"tail_ping_interval", "15s",
       "a Server-Sent Events tail's keep-alive comment after this long without a message "
       "(WebSocket: pings while the client is silent, Beast's timeouts)",
       kServe, duration_setter(&Settings::tail_ping_interval_ms, 1000, 3'600'000)},
      {"max_header_bytes", "65536",
       "largest request line and header of an HTTP request; beyond, 431 and close "
       "(1024-1048576)",
       kServe, size_setter(&Settings::max_header_bytes, 1024, std::size_t{1} << 20)},
      {"max_header_count", "100", "most header fields of an HTTP request; beyond, 431 and close",
       kServe, size_setter(&Settings::max_header_count, 8, 10'000)},
      {"header_timeout", "10s",
       "time for a request's header, from a new connection (after TLS) or a later request's "
       "first byte; beyond, 408 and close (slow clients)",
       kServe, duration_setter(&Settings::header_timeout_ms, 100, 600'000)},
      {"body_timeout", "60s",
       "time for a request's body once its header is in; beyond, 408 and close", kServe,
       duration_setter(&Settings::body_timeout_ms, 100, 3'600'000)},
      {"min_body_rate", "1024",
       "bytes per second a request body must average after its first 3 s; slower, 408 and "
       "close (0: no minimum)",
       kServe, size_setter(&Settings::min_body_rate, 0, std::size_t{1} << 30)},
      {"idle_timeout", "60s", "close a keep-alive HTTP connection idle this long between requests",
       kServe, duration_setter(&Settings::idle_timeout_ms, 100, 3'600'000)},
      {"tls_cert", "",
       "PEM certificate (chain): with tls_key, serve speaks HTTPS only (TLS 1.2+) on http_addr; "
       "reloaded on SIGHUP",
       kServe, text_setter(&Settings::tls_cert, true)},
      {"tls_key", "", "PEM private key of tls_cert", kServe, text_setter(&Settings::tls_key, true)},
      {"cors_origins", "",
       "origins whose web pages may call the API (CORS), comma-separated, e.g. "
       "https://ui.example; * for any; empty: none",
       kServe, [](Settings& s, const std::string& v) { return set_origins(s.cors_origins, v); }},
      {"threads", "0", "HTTP io threads (0: one per core)", kServe,
       size_setter(&Settings::threads, 0, 256)},
      {"max_body_bytes", "10485760", "largest accepted request body in bytes", kServe,
       size_setter(&Settings::max_body_bytes, 1024, std::size_t{1} << 30)},
      {"max_decoded_bytes", "67108864",
       "largest body once its Content-Encoding (gzip, deflate, zstd) is undone; decoding stops "
       "there with 413",
       kServe, size_setter(&Settings::max_decoded_bytes, 1024, std::size_t{1} << 32)},
      {"max_records_per_request", "10000",
       "most records one ingest request may carry (413 beyond): /api/v1/ingest and the seed "
       "endpoints (/api/logs/batch at most 1000); the shippers' protocols (Elasticsearch bulk, "
       "HEC, Loki, OTLP, raw lines) ten times as many",
       kServe, size_setter(&Settings::max_records_per_request, 1, 1'000'000)},
      {"max_json_depth", "64", "deepest JSON nesting of an ingested body (400 beyond)", kServe,
       size_setter(&Settings::max_json_depth, 2, 1024)},
      {"max_message_bytes", "262144",
       "longest message of an ingested record: a JSON record's is refused beyond (422), a log "
       "line's cut at a character boundary (attrs.truncated_from says how long it was)",
       kServe, size_setter(&Settings::max_message_bytes, 64, std::size_t{16} << 20)},
      {"max_name_bytes", "256",
       "longest device_id, service, app and host of an ingested record (422 beyond)", kServe,
       size_setter(&Settings::max_name_bytes, 16, 4096)},
      {"es_prefix", "/es",
       "path under which the Elasticsearch-compatible API (_bulk, the version probe) is served",
       kServe, [](Settings& s, const std::string& v) { return set_prefix(s.es_prefix, v); }},
      {"es_at_root", "false",
       "also serve the Elasticsearch-compatible API at the root (/_bulk; GET / then answers "
       "Elasticsearch's version probe as well as listing logpipe's endpoints)",
       kServe, bool_setter(&Settings::es_at_root)},
      {"db_pool_size", "4", "PostgreSQL connections for queries (1-64)", kServe,
       size_setter(&Settings::db_pool_size, 1, 64)},
      {"key_requests_per_second", "0",
       "requests per second of an API key whose own limit is not set, with a burst of one "
       "second's worth; beyond, 429 with Retry-After (0: no limit)",
       kServe, size_setter(&Settings::key_requests_per_second, 0, 100'000'000)},
      {"key_logs_per_second", "0",
       "logs per second of an API key whose own limit is not set, with a burst of one second's "
       "worth (a bigger request passes on a full bucket and later ones wait it out); 0: no limit",
       kServe, size_setter(&Settings::key_logs_per_second, 0, 100'000'000)},
      {"ip_requests_per_second", "0",
       "requests per second of each client address for requests without an API key (an IPv6 "
       "client by its /64), /health/live excepted; 0: off",
       kServe, size_setter(&Settings::ip_requests_per_second, 0, 100'000'000)},
      {"ip_auth_failures_per_second", "10",
       "failed authentications (401) per second of each client address, with a burst of ten "
       "seconds' worth; beyond, 429 with Retry-After until it refills (auth = \"keys\"; 0: off)",
       kServe, size_setter(&Settings::ip_auth_failures_per_second, 0, 100'000'000)},
      {"retention_days", "30",
       "days of logs kept: older daily partitions are dropped whole by maintenance (0: keep all)",
       kWorker | kMaintenance, size_setter(&Settings::retention_days, 0, 36500)},
      {"archive_dir", "",
       "before dropping a partition, write it to <dir>/logs_YYYYMMDD.ndjson.zst (readable by "
       "logpipe import); empty: no archive",
       kWorker | kMaintenance, text_setter(&Settings::archive_dir, true)},
      {"partitions_ahead", "3", "daily partitions created ahead of today (1-90)",
       kWorker | kMaintenance, size_setter(&Settings::partitions_ahead, 1, 90)},
      {"maintenance_interval", "10m",
       "how often the worker runs storage maintenance (partitions, retention, search index); "
       "0 turns it off (then run logpipe maintenance from a timer)",
       kWorker, duration_setter(&Settings::maintenance_interval_ms, 0, 86'400'000)},
      {"device_cache_ttl", "5m",
       "how long GET /api/logs/{device_id} answers stay in the Redis cache (dropped at once when "
       "the device's new logs are stored); 0 turns the cache off",
       kServe, duration_setter(&Settings::device_cache_ttl_ms, 0, 86'400'000)},
      {"syslog_tcp_addr", "",
       "syslog over TCP (RFC 6587: octet counting or newline framing) on this host:port; "
       "empty: off",
       kServe, optional_address_setter(&Settings::syslog_tcp_addr)},
      {"syslog_udp_addr", "", "syslog over UDP on this host:port; empty: off", kServe,
       optional_address_setter(&Settings::syslog_udp_addr)},
      {"syslog_tls_addr", "",
       "syslog over TLS 1.2+ (RFC 5425) on this host:port, with syslog_tls_cert and "
       "syslog_tls_key; empty: off",
       kServe, optional_address_setter(&Settings::syslog_tls_addr)},
      {"syslog_tls_cert", "",
       "PEM certificate (chain) of the syslog TLS listener; reloaded on SIGHUP", kServe,
       text_setter(&Settings::syslog_tls_cert, true)},
      {"syslog_tls_key", "", "PEM private key of the syslog TLS listener", kServe,
       text_setter(&Settings::syslog_tls_key, true)},
      {"syslog_tls_client_ca", "",
       "PEM CA certificate(s) of syslog TLS clients: set, every client must present a "
       "certificate they issued, and its subject's CN names the tenant of its records (instead "
       "of syslog_tenant); reloaded on SIGHUP; empty: no client certificate asked for",
       kServe, text_setter(&Settings::syslog_tls_client_ca, true)},
      {"syslog_max_message_bytes", "65536",
       "largest syslog message; a longer frame or datagram is skipped and counted "
       "(480-16777216)",
       kServe, size_setter(&Settings::syslog_max_message_bytes, 480, std::size_t{16} << 20)},
      {"syslog_max_connections", "1000",
       "open syslog TCP/TLS connections; beyond, new ones are refused (1-1000000)", kServe,
       size_setter(&Settings::syslog_max_connections, 1, 1'000'000)},
      {"syslog_idle_timeout", "10m",
       "close a syslog TCP/TLS connection that sent nothing for this long (senders reconnect)",
       kServe, duration_setter(&Settings::syslog_idle_timeout_ms, 100, 86'400'000)},
      {"gelf_udp_addr", "",
       "GELF over UDP (chunked, zlib or gzip, as Graylog takes it) on this host:port; empty: off",
       kServe, optional_address_setter(&Settings::gelf_udp_addr)},
      {"gelf_tcp_addr", "",
       "GELF over TCP (one JSON message per NUL-terminated frame) on this host:port; empty: off",
       kServe, optional_address_setter(&Settings::gelf_tcp_addr)},
      {"gelf_max_message_bytes", "262144",
       "largest GELF short_message/full_message, and bound of a decompressed message (with 64 "
       "KiB for its other fields); a longer one is skipped and counted (480-16777216)",
       kServe, size_setter(&Settings::gelf_max_message_bytes, 480, std::size_t{16} << 20)},
      {"auth", "keys",
       "keys: every request but GET /health/live needs an API key (logpipe keys create); "
       "none: no keys, everything acts for the tenant default (make run's choice; only for a "
       "machine nobody else reaches)",
       kServe,
       [](Settings& s, const std::string& v) -> core::Status {
         if (v != "keys" && v != "none")
           return core::make_error(Errc::invalid_argument, "must be keys or none");
         s.auth = v;
         return {};
       }},
      {"auth_refresh", "5s",
       "how often serve reloads the API keys from PostgreSQL: a key created or revoked through "
       "another instance (or the CLI) takes effect within this",
       kServe, duration_setter(&Settings::auth_refresh_ms, 100, 3'600'000)},
      {"metrics_auth", "keys",
       "keys: GET /metrics needs a key (any scope) when auth = keys; none: open, for a "
       "Prometheus without credentials",
       kServe,
       [](Settings& s, const std::string& v) -> core::Status {
         if (v != "keys" && v != "none")
           return core::make_error(Errc::invalid_argument, "must be keys or none");
         s.metrics_auth = v;
         return {};
       }},
      {"alerts", "true",
       "evaluate the alert rules: every serve counts the live tail's records for them, and the one "
       "holding a PostgreSQL advisory lock fires and resolves alerts and sends the notifications",
       kServe, bool_setter(&Settings::alerts)},
      {"alert_interval", "2s", "how often the evaluating serve judges the alert rules", kServe,
       duration_setter(&Settings::alert_interval_ms, 100, 60'000)},
      {"alert_resend_interval", "1m",
       "how often a firing alert is sent again to its Alertmanager targets (Alertmanager resolves "
       "an alert it has not heard of for its resolve_timeout, 5 m by default)",
       kServe, duration_setter(&Settings::alert_resend_interval_ms, 1'000, 3'600'000)},
      {"public_url", "",
       "where people reach this service (https://logs.example.com): alert notifications link to "
       "the matching logs under it; empty: no link",
       kServe,
       [](Settings& s, const std::string& v) -> core::Status {
         if (!v.empty() && !v.starts_with("http://") && !v.starts_with("https://"))
           return core::make_error(Errc::invalid_argument, "must start with http:// or https://");
         s.public_url = v;
         while (s.public_url.ends_with('/'))
           s.public_url.pop_back();
         return {};
       }},
      {"alert_notify_attempts", "5",
       "attempts to deliver an alert notification to one target, the first included (1-20); "
       "network errors, timeouts, 5xx and 429 are tried again, other answers are not",
       kServe, size_setter(&Settings::alert_notify_attempts, 1, 20)},
      {"alert_notify_retry_delay", "1s",
       "wait before an alert notification's second attempt, doubled before each next one (1, 2, "
       "4, 8 s …, at most 1m; a longer Retry-After of the receiver is honoured up to 1m)",
       kServe, duration_setter(&Settings::alert_notify_retry_delay_ms, 10, 60'000)},
      {"alert_notify_timeout", "10s",
       "each step of an alert notification's attempt (connect, TLS, send, the answer) must end "
       "within this",
       kServe, duration_setter(&Settings::alert_notify_timeout_ms, 100, 300'000)},
      {"alert_notify_queue", "1000",
       "alert notification deliveries (one notification to one target) queued or under way; a "
       "notification beyond is dropped and counted (alert_notifications_dropped_total)",
       kServe, size_setter(&Settings::alert_notify_queue, 1, 1'000'000)},
      {"syslog_tenant", "default",
       "the tenant the syslog listeners' records are stored under (on TLS with "
       "syslog_tls_client_ca: the client certificate's CN instead)",
       kServe, text_setter(&Settings::syslog_tenant)},
      {"gelf_tenant", "default", "the tenant the GELF listeners' records are stored under", kServe,
       text_setter(&Settings::gelf_tenant)},
      {"log_level", "info", "debug|info|warn|error", kAll,
       [](Settings& s, const std::string& v) -> core::Status {
         if (v != "debug" && v != "info" && v != "warn" && v != "error")
           return core::make_error(Errc::invalid_argument, "must be debug, info, warn or error");
         s.log_level = v;
         return {};
       }},
  };
  return table;
}

std::string flag_of(const Spec& spec) {
  std::string flag = spec.name;
  for (auto& c : flag) {
    if (c == '_') c = '-';
  }
  return flag;
}

std::string env_of(const Spec& spec) {
  std::string env = "LOGPIPE_";
  for (const char* c = spec.name; *c; ++c)
    env.push_back(static_cast<char>(std::toupper(*c)));
  return env;
}

core::Status apply(Settings& s, const Spec& spec, const std::string& value,
                   std::string_view origin) {
  if (auto r = spec.set(s, value); !r) {
    return core::make_error(
        Errc::invalid_argument,
        fmt::format("invalid {} \"{}\" ({}): {}", spec.name, value, origin, r.error().message));
  }
  return {};
}

core::Result<std::string> toml_value(const toml::node& node) {
  if (auto v = node.value<std::string>()) return *v;
  // Before the integer: toml++ would read true as 1.
  if (node.is_boolean()) return std::string(*node.value<bool>() ? "true" : "false");
  if (auto v = node.value<std::int64_t>()) return std::to_string(*v);
  return core::make_error(Errc::invalid_argument, "must be a string, an integer or a boolean");
}

// [patterns.<name>] regex = '…' ts_format = "…": shape only (strings, known keys, a regex).
core::Status apply_patterns(Settings& s, const toml::node& node, const std::string& path) {
  const auto bad = [&](std::string message) {
    return core::make_error(Errc::invalid_argument,
                            fmt::format("config file {}: {}", path, std::move(message)));
  };
  const auto* table = node.as_table();
  if (table == nullptr) return bad("patterns must be a table: [patterns.<name>]");
  for (const auto& [name, entry] : *table) {
    const auto* fields = entry.as_table();
    if (fields == nullptr)
      return bad(
          fmt::format("pattern \"{}\" must be a table with regex (and ts_format)", name.str()));
    Pattern pattern;
    pattern.name = name.str();
    for (const auto& [field, value] : *fields) {
      const auto text = value.value<std::string>();
      if (!text)
        return bad(fmt::format("pattern \"{}\": {} must be a string", name.str(), field.str()));
      if (field.str() == "regex") {
        pattern.regex = *text;
      } else if (field.str() == "ts_format") {
        pattern.ts_format = *text;
      } else {
        return bad(fmt::format("pattern \"{}\": unknown key \"{}\" (regex, ts_format)", name.str(),
                               field.str()));
      }
    }
    if (pattern.regex.empty())
      return bad(fmt::format("pattern \"{}\": regex is required", name.str()));
    s.patterns.push_back(std::move(pattern));
  }
  return {};
}

core::Status apply_file(Settings& s, const std::string& path) {
  // Debian's toml++ is built with exceptions; keep them inside this function.
  toml::table parsed;
  try {
    parsed = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    return core::make_error(Errc::invalid_argument,
                            fmt::format("config file {}:{}:{}: {}", path, err.source().begin.line,
                                        err.source().begin.column, err.description()));
  }
  for (const auto& [key, node] : parsed) {
    if (key.str() == "patterns") {
      if (auto r = apply_patterns(s, node, path); !r) return r;
      continue;
    }
    const Spec* spec = nullptr;
    for (const auto& candidate : specs()) {
      if (key.str() == candidate.name) spec = &candidate;
    }
    if (spec == nullptr)
      return core::make_error(Errc::invalid_argument,
                              fmt::format("config file {}: unknown key \"{}\"", path, key.str()));
    auto value = toml_value(node);
    if (!value)
      return core::make_error(
          Errc::invalid_argument,
          fmt::format("config file {}: {} {}", path, key.str(), value.error().message));
    if (auto r = apply(s, *spec, *value, "config file " + path); !r) return r;
  }
  return {};
}

}  // namespace

core::Result<Address> split_address(const std::string& address) {
  Address a;
  if (auto r = split_host_port(address, a.host, a.port); !r) return r.error();
  return a;
}

std::string Settings::host() const {
  std::string h;
  unsigned short p = 0;
  (void)split_host_port(http_addr, h, p);
  return h;
}

unsigned short Settings::port() const {
  std::string h;
  unsigned short p = 0;
  (void)split_host_port(http_addr, h, p);
  return p;
}

std::size_t Settings::io_threads() const {
  return threads ? threads : std::max(1u, std::thread::hardware_concurrency());
}

struct Options::Flags {
  std::string config_file;
  std::vector<CLI::Option*> config_options;
  std::map<std::string, std::string> values;  // by spec name
  std::map<std::string, std::vector<CLI::Option*>> options;
};

Options::Options() : flags_(new Flags) {}
Options::~Options() {
  delete flags_;
}

void Options::add_to(CLI::App& command, unsigned use) {
  flags_->config_options.push_back(
      command.add_option("--config", flags_->config_file,
                         "config file (env LOGPIPE_CONFIG, default ./logpipe.toml when present)"));
  for (const auto& spec : specs()) {
    if ((spec.use & use) == 0) continue;
    const std::string help =
        fmt::format("{} (env {}, default \"{}\")", spec.help, env_of(spec), spec.default_value);
    auto* option = command.add_option("--" + flag_of(spec), flags_->values[spec.name], help);
    option->type_name("");
    flags_->options[spec.name].push_back(option);
  }
}

core::Result<Settings> Options::resolve() const {
  Settings s;
  for (const auto& spec : specs()) {
    if (auto r = apply(s, spec, spec.default_value, "default"); !r) return r.error();
  }

  std::string file = flags_->config_file;
  bool explicit_file = !file.empty();
  if (!explicit_file) {
    if (const char* env = std::getenv("LOGPIPE_CONFIG"); env && *env) {
      file = env;
      explicit_file = true;
    } else if (std::filesystem::exists("logpipe.toml")) {
      file = "logpipe.toml";
    }
  }
  if (!file.empty()) {
    if (explicit_file && !std::filesystem::exists(file))
      return core::make_error(Errc::invalid_argument,
                              fmt::format("config file {} not found", file));
    if (auto r = apply_file(s, file); !r) return r.error();
  }

  for (const auto& spec : specs()) {
    if (const char* env = std::getenv(env_of(spec).c_str()); env != nullptr) {
      if (auto r = apply(s, spec, env, "environment " + env_of(spec)); !r) return r.error();
    }
  }

  for (const auto& spec : specs()) {
    auto it = flags_->options.find(spec.name);
    if (it == flags_->options.end()) continue;
    for (auto* option : it->second) {
      if (option->count() == 0) continue;
      if (auto r = apply(s, spec, flags_->values.at(spec.name), "--" + flag_of(spec)); !r)
        return r.error();
    }
  }
  return s;
}

}  // namespace logpipe::config
