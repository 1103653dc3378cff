#include "app/commands.hpp"

#include <fmt/format.h>
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <ctime>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "alerts/evaluator.hpp"
#include "api/api.hpp"
#include "api/render.hpp"
#include "app/database.hpp"
#include "auth/authenticator.hpp"
#include "auth/tenant_cache.hpp"
#include "client/alerts.hpp"
#include "client/audit.hpp"
#include "client/tail.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "http/server.hpp"
#include "ingest/formats/pattern.hpp"
#include "intake/intake.hpp"
#include "listeners/listener.hpp"
#include "loadtest/loadtest.hpp"
#include "metrics/metrics.hpp"
#include "queue/async_client.hpp"
#include "queue/batch_codec.hpp"
#include "queue/dlq.hpp"
#include "queue/redis.hpp"
#include "queue/status.hpp"
#include "queue/stream_appender.hpp"
#include "queue/stream_consumer.hpp"
#include "store/archive.hpp"
#include "store/audit.hpp"
#include "store/connection.hpp"
#include "store/migrations.hpp"
#include "store/pool.hpp"
#include "tls/server_context.hpp"
#include "worker/maintenance_loop.hpp"
#include "worker/worker.hpp"

namespace logpipe::app {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

int fail(std::string_view message) {
  fmt::print(stderr, "logpipe: {}\n", message);
  return 1;
}

// SIGINT and SIGTERM stop; SIGHUP (serve only: `reload`) reloads the TLS certificates. A worker
// keeps SIGHUP's default.
sigset_t handled_signals(bool reload) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (reload) sigaddset(&set, SIGHUP);
  return set;
}

// The signals are blocked before any thread starts (threads inherit the mask) and taken by
// sigtimedwait in one thread, so shutdown and reloads run as ordinary code, not in a signal
// handler.
void block_signals(bool reload) {
  sigset_t set = handled_signals(reload);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

class SignalWaiter {
 public:
  explicit SignalWaiter(std::function<void(int)> on_signal, bool reload = false) {
    thread_ = std::jthread([on_signal = std::move(on_signal), reload](const std::stop_token& stop) {
      sigset_t set = handled_signals(reload);
      while (!stop.stop_requested()) {
        timespec timeout{0, 200'000'000};
        const int sig = sigtimedwait(&set, nullptr, &timeout);
        if (sig > 0) on_signal(sig);
      }
    });
  }

 private:
  std::jthread thread_;
};

void apply_log_level(const config::Settings& s) {
  core::log::set_min_level(s.log_level);
}

core::Result<queue::RedisEndpoint> redis_endpoint(const config::Settings& s) {
  return queue::parse_redis_url(s.redis_url);
}

core::Status schema_ready(const config::Settings& s) {
  auto db = open_database(s, std::chrono::seconds(3));
  if (!db) return db.error();
  auto schema = db->query("SELECT to_regclass('logs') IS NOT NULL");
  if (!schema) return schema.error();
  if (schema->get(0, 0) != "t")
    return core::make_error(core::Errc::unavailable,
                            "the database has no logpipe schema; run `logpipe migrate` first");
  return {};
}

// Start-up checks: both dependencies reachable, the consumer group present, the schema there.
core::Status check_dependencies(const config::Settings& s, const queue::RedisEndpoint& redis) {
  auto r = queue::SyncClient::connect(redis, 3000ms);
  if (!r) return r.error();
  if (auto g = queue::ensure_group(*r, s.stream, s.group); !g) return g;
  return schema_ready(s);
}

store::MaintenanceOptions maintenance_options(const config::Settings& s) {
  store::MaintenanceOptions o;
  o.days_ahead = static_cast<int>(s.partitions_ahead);
  o.retention_days = static_cast<int>(s.retention_days);
  o.archive_dir = s.archive_dir;
  return o;
}

worker::WorkerOptions worker_options(const config::Settings& s, queue::RedisEndpoint redis) {
  worker::WorkerOptions o;
  o.redis = std::move(redis);
  o.database_url = s.database_url;
  o.stream = s.stream;
  o.group = s.group;
  o.consumer = s.consumer;
  o.batch_size = s.batch_size;
  o.max_wait = std::chrono::milliseconds(s.max_wait_ms);
  o.claim_idle = std::chrono::milliseconds(s.claim_idle_ms);
  o.max_retries = s.max_retries;
  return o;
}

// `workers` consumers of one group in this process, each on its own thread with its own
// PostgreSQL connection, so that one batch's COPY runs while the next is read and encoded:
// PostgreSQL, not one backend, becomes the limit. An explicit consumer name gets "-<i>" when there
// are several; by default each consumer leases a stable "<hostname>-<i>" (queue::ConsumerSlot).
class Workers {
 public:
  Workers(const config::Settings& s, const queue::RedisEndpoint& redis, metrics::Metrics& metrics) {
    for (std::size_t i = 0; i < s.workers; ++i) {
      auto options = worker_options(s, redis);
      if (!options.consumer.empty() && s.workers > 1) options.consumer += fmt::format("-{}", i);
      workers_.push_back(std::make_unique<worker::Worker>(std::move(options), metrics));
    }
    if (s.maintenance_interval_ms > 0)
      maintenance_.emplace(s.database_url, maintenance_options(s),
                           std::chrono::milliseconds(s.maintenance_interval_ms), metrics);
  }
  core::Status connect() {
    for (auto& w : workers_) {
      if (auto ok = w->connect(); !ok) return ok;
    }
    return {};
  }
  void start() {
    for (auto& w : workers_)
      threads_.emplace_back([&w = *w](const std::stop_token& stop) { w.run(stop); });
    if (maintenance_) maintenance_->start();
  }
  void request_stop() {
    for (auto& t : threads_)
      t.request_stop();
    if (maintenance_) maintenance_->request_stop();
  }
  std::size_t degraded() const {
    std::size_t n = 0;
    for (const auto& w : workers_)
      n += w->degraded() ? 1 : 0;
    return n;
  }
  // Returns once every worker has stored and acknowledged its in-flight batch.
  void join() {
    request_stop();
    threads_.clear();
    maintenance_.reset();
  }

 private:
  std::vector<std::unique_ptr<worker::Worker>> workers_;
  std::vector<std::jthread> threads_;
  std::optional<worker::MaintenanceLoop> maintenance_;
};

// What every long-running command does first: signals, log level, and both dependencies
// checked, so that start-up fails with one line instead of later with many.
core::Result<queue::RedisEndpoint> start_up(const config::Settings& s, bool reload = false) {
  block_signals(reload);
  apply_log_level(s);
  auto redis = redis_endpoint(s);
  if (!redis) return redis.error();
  if (auto ok = check_dependencies(s, *redis); !ok) return ok.error();
  return redis;
}

// Each connection is a file descriptor: the cap stays below the process's limit (raised to the
// hard limit first), leaving room for Redis, PostgreSQL and log files.
std::size_t connection_cap(std::size_t configured) {
  constexpr std::size_t kReservedDescriptors = 128;
  const std::size_t limit = http::raise_open_files_limit();
  const std::size_t room =
      limit > 2 * kReservedDescriptors ? limit - kReservedDescriptors : limit / 2;
  if (configured > room)
    core::log::warn("max_connections lowered to fit the open-files limit",
                    {{"max_connections", std::to_string(configured)},
                     {"open_files_limit", std::to_string(limit)},
                     {"now", std::to_string(room)}});
  return std::min(configured, room);
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || host == "localhost" || host.rfind("127.", 0) == 0;
}

// What a listener's records are stored as: the tenant of that name, with the ingest scope.
core::Result<model::Principal> listener_principal(store::Pool& pool, const std::string& tenant) {
  auto found = pool.with([&](store::Connection& c) { return auth::find_tenant(c, tenant); });
  if (!found) return found.error();
  return auth::ingest_principal(*found);
}

// The certificates serve reloads on SIGHUP, by the listener they serve (the metrics' label).
using Certificates = std::vector<std::pair<std::string, std::shared_ptr<tls::ServerContext>>>;

void log_certificate(core::log::Level level, std::string_view message, std::string_view listener,
                     const tls::CertificateInfo& info) {
  core::log::write(level, message,
                   {{"listener", std::string(listener)},
                    {"subject", info.subject},
                    {"sha256", info.fingerprint},
                    {"not_after", core::format_rfc3339(info.not_after * 1'000'000)}});
  if (!info.client_cas.empty())
    core::log::write(level, "TLS client certificates required, of these CAs",
                     {{"listener", std::string(listener)}, {"client_cas", info.client_cas}});
}

void report_certificate(metrics::Metrics& metrics, std::string_view listener,
                        const tls::CertificateInfo& info) {
  metrics.tls_certificate_expiry(listener, static_cast<double>(info.not_after));
  if (info.not_after < std::time(nullptr))
    log_certificate(core::log::Level::warn, "the TLS certificate has expired", listener, info);
}

// SIGHUP: every certificate read again. New connections get a new one; open connections keep
// theirs; a certificate that fails to load (a file half-written, a key that does not match)
// leaves the previous one in use, with an error in the log and the metric.
void reload_certificates(const Certificates& certificates, metrics::Metrics& metrics) {
  if (certificates.empty()) {
    core::log::info("SIGHUP: no TLS certificate to reload");
    return;
  }
  for (const auto& [listener, context] : certificates) {
    const auto reloaded = context->reload();
    metrics.tls_reload(listener, reloaded.ok());
    if (!reloaded) {
      core::log::error("TLS certificate reload failed; the previous certificate stays in use",
                       {{"listener", listener}, {"error", reloaded.error().message}});
      continue;
    }
    log_certificate(core::log::Level::info, "TLS certificate reloaded", listener, *reloaded);
    report_certificate(metrics, listener, *reloaded);
  }
}

// Serves HTTP until a signal; with `with_worker`, also runs a worker thread in this process.
int serve_until_signal(const config::Settings& s, bool with_worker) {
  // The formats requests may name: the built-in ones and the configured patterns. A bad pattern
  // stops start-up, naming it.
  std::vector<ingest::PatternSpec> patterns;
  for (const auto& p : s.patterns)
    patterns.push_back({p.name, p.regex, p.ts_format});
  auto formats = ingest::formats_with_patterns(patterns);
  if (!formats) return fail(formats.error().message);
  // Reverse proxies whose X-Forwarded-For is believed: a bad entry stops start-up, naming it.
  auto trusted_proxies = http::parse_trusted_proxies(s.trusted_proxies);
  if (!trusted_proxies) return fail("trusted_proxies: " + trusted_proxies.error().message);
  // HTTPS: a certificate that cannot be loaded stops start-up, naming the file.
  if (s.tls_cert.empty() != s.tls_key.empty())
    return fail("tls_cert and tls_key go together: set both for HTTPS, or neither");
  std::shared_ptr<tls::ServerContext> https;
  if (!s.tls_cert.empty()) {
    auto loaded = tls::ServerContext::load(s.tls_cert, s.tls_key, "tls");
    if (!loaded) return fail(loaded.error().message);
    https = std::move(*loaded);
  }

  auto redis = start_up(s, true);
  if (!redis) return fail(redis.error().message);

  metrics::Metrics metrics;
  std::optional<Workers> workers;
  if (with_worker) {
    workers.emplace(s, *redis, metrics);
    if (auto ok = workers->connect(); !ok) return fail(ok.error().message);
  }

  asio::io_context io(static_cast<int>(s.io_threads()));
  queue::AsyncClient redis_client(io, *redis);
  store::Pool pool(s.database_url, s.db_pool_size);
  asio::thread_pool db_threads(s.db_pool_size);
  char hostname[256] = {};
  gethostname(hostname, sizeof hostname - 1);
  const std::string instance = fmt::format("{}-{}", hostname, getpid());
  queue::StreamAppender appender(redis_client, s.stream);
  intake::IntakeOptions intake_options;
  intake_options.stream = s.stream;
  intake_options.instance = instance;
  intake_options.fallback_to_db = s.fallback == "db";
  intake_options.max_backlog = s.max_backlog;
  intake_options.max_backlog_bytes = s.max_backlog_bytes;
  intake_options.key_logs_per_second = static_cast<std::uint32_t>(s.key_logs_per_second);
  intake::Intake intake(redis_client, appender, pool, db_threads, metrics, intake_options);
  if (auto ok = intake.load_quotas(); !ok)
    return fail("reading the tenants' quotas: " + ok.error().message);
  api::Context ctx(redis_client, intake, pool, db_threads, metrics);
  ctx.device_cache_ttl_seconds = (s.device_cache_ttl_ms + 999) / 1000;
  ctx.max_decoded_bytes = s.max_decoded_bytes;
  ctx.decode_limits.max_records = s.max_records_per_request;
  ctx.decode_limits.max_depth = s.max_json_depth;
  ctx.decode_limits.max_message_bytes = s.max_message_bytes;
  ctx.decode_limits.max_name_bytes = s.max_name_bytes;
  ctx.key_requests_per_second = static_cast<std::uint32_t>(s.key_requests_per_second);
  ctx.ip_requests_per_second = static_cast<std::uint32_t>(s.ip_requests_per_second);
  ctx.ip_auth_failures_per_second = static_cast<std::uint32_t>(s.ip_auth_failures_per_second);
  ctx.es_prefix = s.es_prefix;
  ctx.es_at_root = s.es_at_root;
  ctx.formats = formats->get();
  ctx.stream = s.stream;
  ctx.group = s.group;
  ctx.redis_endpoint = *redis;
  ctx.instance = instance;
  if (workers) ctx.degraded_workers = [&workers] { return workers->degraded(); };
  // The live tail: a group-less reader of the stream, idle until a subscriber comes. Its `q`
  // folds case as the database's ILIKE does (its LC_CTYPE).
  tail::HubOptions tail_options;
  tail_options.redis = *redis;
  tail_options.stream = s.stream;
  tail_options.max_subscribers = s.tail_max_subscribers;
  if (auto ctype = pool.with([](store::Connection& c) -> core::Result<std::string> {
        auto rows = c.query("SHOW lc_ctype");
        if (!rows) return rows.error();
        return std::string(rows->get(0, 0));
      })) {
    tail_options.folding = tail::case_folding_of(*ctype);
  } else {
    core::log::warn("live tail: the database's lc_ctype could not be read; q folds case as UTF-8",
                    {{"error", ctype.error().message}});
  }
  tail::Hub tail_hub(tail_options, api::tail_record_json, metrics);
  ctx.tail = &tail_hub;
  ctx.tail_queue_messages = s.tail_queue_messages;
  ctx.tail_ping_interval = std::chrono::milliseconds(s.tail_ping_interval_ms);
  ctx.tail_max_lifetime = std::chrono::milliseconds(s.tail_max_lifetime_ms);
  tail_hub.start();
  // Alerts: every instance counts from the tail; the one holding the lock judges and notifies.
  alerts::NotifierOptions notifier_options;
  notifier_options.retry.attempts = static_cast<int>(s.alert_notify_attempts);
  notifier_options.retry.first_delay = std::chrono::milliseconds(s.alert_notify_retry_delay_ms);
  notifier_options.timeout = std::chrono::milliseconds(s.alert_notify_timeout_ms);
  notifier_options.queue_limit = s.alert_notify_queue;
  alerts::Notifier notifier(notifier_options, metrics);
  alerts::EvaluatorOptions evaluator_options;
  evaluator_options.database_url = s.database_url;
  evaluator_options.interval = std::chrono::milliseconds(s.alert_interval_ms);
  evaluator_options.alertmanager_resend = std::chrono::milliseconds(s.alert_resend_interval_ms);
  evaluator_options.public_url = s.public_url;
  alerts::Evaluator evaluator(evaluator_options, tail_hub, notifier, api::tail_record_json,
                              metrics);
  if (s.alerts) evaluator.start();
  // API keys: loaded now (start-up fails when they cannot be), then every auth_refresh.
  std::optional<auth::Authenticator> authenticator;
  if (s.auth == "keys") {
    auto keys = pool.with([](store::Connection& c) { return auth::load_keys(c); });
    if (!keys) return fail("cannot load the API keys: " + keys.error().message);
    authenticator.emplace().replace(*keys);
    ctx.authenticator = &*authenticator;
    core::log::info("auth: API keys required", {{"keys", std::to_string(keys->size())}});
  } else if (is_loopback(s.host())) {
    core::log::warn("auth = none: no API keys; every request acts for the tenant default",
                    {{"addr", s.http_addr}});
  } else {
    core::log::warn(
        "AUTH IS OFF (auth = none) ON AN ADDRESS OTHER MACHINES CAN REACH: anyone who reaches it "
        "can read, write and delete every log. Set auth = keys and create keys with "
        "`logpipe keys create`.",
        {{"addr", s.http_addr}});
  }
  ctx.metrics_open = s.metrics_auth == "none";
  http::Router router;
  api::register_routes(router, ctx);
  router.allow_origins(s.cors_origins);
  http::ServerOptions options;
  options.host = s.host();
  options.port = s.port();
  options.max_body_bytes = s.max_body_bytes;
  options.max_header_bytes = s.max_header_bytes;
  options.max_header_count = s.max_header_count;
  options.header_timeout = std::chrono::milliseconds(s.header_timeout_ms);
  options.body_timeout = std::chrono::milliseconds(s.body_timeout_ms);
  options.min_body_rate = s.min_body_rate;
  options.idle_timeout = std::chrono::milliseconds(s.idle_timeout_ms);
  options.max_connections = connection_cap(s.max_connections);
  options.max_connections_per_ip = s.max_connections_per_ip;
  options.trusted_proxies = *trusted_proxies;
  options.tls = https;
  http::Server server(
      io, options, router,
      [&metrics](const http::RequestOutcome& o) {
        metrics.observe_request(http::bhttp::to_string(o.method), o.route, o.status, o.seconds,
                                o.request_bytes, o.response_bytes);
      },
      [&metrics](std::string_view event) { metrics.connection_event(event); });
  if (auto ok = server.listen(); !ok) return fail(ok.error().message);
  // The syslog and GELF listeners: other fronts of the same intake, each under its tenant.
  auto syslog_principal = listener_principal(pool, s.syslog_tenant);
  if (!syslog_principal) return fail("syslog_tenant: " + syslog_principal.error().message);
  auto gelf_principal = listener_principal(pool, s.gelf_tenant);
  if (!gelf_principal) return fail("gelf_tenant: " + gelf_principal.error().message);
  // Mutual TLS: the tenant a client certificate names, from PostgreSQL on the database threads
  // unless known already (auth::TenantCache).
  auth::TenantCache tenants([&pool](std::string_view name) {
    return pool.with([&](store::Connection& c) { return auth::find_tenant(c, name); });
  });
  const auto tenant_lookup = [&](std::string name,
                                 std::function<void(core::Result<model::Principal>)> done) {
    if (auto known = tenants.cached(name)) return done(std::move(*known));
    asio::post(db_threads, [&tenants, name = std::move(name), done = std::move(done),
                            token = ctx.in_flight.enter()] { done(tenants.lookup(name)); });
  };
  listeners::ListenerOptions syslog_options;
  syslog_options.protocol = listeners::Protocol::syslog;
  syslog_options.principal = *syslog_principal;
  syslog_options.tls_client_ca_file = s.syslog_tls_client_ca;
  syslog_options.tenant_lookup = tenant_lookup;
  if (!s.syslog_tls_client_ca.empty() && (!s.syslog_tcp_addr.empty() || !s.syslog_udp_addr.empty()))
    core::log::warn(
        "syslog_tls_client_ca identifies TLS clients only: the syslog TCP and UDP listeners "
        "store every record under syslog_tenant",
        {{"syslog_tenant", s.syslog_tenant}});
  syslog_options.tcp_addr = s.syslog_tcp_addr;
  syslog_options.udp_addr = s.syslog_udp_addr;
  syslog_options.tls_addr = s.syslog_tls_addr;
  syslog_options.tls_cert_file = s.syslog_tls_cert;
  syslog_options.tls_key_file = s.syslog_tls_key;
  syslog_options.max_message_bytes = s.syslog_max_message_bytes;
  syslog_options.max_connections = s.syslog_max_connections;
  syslog_options.idle_timeout = std::chrono::milliseconds(s.syslog_idle_timeout_ms);
  listeners::ListenerOptions gelf_options;
  gelf_options.protocol = listeners::Protocol::gelf;
  gelf_options.tcp_addr = s.gelf_tcp_addr;
  gelf_options.udp_addr = s.gelf_udp_addr;
  gelf_options.max_message_bytes = s.gelf_max_message_bytes;
  gelf_options.principal = *gelf_principal;
  std::array<listeners::Listener, 2> fronts{
      listeners::Listener(io, intake, metrics, syslog_options),
      listeners::Listener(io, intake, metrics, gelf_options)};
  for (auto& front : fronts) {
    if (auto ok = front.listen(); !ok) return fail(ok.error().message);
  }
  Certificates certificates;
  if (https) certificates.emplace_back("http", https);
  for (const auto& front : fronts) {
    if (auto context = front.tls_context())
      certificates.emplace_back(listeners::to_string(front.protocol()), std::move(context));
  }
  for (const auto& [listener, context] : certificates) {
    log_certificate(core::log::Level::info, "TLS certificate", listener, context->info());
    report_certificate(metrics, listener, context->info());
  }
  const auto fronts_active = [&fronts] {
    std::size_t n = 0;
    for (const auto& front : fronts)
      n += front.active();
    return n;
  };

  if (workers) workers->start();

  // Shutdown: stop accepting and let in-flight requests finish. Only when no connection is left
  // (none can start a new request) and no reply is pending is Redis closed, so that no XADD is
  // cut off after Redis stored it. The io_context then runs out of work. A second signal forces
  // the exit.
  // Backpressure: the stream's length, every 250 ms, until shutdown; the tenants' quotas: this
  // instance's usage into Redis and the others' back, every second.
  asio::steady_timer backlog_timer(io);
  std::atomic<bool> stopping{false};
  unsigned ticks = 0;
  std::function<void()> watch_backlog = [&] {
    if (stopping) return;
    intake.refresh_backlog();
    if (ticks++ % 4 == 0) intake.sync_quotas();
    backlog_timer.expires_after(250ms);
    backlog_timer.async_wait([&](boost::system::error_code ec) {
      if (!ec) watch_backlog();
    });
  };
  asio::post(io, watch_backlog);

  // Keys created or revoked through another instance or the command line.
  asio::steady_timer auth_timer(io);
  std::function<void()> refresh_keys = [&] {
    if (stopping || !authenticator) return;
    auth_timer.expires_after(std::chrono::milliseconds(s.auth_refresh_ms));
    auth_timer.async_wait([&](boost::system::error_code ec) {
      if (ec) return;
      asio::post(db_threads, [&, token = ctx.in_flight.enter()] {
        auto keys = pool.with([](store::Connection& c) { return auth::load_keys(c); });
        metrics.auth_keys_reload(keys.ok());
        if (keys) {
          authenticator->replace(*keys);
        } else {
          core::log::warn("auth: reloading the API keys failed; the last ones stay in use",
                          {{"error", keys.error().message}});
        }
        asio::post(io, refresh_keys);
      });
    });
  };
  asio::post(io, refresh_keys);

  asio::steady_timer drain(io);
  std::atomic<int> signals_seen{0};
  std::function<void()> wait_for_drain = [&] {
    if (server.connections() == 0 && fronts_active() == 0 && ctx.in_flight.count() == 0 &&
        intake.in_flight() == 0) {
      redis_client.close();
      return;
    }
    drain.expires_after(20ms);
    drain.async_wait([&](boost::system::error_code) { wait_for_drain(); });
  };
  SignalWaiter signals(
      [&](int sig) {
        if (sig == SIGHUP) return reload_certificates(certificates, metrics);
        if (signals_seen++ > 0) {
          core::log::warn("second signal: exiting now");
          io.stop();
          return;
        }
        core::log::info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
        server.shutdown();
        // Tail connections never end by themselves: closed here (the hub stops reading).
        tail_hub.stop();
        evaluator.stop();
        for (auto& front : fronts)
          front.shutdown();
        stopping = true;
        asio::post(io, [&] {
          backlog_timer.cancel();
          auth_timer.cancel();
        });
        if (workers) workers->request_stop();
        asio::post(io, wait_for_drain);
      },
      true);

  server.start();
  for (auto& front : fronts) {
    front.start();
    if (!front.enabled()) continue;
    const auto port = [](unsigned short p) {
      return p == 0 ? std::string("off") : std::to_string(p);
    };
    core::log::info(fmt::format("{} listeners", listeners::to_string(front.protocol())),
                    {{"tcp", port(front.tcp_port())},
                     {"udp", port(front.udp_port())},
                     {"tls", port(front.tls_port())}});
  }
  core::log::info(with_worker ? "logpipe run: serving and storing" : "logpipe serve: serving",
                  {{"addr", fmt::format("{}:{}", options.host, server.port())},
                   {"scheme", https ? "https" : "http"},
                   {"stream", s.stream},
                   {"threads", std::to_string(s.io_threads())}});
  std::vector<std::jthread> io_threads;
  for (std::size_t i = 1; i < s.io_threads(); ++i)
    io_threads.emplace_back([&io] { io.run(); });
  io.run();
  io_threads.clear();  // joins
  db_threads.join();
  if (workers) workers->join();
  core::log::info("stopped");
  return 0;
}

}  // namespace

int serve(const config::Settings& s) {
  return serve_until_signal(s, false);
}
int run(const config::Settings& s) {
  return serve_until_signal(s, true);
}

int worker(const config::Settings& s) {
  auto redis = start_up(s);
  if (!redis) return fail(redis.error().message);
  metrics::Metrics metrics;
  Workers workers(s, *redis, metrics);
  if (auto ok = workers.connect(); !ok) return fail(ok.error().message);

  // A worker has no API, but its metrics and breaker state must be reachable: with
  // metrics_addr, one io thread serves /metrics, /health/live and /health/ready (503 while a
  // consumer's circuit is open, i.e. PostgreSQL is unavailable to it).
  asio::io_context status_io(1);
  http::Router status_routes;
  std::optional<http::Server> status_server;
  std::jthread status_thread;
  if (!s.metrics_addr.empty()) {
    api::register_worker_status_routes(status_routes, metrics,
                                       [&workers] { return workers.degraded(); });
    auto address = config::split_address(s.metrics_addr);
    http::ServerOptions options;
    options.host = address->host;
    options.port = address->port;
    status_server.emplace(status_io, options, status_routes);
    if (auto ok = status_server->listen(); !ok) return fail(ok.error().message);
    status_server->start();
    status_thread = std::jthread([&status_io] { status_io.run(); });
  }

  std::promise<void> stop;
  std::once_flag stop_once;
  SignalWaiter signals([&](int sig) {
    core::log::info("finishing the current batch, then stopping",
                    {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
    std::call_once(stop_once, [&] { stop.set_value(); });
  });
  workers.start();
  stop.get_future().wait();
  workers.join();
  if (status_server) status_server->shutdown();  // status_thread's io_context then runs out
  return 0;
}

int migrate(const config::Settings& s) {
  apply_log_level(s);
  auto db = open_database(s, std::chrono::seconds(5));
  if (!db) return fail(db.error().message);
  auto report = store::migrate(*db);
  if (!report) return fail(report.error().message);
  if (auto ok = store::ensure_partitions(*db, 1, 2); !ok) return fail(ok.error().message);
  if (report->applied.empty()) {
    fmt::print("schema is up to date (version {})\n", report->current_version);
  } else {
    fmt::print("applied migrations {}; schema is at version {}\n", fmt::join(report->applied, ", "),
               report->current_version);
  }
  return 0;
}

int maintenance(const config::Settings& s) {
  apply_log_level(s);
  metrics::Metrics metrics;
  auto report = worker::maintain_once(s.database_url, maintenance_options(s), metrics);
  if (!report) return fail(report.error().message);
  if (!report->ran) {
    fmt::print("another logpipe instance is running maintenance now; nothing done\n");
    return 0;
  }
  const auto list = [](const std::vector<std::string>& items) {
    return items.empty() ? std::string("none") : fmt::format("{}", fmt::join(items, ", "));
  };
  fmt::print(
      "partitions created: {}\narchived: {} ({} rows)\ndropped: {}\nsearch indexes built: {}\n",
      list(report->created), list(report->archived), report->archived_rows, list(report->dropped),
      list(report->indexed));
  if (report->expired_default_rows)
    fmt::print("expired rows of days without a partition: {}\n", report->expired_default_rows);
  if (report->folded_rollup_rows)
    fmt::print("rollup rows of closed days folded: {}\n", report->folded_rollup_rows);
  if (report->tenant_expired_rows)
    fmt::print("rows past their tenant's retention deleted: {}\n", report->tenant_expired_rows);
  return 0;
}

int seed(const config::Settings& s, loadtest::SeedOptions options) {
  apply_log_level(s);
  options.database_url = s.database_url;
  if (auto ready = schema_ready(s); !ready) return fail(ready.error().message);
  auto report = loadtest::seed(options);
  if (!report) return fail(report.error().message);
  fmt::print("stored {} logs from {} devices over {} days in {:.1f} s ({:.0f} logs/s)\n",
             report->rows, options.devices, options.days, report->seconds,
             static_cast<double>(report->rows) / report->seconds);
  return 0;
}

int import_archives(const config::Settings& s, const std::vector<std::string>& files) {
  apply_log_level(s);
  auto db = open_database(s, std::chrono::seconds(5));
  if (!db) return fail(db.error().message);
  for (const auto& file : files) {
    auto report = store::import_archive(*db, file);
    if (!report) return fail(report.error().message);
    fmt::print("{}: {} records, {} stored{}\n", file, report->records, report->records_stored,
               report->records_stored < report->records ? " (the rest were imported before)" : "");
  }
  return 0;
}

int loadtest(const config::Settings& s, loadtest::Options options) {
  apply_log_level(s);
  options.host = s.host();
  options.port = s.port();
  if (options.https && options.tls.insecure)
    fmt::print(stderr,
               "logpipe loadtest: warning: --insecure: the certificate of {}:{} is not checked\n",
               options.host, options.port);
  if (options.verify) options.database_url = s.database_url;
  const bool json = options.json;
  auto report = loadtest::run(std::move(options));
  if (!report) return fail(report.error().message);
  fmt::print("{}", json ? loadtest::format_json(*report) : loadtest::format_table(*report));
  if (report->records_acked == 0) return 1;
  return !report->verify.done || report->verified() ? 0 : 1;
}

// The `logpipe dlq` commands are the operator's, on the host: every tenant's dead letters
// (std::nullopt), as the operator's key sees them through the API.
namespace {
core::Result<queue::SyncClient> dlq_connection(const config::Settings& s) {
  apply_log_level(s);
  auto endpoint = redis_endpoint(s);
  if (!endpoint) return endpoint.error();
  return queue::SyncClient::connect(*endpoint, 3000ms);
}
}  // namespace

int dlq_list(const config::Settings& s, std::size_t limit, bool json) {
  auto redis = dlq_connection(s);
  if (!redis) return fail(redis.error().message);
  auto page = queue::dlq_list(*redis, s.stream, limit, std::nullopt);
  if (!page) return fail(page.error().message);
  if (json) {
    fmt::print("{}\n", api::dlq_json(*page));
    return 0;
  }
  fmt::print("{}: {} entr{}{}\n", page->stream, page->length, page->length == 1 ? "y" : "ies",
             page->length > static_cast<std::int64_t>(page->entries.size())
                 ? fmt::format(" (showing the oldest {})", page->entries.size())
                 : "");
  for (const auto& e : page->entries) {
    auto batches = queue::decode_entry(e.payload);
    std::size_t records = 0;
    std::string first;
    if (batches) {
      for (const auto& b : *batches) {
        for (const auto& r : b.records) {
          if (records++ == 0) first = r.message.substr(0, 60);
        }
      }
    }
    fmt::print("{}  from {}  at {}  tenant {}  {} record(s){}\n    error: {}\n", e.id, e.entry,
               e.failed_at, e.tenant, records,
               first.empty() ? "" : fmt::format(", first: \"{}\"", first), e.error);
  }
  return 0;
}

namespace {
// The dead-letter changes of the command line are audited like the API's (README "Audit log"):
// no key, remote_addr "cli", the default tenant. The database is opened before the change, so
// that a change is never made without a way to record it; a row that still fails after the
// change is reported (exit 1) while the change stands.
core::Result<store::Connection> audit_connection(const config::Settings& s) {
  auto db = open_database(s);
  if (!db)
    return core::make_error(
        db.error().code,
        "cannot open PostgreSQL for the audit log (nothing changed): " + db.error().message);
  return db;
}

int audit_or_fail(store::Connection& db, const store::AuditEntry& entry) {
  if (auto written = store::append_audit(db, entry); !written)
    return fail("the change was made, but its audit log row could not be written: " +
                written.error().message);
  return 0;
}
}  // namespace

int dlq_replay(const config::Settings& s, const std::vector<std::string>& ids) {
  auto redis = dlq_connection(s);
  if (!redis) return fail(redis.error().message);
  auto db = audit_connection(s);
  if (!db) return fail(db.error().message);
  auto done = queue::dlq_replay(*redis, s.stream, ids, 10'000, std::nullopt);
  if (!done) return fail(done.error().message);
  fmt::print("replayed {} into {}; {} left in {}\n", done->replayed, s.stream, done->remaining,
             queue::dead_letter_stream(s.stream));
  return audit_or_fail(*db,
                       store::command_line_audit_entry(store::audit_action::kDlqReplay,
                                                       queue::dead_letter_stream(s.stream),
                                                       api::dlq_replay_audit_detail(ids, *done)));
}

int dlq_delete(const config::Settings& s, const std::vector<std::string>& ids) {
  auto redis = dlq_connection(s);
  if (!redis) return fail(redis.error().message);
  auto db = audit_connection(s);
  if (!db) return fail(db.error().message);
  auto done = queue::dlq_delete(*redis, s.stream, ids, std::nullopt);
  if (!done) {
    fail(done.error().message);
    return done.error().code == core::Errc::invalid_argument ? 2 : 1;
  }
  for (const auto& id : done->not_found)
    fmt::print(stderr, "logpipe: {} is not in {}\n", id, queue::dead_letter_stream(s.stream));
  fmt::print("deleted {} from {}; {} left\n", done->deleted, queue::dead_letter_stream(s.stream),
             done->remaining);
  // Nothing deleted (every id missing) is a failed action: no row.
  if (done->deleted > 0) {
    if (const int failed =
            audit_or_fail(*db, store::command_line_audit_entry(
                                   store::audit_action::kDlqDelete, ids.size() == 1 ? ids[0] : "",
                                   api::dlq_delete_audit_detail(ids, *done)));
        failed != 0)
      return failed;
  }
  return done->not_found.empty() ? 0 : 1;
}

namespace {
// --insecure is for a moment's test against a server with a certificate at hand, never a habit:
// say what it costs on every run.
void warn_if_insecure(bool https, bool insecure, std::string_view url, std::string_view command) {
  if (https && insecure)
    fmt::print(stderr,
               "logpipe {}: warning: --insecure: the certificate of {} is not checked; anyone on "
               "the path can pose as the server and read the API key and the logs\n",
               command, url);
}
void warn_if_insecure(const client::Query& query, std::string_view command) {
  warn_if_insecure(query.server.tls, query.tls.insecure, query.url, command);
}

// Ctrl-C is how a tail ends: everything printed was flushed already, so the handler only exits,
// with success (exit is not async-signal-safe; _exit is).
void end_tail(int /*signal*/) {
  _exit(0);
}
}  // namespace

int query(const client::Query& query) {
  warn_if_insecure(query, "query");
  if (auto done = client::run(query, stdout); !done) {
    fmt::print(stderr, "logpipe query: {}\n", done.error().message);
    return 1;
  }
  return 0;
}

int audit(const client::Query& query) {
  warn_if_insecure(query, "audit");
  if (auto done = client::run_audit(query, stdout); !done) {
    fmt::print(stderr, "logpipe audit: {}\n", done.error().message);
    return 1;
  }
  return 0;
}

int alerts(const client::AlertsCommandLine& line) {
  warn_if_insecure(line.url.starts_with("https://"), line.tls.insecure, line.url, "alerts");
  if (auto done = client::run_alerts(line, stdout); !done) {
    fmt::print(stderr, "logpipe alerts: {}\n", done.error().message);
    return 1;
  }
  return 0;
}

int tail(const client::Tail& tail) {
  warn_if_insecure(tail.server.tls, tail.tls.insecure, tail.url, "tail");
  // `logpipe tail | head -3`: a reader that left is the write's EPIPE, the tail's normal end,
  // not a SIGPIPE death.
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, end_tail);
  if (auto done = client::run_tail(tail, stdout, stderr); !done) {
    fmt::print(stderr, "logpipe tail: {}\n", done.error().message);
    return 1;
  }
  return 0;
}

}  // namespace logpipe::app
