#include <fmt/format.h>

#include <array>
#include <boost/asio/post.hpp>
#include <chrono>
#include <map>
#include <memory>

#include "api/admin_routes.hpp"
#include "api/api.hpp"
#include "api/query_string.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "ingest/json_input.hpp"
#include "query/device_logs.hpp"
#include "queue/batch_codec.hpp"
#include "queue/status.hpp"
#include "store/batch_writer.hpp"

namespace logpipe::api {
namespace {

using http::Reply;
using http::Request;
using http::bhttp::status;
using http::bhttp::verb;
using Clock = std::chrono::steady_clock;

constexpr const char* kVersion = "0.1.0";

enum class BodyKind { json, ndjson, unsupported };

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Media type without parameters; a missing Content-Type is taken as JSON, as curl users expect.
BodyKind body_kind(const Request& req, bool ndjson_allowed) {
  const auto it = req.find(http::bhttp::field::content_type);
  if (it == req.end()) return BodyKind::json;
  std::string type = lower(it->value());
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ')
    type.pop_back();
  if (type == "application/json" || type.ends_with("+json")) return BodyKind::json;
  if (ndjson_allowed && (type == "application/x-ndjson" || type == "application/ndjson" ||
                         type == "application/jsonl" || type == "application/x-jsonlines" ||
                         type == "application/jsonlines" || type == "text/plain"))
    return BodyKind::ndjson;
  return BodyKind::unsupported;
}

core::Error unsupported_media(const Request& req, bool ndjson_allowed) {
  const auto it = req.find(http::bhttp::field::content_type);
  const std::string_view got = it == req.end() ? std::string_view() : std::string_view(it->value());
  return core::make_error(
      core::Errc::unsupported,
      fmt::format("Content-Type \"{}\" is not supported; send application/json{}", got,
                  ndjson_allowed ? " or application/x-ndjson" : ""));
}

// Bodies may not be compressed yet; say so instead of failing to parse them.
bool has_content_encoding(const Request& req) {
  const auto it = req.find(http::bhttp::field::content_encoding);
  return it != req.end() && lower(it->value()) != "identity";
}

std::string error_type(const core::Error& e) {
  switch (e.code) {
    case core::Errc::malformed:
      return "malformed";
    case core::Errc::invalid_field:
      return "invalid_field";
    case core::Errc::too_large:
      return "too_large";
    case core::Errc::unsupported:
      return "unsupported_media_type";
    default:
      return core::to_string(e.code);
  }
}

// What an accepted request is answered with.
struct Accepted {
  std::string entry_id;  // the stream entry, or the fallback's id in ingest_batches
  std::size_t count = 0;
  core::Micros received_at = 0;
  std::string_view backend;  // "redis", or "db" when Redis was down and fallback = "db"
};

// Counts the accepted records and answers 202.
void accept(Context& ctx, Request& req, const Reply& reply,
            const std::function<std::string(const Accepted&)>& respond, const model::Batch& batch,
            Accepted accepted) {
  std::array<double, 8> by_level{};
  for (const auto& r : batch.records)
    by_level[static_cast<std::size_t>(r.level)] += 1;
  for (std::size_t l = 0; l < by_level.size(); ++l) {
    if (by_level[l] > 0)
      ctx.metrics.logs_received(model::to_string(static_cast<model::Level>(l)), by_level[l]);
  }
  accepted.count = batch.records.size();
  accepted.received_at = batch.received_at;
  reply(http::json_response(req, status::accepted, respond(accepted)));
}

// The fallback: one transaction per request, on the database threads, at most
// kMaxFallbackInFlight at a time (beyond that, 503: an outage must not queue unbounded work).
constexpr int kMaxFallbackInFlight = 256;

void store_in_database(Context& ctx, Request& req, Reply reply,
                       std::function<std::string(const Accepted&)> respond,
                       std::shared_ptr<model::Batch> batch, const core::Error& redis_error) {
  if (ctx.fallback_in_flight.fetch_add(1) >= kMaxFallbackInFlight) {
    --ctx.fallback_in_flight;
    ctx.metrics.ingest_rejected("fallback_saturated");
    reply(http::error_response(
        req, core::make_error(core::Errc::unavailable,
                              "the queue is unavailable and the database fallback is saturated; "
                              "nothing was stored, retry later")));
    return;
  }
  ++ctx.in_flight;
  boost::asio::post(
      ctx.db_threads, [&ctx, &req, reply = std::move(reply), respond = std::move(respond),
                       batch = std::move(batch), redis_error] {
        static std::atomic<std::uint64_t> sequence{0};
        store::StreamEntry entry{fmt::format("db-{}-{}", ctx.instance, ++sequence), {}};
        entry.batches.push_back(std::move(*batch));
        auto stored = ctx.db.with([&](store::Connection& c) {
          return store::write_entries(c, ctx.stream, std::span(&entry, 1));
        });
        if (stored) {
          ctx.metrics.ingest_fallback(static_cast<double>(entry.record_count()));
          accept(ctx, req, reply, respond, entry.batches.front(), {entry.id, 0, 0, "db"});
        } else {
          ctx.metrics.ingest_rejected("redis_and_postgres_unavailable");
          core::log::error("enqueue and database fallback both failed",
                           {{"redis", redis_error.message}, {"postgres", stored.error().message}});
          reply(http::error_response(
              req, core::make_error(core::Errc::unavailable,
                                    "the queue and the database are unavailable; nothing was "
                                    "stored, retry later")));
        }
        --ctx.fallback_in_flight;
        --ctx.in_flight;
      });
}

// Enqueues one request's records, encoded as one batch, and answers once Redis acknowledged the
// stream entry holding them (concurrent requests may share an entry: see StreamAppender). With
// Redis down and fallback = "db", the records are committed to PostgreSQL instead, exactly once
// (their fallback id goes into ingest_batches in the same transaction); with fallback = "off",
// or when that fails too, the answer is 503 and nothing was stored.
class Ingest {
 public:
  using Respond = std::function<std::string(const Accepted&)>;

  explicit Ingest(Context& ctx) : ctx_(ctx) {}

  void enqueue(Request& req, Reply reply, model::Batch batch, Respond respond) const {
    std::string payload = queue::encode_batch(batch);
    const auto started = Clock::now();
    ++ctx_.in_flight;
    ctx_.appender.append(std::move(payload), [&ctx = ctx_, &req, reply = std::move(reply),
                                              respond = std::move(respond),
                                              batch =
                                                  std::make_shared<model::Batch>(std::move(batch)),
                                              started](core::Result<std::string> entry_id) mutable {
      ctx.metrics.redis_operation("xadd",
                                  std::chrono::duration<double>(Clock::now() - started).count());
      if (entry_id) {
        accept(ctx, req, reply, respond, *batch, {*entry_id, 0, 0, "redis"});
      } else if (entry_id.error().code == core::Errc::timeout) {
        // Redis may have stored it: neither a fallback write (it could store it twice) nor a
        // 503 (which promises nothing was stored) would be true. 504 says so.
        ctx.metrics.ingest_rejected("redis_outcome_unknown");
        core::log::warn("enqueue outcome unknown", {{"error", entry_id.error().message}});
        reply(http::error_response(
            req, core::make_error(core::Errc::timeout,
                                  "the queue did not confirm the write (its connection was lost); "
                                  "the logs may have been stored, and sending them again may "
                                  "store them twice")));
      } else if (ctx.fallback_to_db) {
        store_in_database(ctx, req, std::move(reply), std::move(respond), std::move(batch),
                          entry_id.error());
      } else {
        ctx.metrics.ingest_rejected("redis_unavailable");
        core::log::warn("enqueue failed", {{"error", entry_id.error().message}});
        reply(http::error_response(
            req, core::make_error(core::Errc::unavailable,
                                  "the queue is unavailable; nothing was stored, retry later")));
      }
      --ctx.in_flight;
    });
  }

  // Parses with `parse`, then enqueues; every rejection is counted and answered as JSON.
  template <class Parse>
  void handle(Request& req, Reply reply, bool ndjson_allowed, Parse parse, Respond respond) const {
    if (const long long backlog = ctx_.backlog_entries.load();
        ctx_.max_backlog > 0 && backlog > static_cast<long long>(ctx_.max_backlog)) {
      ctx_.metrics.ingest_rejected("backpressure");
      reply(http::error_response(
          req, core::make_error(core::Errc::overloaded,
                                fmt::format("the queue holds {} entries not yet stored (limit {}); "
                                            "nothing was stored, retry later",
                                            backlog, ctx_.max_backlog))));
      return;
    }
    const core::Micros received_at = core::now_micros();
    auto records = [&]() -> core::Result<std::vector<model::Record>> {
      if (has_content_encoding(req))
        return core::make_error(core::Errc::unsupported,
                                "Content-Encoding is not supported; send an uncompressed body");
      const BodyKind kind = body_kind(req, ndjson_allowed);
      if (kind == BodyKind::unsupported) return unsupported_media(req, ndjson_allowed);
      return parse(kind, received_at);
    }();
    if (!records) {
      ctx_.metrics.ingest_rejected(error_type(records.error()));
      reply(http::error_response(req, records.error()));
      return;
    }
    model::Batch batch;
    batch.received_at = received_at;
    batch.records = std::move(records).value();
    enqueue(req, std::move(reply), std::move(batch), std::move(respond));
  }

 private:
  Context& ctx_;
};

// Seed 000's answer; "status" is "stored" (with "backend":"db") when the fallback stored it.
std::string queued_body(const Accepted& a, bool batch) {
  const bool in_db = a.backend == "db";
  core::JsonWriter w;
  w.begin_object().field("status", in_db ? "stored" : "queued").field("message_id", a.entry_id);
  if (batch) {
    w.field("count", static_cast<std::uint64_t>(a.count));
    w.key("message_ids").begin_array().value(a.entry_id).end_array();
  }
  w.field("received_at", core::format_rfc3339(a.received_at));
  if (in_db) w.field("backend", "db");
  return w.end_object().take();
}

// Runs the Redis and PostgreSQL checks concurrently and calls `done(redis_ok, postgres_ok)`.
void check_dependencies(Context& ctx, std::function<void(bool, bool)> done) {
  struct State {
    std::atomic<int> remaining{2};
    std::atomic<bool> redis{false}, postgres{false};
    std::function<void(bool, bool)> done;
    void finish() {
      if (--remaining == 0) done(redis, postgres);
    }
  };
  auto state = std::make_shared<State>();
  state->done = std::move(done);
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

void health(Context& ctx, Request& req, Reply reply, bool readiness) {
  ++ctx.in_flight;
  check_dependencies(
      ctx, [&ctx, &req, reply = std::move(reply), readiness](bool redis, bool postgres) {
        const bool ok = redis && postgres;
        // A worker whose circuit is open still lets ingest queue: degraded, not down.
        const bool worker_ok = !ctx.degraded_workers || ctx.degraded_workers() == 0;
        const char* state = !ok          ? (readiness ? "not_ready" : "unhealthy")
                            : !worker_ok ? "degraded"
                            : readiness  ? "ready"
                                         : "healthy";
        core::JsonWriter w;
        w.begin_object()
            .field("status", state)
            .field("instance", ctx.instance)
            .key("checks")
            .begin_object()
            .field("redis", redis)
            .field("postgres", postgres);
        if (ctx.degraded_workers) w.field("worker", worker_ok);
        w.end_object().field("timestamp", core::format_rfc3339(core::now_micros())).end_object();
        auto response =
            http::json_response(req, ok ? status::ok : status::service_unavailable, w.take());
        if (!ok) response.set(http::bhttp::field::retry_after, "5");
        reply(std::move(response));
        --ctx.in_flight;
      });
}

void device_logs(Context& ctx, Request& req, const http::PathParams& params, Reply reply) {
  const auto limit_text = query_param(req.target(), "limit");
  auto limit = query::parse_limit(limit_text.value_or(""), limit_text.has_value());
  if (!limit) {
    reply(http::error_response(req, limit.error()));
    return;
  }
  query::DeviceLogsQuery q;
  q.device_id = params.at(0).second;
  q.limit = *limit;
  ++ctx.in_flight;
  boost::asio::post(ctx.db_threads, [&ctx, &req, q, reply = std::move(reply)] {
    auto body = ctx.db.with([&](store::Connection& c) { return query::device_logs_json(c, q); });
    if (!body) {
      core::log::warn("device query failed", {{"error", body.error().message}});
      reply(
          http::error_response(req, body.error().code == core::Errc::unavailable
                                        ? body.error()
                                        : core::make_error(core::Errc::internal, "query failed")));
    } else {
      reply(http::json_response(req, status::ok, std::move(body).value()));
    }
    --ctx.in_flight;
  });
}

// Prometheus text format. redis_stream_size is kept current by refresh_backlog() (every 250 ms),
// so a scrape is just a render, and works whether or not Redis is up.
void metrics_endpoint(const metrics::Metrics& metrics, const Request& req, const Reply& reply) {
  http::Response response{status::ok, req.version()};
  response.set(http::bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.keep_alive(req.keep_alive());
  response.body() = metrics.render();
  response.prepare_payload();
  reply(std::move(response));
}

void liveness(const Request& req, const Reply& reply) {
  reply(http::json_response(req, status::ok, R"({"status":"alive"})"));
}

// GET /api/v1/queue: the XINFO commands go out in one pipelined write; the answer is rendered
// once every reply is in. Redis down → 503.
void queue_status(Context& ctx, Request& req, Reply reply) {
  struct State {
    queue::QueueNames names;
    std::vector<core::Result<queue::ReplyPtr>> replies;
    std::atomic<std::size_t> remaining;
    Reply reply;
  };
  ++ctx.in_flight;
  auto state = std::make_shared<State>();
  state->names = {ctx.stream, ctx.group};
  const auto commands = queue::status_commands(state->names);
  for (std::size_t i = 0; i < commands.size(); ++i)
    state->replies.emplace_back(core::make_error(core::Errc::unavailable, "no reply"));
  state->remaining = commands.size();
  state->reply = std::move(reply);
  for (std::size_t i = 0; i < commands.size(); ++i) {
    std::vector<std::string_view> args(commands[i].begin(), commands[i].end());
    ctx.redis.send(args, [&ctx, &req, state, i](core::Result<queue::ReplyPtr> r) {
      state->replies[i] = std::move(r);
      if (--state->remaining != 0) return;
      const auto& first = state->replies.front();
      // An error *reply* (no such stream yet) renders as empty; a lost connection is a 503.
      if (!first && first.error().code != core::Errc::invalid_argument) {
        state->reply(http::error_response(req, first.error()));
      } else {
        state->reply(
            http::json_response(req, status::ok, queue::status_json(state->names, state->replies)));
      }
      --ctx.in_flight;
    });
  }
}

std::string service_info() {
  core::JsonWriter w;
  w.begin_object()
      .field("service", "logpipe")
      .field("version", kVersion)
      .field("description", "Log collection: HTTP → Redis Streams → PostgreSQL")
      .key("endpoints")
      .begin_object()
      .field("health", "GET /health, /health/live, /health/ready")
      .field("ingest", "POST /api/v1/ingest (JSON object, array or NDJSON)")
      .field("single_log", "POST /api/log")
      .field("batch", "POST /api/logs/batch")
      .field("device_logs", "GET /api/logs/{device_id}?limit=")
      .field("queue", "GET /api/v1/queue (alias /queue/status)")
      .field("dead_letters", "GET /api/v1/dlq, POST /api/v1/dlq/replay")
      .field("metrics", "GET /metrics")
      .field("openapi", "GET /openapi.json")
      .end_object()
      .end_object();
  return w.take();
}

}  // namespace

void refresh_backlog(Context& ctx) {
  ctx.redis.send({"XLEN", ctx.stream}, [&ctx](core::Result<queue::ReplyPtr> r) {
    if (!r) return;  // Redis down: ingest finds out by itself
    const auto entries = queue::reply_integer(**r);
    ctx.backlog_entries = entries;
    ctx.metrics.set_stream_size(static_cast<double>(entries));
  });
}

void register_worker_status_routes(http::Router& router, metrics::Metrics& metrics,
                                   std::function<std::size_t()> degraded_workers) {
  router.add(verb::get, "/metrics",
             [&metrics](Request& req, const http::PathParams&, const Reply& reply) {
               metrics_endpoint(metrics, req, reply);
             });
  router.add(
      verb::get, "/health/live",
      [](Request& req, const http::PathParams&, const Reply& reply) { liveness(req, reply); });
  router.add(
      verb::get, "/health/ready",
      [degraded = std::move(degraded_workers)](Request& req, const http::PathParams&,
                                               const Reply& reply) {
        const bool ok = degraded() == 0;
        reply(http::json_response(req, ok ? status::ok : status::service_unavailable,
                                  ok ? R"({"status":"ready","checks":{"worker":true}})"
                                     : R"({"status":"degraded","checks":{"worker":false}})"));
      });
}

void register_routes(http::Router& router, Context& ctx) {
  const Ingest ingest(ctx);

  router.add(verb::get, "/", [](Request& req, const http::PathParams&, const Reply& reply) {
    reply(http::json_response(req, status::ok, service_info()));
  });
  router.add(verb::get, "/health", [&ctx](Request& req, const http::PathParams&, Reply reply) {
    health(ctx, req, std::move(reply), false);
  });
  router.add(verb::get, "/health/ready",
             [&ctx](Request& req, const http::PathParams&, Reply reply) {
               health(ctx, req, std::move(reply), true);
             });
  router.add(
      verb::get, "/health/live",
      [](Request& req, const http::PathParams&, const Reply& reply) { liveness(req, reply); });

  router.add(verb::post, "/api/log", [ingest](Request& req, const http::PathParams&, Reply reply) {
    ingest.handle(
        req, std::move(reply), false,
        [&req](BodyKind, core::Micros received_at) -> core::Result<std::vector<model::Record>> {
          ingest::JsonOptions options;
          options.received_at = received_at;
          options.require_device_id = true;
          auto records = ingest::parse_json(req.body(), options);
          // One log: an object, not an array.
          const auto first = req.body().find_first_not_of(" \t\r\n");
          if (records && first != std::string::npos && req.body()[first] == '[')
            return core::make_error(core::Errc::invalid_field,
                                    "body must be one JSON object; use /api/logs/batch for many");
          return records;
        },
        [](const Accepted& a) { return queued_body(a, false); });
  });

  router.add(verb::post, "/api/logs/batch",
             [ingest](Request& req, const http::PathParams&, Reply reply) {
               ingest.handle(
                   req, std::move(reply), false,
                   [&req](BodyKind, core::Micros received_at) {
                     ingest::JsonOptions options;
                     options.received_at = received_at;
                     options.require_device_id = true;
                     options.max_records = 1000;
                     return ingest::parse_logs_envelope(req.body(), options);
                   },
                   [](const Accepted& a) { return queued_body(a, true); });
             });

  router.add(verb::post, "/api/v1/ingest",
             [ingest](Request& req, const http::PathParams&, Reply reply) {
               ingest.handle(
                   req, std::move(reply), true,
                   [&req](BodyKind kind, core::Micros received_at) {
                     ingest::JsonOptions options;
                     options.received_at = received_at;
                     return kind == BodyKind::ndjson ? ingest::parse_ndjson(req.body(), options)
                                                     : ingest::parse_json(req.body(), options);
                   },
                   [](const Accepted& a) {
                     core::JsonWriter w;
                     w.begin_object()
                         .field("enqueued", static_cast<std::uint64_t>(a.count))
                         .field("backend", a.backend)
                         .end_object();
                     return w.take();
                   });
             });

  router.add(verb::get, "/api/logs/{device_id}",
             [&ctx](Request& req, const http::PathParams& params, Reply reply) {
               device_logs(ctx, req, params, std::move(reply));
             });
  for (const char* path : {"/api/v1/queue", "/queue/status"}) {
    router.add(verb::get, path, [&ctx](Request& req, const http::PathParams&, Reply reply) {
      queue_status(ctx, req, std::move(reply));
    });
  }
  register_dlq_routes(router, ctx);
  router.add(verb::get, "/metrics",
             [&ctx](Request& req, const http::PathParams&, const Reply& reply) {
               metrics_endpoint(ctx.metrics, req, reply);
             });
  router.add(verb::get, "/openapi.json",
             [](Request& req, const http::PathParams&, const Reply& reply) {
               reply(http::json_response(req, status::ok, std::string(openapi_document())));
             });
}

}  // namespace logpipe::api
