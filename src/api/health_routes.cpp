// What this instance is and whether it can do its job: /, /health*, /metrics, /openapi.json,
// /docs.
#include <boost/asio/post.hpp>
#include <optional>
#include <span>

#include "api/handlers.hpp"
#include "core/time.hpp"
#include "queue/status.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::status;

constexpr const char* kVersion = "0.1.0";

struct Checks {
  bool redis = false;
  bool postgres = false;
};

// Runs the Redis and PostgreSQL checks concurrently and calls `done` with both.
void check_dependencies(Context& ctx, std::function<void(Checks)> done) {
  struct State {
    std::atomic<int> remaining{2};
    std::atomic<bool> redis{false}, postgres{false};
    std::function<void(Checks)> done;
    core::InFlight::Token token;
    void finish() {
      if (--remaining == 0) done({redis, postgres});
    }
  };
  auto state = std::make_shared<State>();
  state->done = std::move(done);
  state->token = ctx.in_flight.enter();
  ctx.redis.send({"PING"}, [state](core::Result<queue::ReplyPtr> r) {
    state->redis = r.ok();
    state->finish();
  });
  boost::asio::post(ctx.db_threads, [state, &ctx] {
    auto r = ctx.db.with([](store::Connection& c) { return c.query("SELECT 1"); },
                         std::chrono::milliseconds(2000));
    state->postgres = r.ok();
    state->finish();
  });
}

// serve's job is ingest: it can ingest while Redis is up, or while PostgreSQL is up and the
// fallback is on. Anything else down (PostgreSQL behind the queue, a worker's circuit) is
// `degraded`: still 200, so a load balancer keeps it in rotation exactly when the queue is
// absorbing an outage.
void answer_health(Context& ctx, http::Request& req, const http::Reply& reply, bool readiness) {
  check_dependencies(ctx, [&ctx, &req, reply, readiness](Checks c) {
    const bool ingest_possible = c.redis || (ctx.intake.falls_back_to_db() && c.postgres);
    const bool worker_ok = !ctx.degraded_workers || ctx.degraded_workers() == 0;
    const bool all_ok = c.redis && c.postgres && worker_ok;
    const char* state = !ingest_possible ? (readiness ? "not_ready" : "unhealthy")
                        : !all_ok        ? "degraded"
                        : readiness      ? "ready"
                                         : "healthy";
    core::JsonWriter w;
    w.begin_object()
        .field("status", state)
        .field("instance", ctx.instance)
        .key("checks")
        .begin_object()
        .field("redis", c.redis)
        .field("postgres", c.postgres);
    if (ctx.degraded_workers) w.field("worker", worker_ok);
    w.end_object()
        .field("ingest", ingest_possible ? (c.redis ? "redis" : "db") : "unavailable")
        .field("timestamp", core::format_rfc3339(core::now_micros()))
        .end_object();
    auto response = http::json_response(
        req, ingest_possible ? status::ok : status::service_unavailable, w.take());
    if (!ingest_possible) response.set(http::bhttp::field::retry_after, "5");
    reply(std::move(response));
  });
}

http::Response metrics_response(const metrics::Metrics& metrics, const http::Request& req) {
  http::Response response{status::ok, req.version()};
  response.set(http::bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.keep_alive(req.keep_alive());
  response.body() = metrics.render();
  response.prepare_payload();
  return response;
}

http::Response alive(const http::Request& req) {
  return http::json_response(req, status::ok, R"({"status":"alive"})");
}

}  // namespace

// With es_at_root, / is also Elasticsearch's version probe, which shippers call before anything
// else: its members come first, and logpipe's own version moves to "logpipe_version" since
// "version" is Elasticsearch's object then.
void service_info(Context& ctx, http::Request& req, http::RequestContext&,
                  const http::Reply& reply) {
  if (!ctx.es_at_root && wants_html(req)) {
    http::Response to_ui{status::found, req.version()};
    to_ui.set(http::bhttp::field::location, "/ui");
    to_ui.keep_alive(req.keep_alive());
    to_ui.prepare_payload();
    return reply(std::move(to_ui));
  }
  core::JsonWriter w;
  w.begin_object();
  if (ctx.es_at_root) write_es_info(w, ctx.instance);
  w.field("service", "logpipe")
      .field(ctx.es_at_root ? "logpipe_version" : "version", kVersion)
      .field("description", "Log collection: HTTP → Redis Streams → PostgreSQL")
      .field("docs", "/docs")
      .field("ui", "/ui")
      .key("endpoints");
  write_endpoint_list(w, ctx.es_prefix);
  w.end_object();
  reply(http::json_response(req, status::ok, w.take()));
}

void health(Context& ctx, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  answer_health(ctx, req, reply, false);
}

void readiness(Context& ctx, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  answer_health(ctx, req, reply, true);
}

void liveness(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  reply(alive(req));
}

namespace {
// The queue's gauges from the replies to status_commands() and TIME (Metrics::set_queue).
std::optional<metrics::Metrics::QueueSample> queue_sample(
    const queue::QueueNames& names, std::span<const core::Result<queue::ReplyPtr>> replies) {
  // An error *reply* (no stream or group yet) is an empty queue; a lost connection is Redis down.
  for (const auto& r : replies) {
    if (!r && r.error().code != core::Errc::invalid_argument) return std::nullopt;
  }
  const auto& time = replies.back();
  const auto now_ms = time ? queue::redis_time_ms(**time) : std::nullopt;
  if (!now_ms) return std::nullopt;
  const auto status = queue::read_status(names, replies.first(replies.size() - 1));
  metrics::Metrics::QueueSample sample;
  sample.oldest_entry_age_seconds =
      static_cast<double>(queue::entry_age_ms(status.first_entry_id, *now_ms)) / 1000.0;
  sample.undelivered = static_cast<double>(status.lag);
  sample.dlq_entries = static_cast<double>(status.dlq_length);
  for (const auto& c : status.consumers)
    sample.pending.emplace_back(c.name, static_cast<double>(c.pending));
  return sample;
}
}  // namespace

// redis_stream_size is kept current by the intake's backlog refresh (every 250 ms). The e2e lag,
// the consumers' pending entries, the DLQ and redis_up/postgres_up are read at each scrape
// instead (one PING + SELECT 1, then the commands of GET /api/v1/queue and TIME in one pipelined
// write): a scrape every 15 s costs that much, and the values are as fresh as the scrape. Redis
// or PostgreSQL down still renders (within their timeouts), with redis_up/postgres_up at 0.
void metrics_text(Context& ctx, http::Request& req, http::RequestContext&,
                  const http::Reply& reply) {
  check_dependencies(ctx, [&ctx, &req, reply](Checks c) {
    ctx.metrics.set_postgres_up(c.postgres);
    if (!c.redis) {
      ctx.metrics.set_queue(std::nullopt);
      return reply(metrics_response(ctx.metrics, req));
    }
    const queue::QueueNames names{ctx.stream, ctx.group};
    auto commands = queue::status_commands(names);
    commands.push_back({"TIME"});
    redis_round_trip(ctx, commands, [&ctx, &req, reply, names](const RedisReplies& replies) {
      ctx.metrics.set_queue(queue_sample(names, replies));
      reply(metrics_response(ctx.metrics, req));
    });
  });
}

void openapi(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  reply(http::json_response(req, status::ok, std::string(openapi_document())));
}

namespace {
// A file of the /docs page, as it is; the server adds the security headers (and, for the HTML,
// its Content-Security-Policy).
http::Response static_file(const http::Request& req, std::string_view content_type,
                           std::string_view body) {
  http::Response response{status::ok, req.version()};
  response.set(http::bhttp::field::content_type, content_type);
  response.keep_alive(req.keep_alive());
  response.body() = std::string(body);
  response.prepare_payload();
  return response;
}
}  // namespace

void docs(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  reply(static_file(req, "text/html; charset=utf-8", docs_page()));
}

void docs_script(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  reply(static_file(req, "text/javascript; charset=utf-8", docs_js()));
}

void docs_style(Context&, http::Request& req, http::RequestContext&, const http::Reply& reply) {
  reply(static_file(req, "text/css; charset=utf-8", docs_css()));
}

void register_worker_status_routes(http::Router& router, metrics::Metrics& metrics,
                                   std::function<std::size_t()> degraded_workers) {
  using http::bhttp::verb;
  router.add(verb::get, "/metrics",
             [&metrics](http::Request& req, http::RequestContext&, const http::Reply& reply) {
               reply(metrics_response(metrics, req));
             });
  router.add(verb::get, "/health/live",
             [](http::Request& req, http::RequestContext&, const http::Reply& reply) {
               reply(alive(req));
             });
  router.add(
      verb::get, "/health/ready",
      [degraded = std::move(degraded_workers)](http::Request& req, http::RequestContext&,
                                               const http::Reply& reply) {
        const bool ok = degraded() == 0;
        reply(http::json_response(req, ok ? status::ok : status::service_unavailable,
                                  ok ? R"({"status":"ready","checks":{"worker":true}})"
                                     : R"({"status":"degraded","checks":{"worker":false}})"));
      });
}

}  // namespace logpipe::api
