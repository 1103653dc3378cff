// The HTTP API: one route table (routes.cpp) that feeds the router, the `/`
// endpoint list and the OpenAPI check; handlers that decode, call the intake or a query, and
// render JSON. Handlers never block an io thread: Redis goes through the pipelined AsyncClient,
// PostgreSQL work runs on `db_threads`.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <string>
#include <vector>

#include "auth/authenticator.hpp"
#include "auth/rate_limiter.hpp"
#include "core/in_flight.hpp"
#include "http/router.hpp"
#include "ingest/format.hpp"
#include "intake/intake.hpp"
#include "metrics/metrics.hpp"
#include "queue/async_client.hpp"
#include "store/pool.hpp"
#include "tail/hub.hpp"

namespace logpipe::api {

struct Context {
  Context(queue::AsyncClient& r, intake::Intake& i, store::Pool& p, boost::asio::thread_pool& t,
          metrics::Metrics& m)
      : redis(r), intake(i), db(p), db_threads(t), metrics(m) {}

  queue::AsyncClient& redis;
  intake::Intake& intake;
  store::Pool& db;
  boost::asio::thread_pool& db_threads;
  metrics::Metrics& metrics;
  std::string stream = "logs:stream";
  std::string group = "log_workers";
  queue::RedisEndpoint redis_endpoint;  // for admin calls on a connection of their own
  std::string instance;                 // reported by /health
  std::size_t max_decoded_bytes = std::size_t{64} << 20;  // see ingest::decode_content
  // What one request may hold once decoded (max_records_per_request, max_json_depth,
  // max_message_bytes, max_name_bytes): each ingest endpoint starts from these.
  ingest::DecodeOptions decode_limits{};
  std::string es_prefix = "/es";  // where the Elasticsearch-compatible API is served
  bool es_at_root = false;        // …and also at /
  // The formats requests may name: the built-in ones, plus the configured patterns in serve
  // (built at start-up, alive as long as the server).
  const ingest::FormatRegistry* formats = &ingest::builtin_formats();
  std::size_t device_cache_ttl_seconds = 0;  // GET /api/logs/{device_id} through Redis; 0: off
  // In `logpipe run`: how many of this process's worker consumers have their circuit open
  // (PostgreSQL unavailable to them); empty in `serve`.
  std::function<std::size_t()> degraded_workers{};
  // Handler work still running on other threads after the request was read; shutdown waits
  // for zero (with the intake's own).
  core::InFlight in_flight;
  // Requests per second, decided on the head (README "Rate limits and quotas"): a key's own limit
  // or key_requests_per_second (0: none); per client address for requests without a key
  // (ip_requests_per_second, 0: off). Logs per second and quotas are the intake's.
  std::uint32_t key_requests_per_second = 0;
  std::uint32_t ip_requests_per_second = 0;
  // Failed authentications per client address (ip_auth_failures_per_second, 0: off): beyond
  // them a client guessing keys gets 429 instead of 401, whatever else its address sends.
  std::uint32_t ip_auth_failures_per_second = 0;
  auth::RateLimiter key_requests{auth::RateLimiterOptions{.unit = "requests", .subject = "key"}};
  auth::RateLimiter ip_requests{
      auth::RateLimiterOptions{.unit = "requests", .subject = "client address"}};
  auth::RateLimiter ip_auth_failures{auth::RateLimiterOptions{
      .burst_seconds = 10, .unit = "failed authentications", .subject = "client address"}};
  // Log exports under way: each holds a pooled connection for as long as its client reads, so
  // at most half the pool goes to them and searches and the ingest fallback keep the rest.
  std::atomic<std::size_t> exports_running{0};
  // auth = "keys": the keys requests are checked against; null: auth = "none" (every request
  // acts for the tenant default with every scope).
  auth::Authenticator* authenticator = nullptr;
  bool metrics_open = false;  // metrics_auth = "none": GET /metrics without a key
  // The live tail (GET /api/v1/tail, /ws/logs): the process's hub (null: those endpoints answer
  // 503), and each subscriber's limits (tail_queue_messages, tail_ping_interval for SSE,
  // tail_max_lifetime).
  tail::Hub* tail = nullptr;
  std::size_t tail_queue_messages = 1000;
  std::chrono::milliseconds tail_ping_interval{15'000};
  std::chrono::milliseconds tail_max_lifetime{3'600'000};
};

// The route table, the middleware (principal, scope, ingest admission before the body) and the
// handlers, on `router`.
void register_routes(http::Router& router, Context& context);

// The middleware of requests per second (after the scope check): a key's bucket, or the client
// address's for a request without a key. Public for tests, which set a principal of their own.
std::optional<http::Response> limit_requests(Context& ctx, const http::RequestHead& head,
                                             http::RequestContext& rc);

// Every endpoint register_routes adds, described (no handler): for the OpenAPI check and docs.
std::vector<http::RouteSpec> route_specs();

// What a standalone `logpipe worker` serves on metrics_addr: GET /metrics, /health/live, and
// /health/ready (503 while `degraded_workers()` > 0: PostgreSQL is unavailable to a consumer).
void register_worker_status_routes(http::Router& router, metrics::Metrics& metrics,
                                   std::function<std::size_t()> degraded_workers);

// The OpenAPI 3 document served at /openapi.json.
std::string_view openapi_document();

}  // namespace logpipe::api
