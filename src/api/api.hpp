// The HTTP API of DESIGN.md §5 (this slice: health, ingest, device query, metrics, OpenAPI),
// registered on an http::Router. Handlers never block an io thread: Redis goes through the
// pipelined AsyncClient, PostgreSQL work runs on `db_threads`.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <string>

#include "http/router.hpp"
#include "metrics/metrics.hpp"
#include "queue/async_client.hpp"
#include "queue/stream_appender.hpp"
#include "store/pool.hpp"

namespace logpipe::api {

struct Context {
  Context(queue::AsyncClient& r, queue::StreamAppender& a, store::Pool& p,
          boost::asio::thread_pool& t, metrics::Metrics& m)
      : redis(r), appender(a), db(p), db_threads(t), metrics(m) {}

  queue::AsyncClient& redis;
  queue::StreamAppender& appender;  // ingest: XADDs to `stream`, coalescing concurrent requests
  store::Pool& db;
  boost::asio::thread_pool& db_threads;
  metrics::Metrics& metrics;
  std::string stream = "logs:stream";
  std::string group = "log_workers";
  queue::RedisEndpoint redis_endpoint;  // for admin calls on a connection of their own
  std::string instance;                 // reported by /health
  bool fallback_to_db = true;           // Redis down: store ingest in PostgreSQL (fallback = "db")
  // Backpressure: above max_backlog entries not yet stored (0: no limit), ingest answers 429.
  // backlog_entries is refreshed by refresh_backlog().
  std::size_t max_backlog = 0;
  // In `logpipe run`: how many of this process's worker consumers have their circuit open
  // (PostgreSQL unavailable to them); empty in `serve`.
  std::function<std::size_t()> degraded_workers{};
  std::atomic<long long> backlog_entries{0};
  std::atomic<int> fallback_in_flight{0};
  // Requests accepted by a handler and not yet answered; shutdown waits for zero.
  std::atomic<int> in_flight{0};
};

void register_routes(http::Router& router, Context& context);

// What a standalone `logpipe worker` serves on metrics_addr: GET /metrics, /health/live, and
// /health/ready (503 while `degraded_workers()` > 0: PostgreSQL is unavailable to a consumer).
void register_worker_status_routes(http::Router& router, metrics::Metrics& metrics,
                                   std::function<std::size_t()> degraded_workers);

// Reads the stream's length (XLEN) into context.backlog_entries and the redis_stream_size metric;
// serve calls it every 250 ms.
void refresh_backlog(Context& context);

// The OpenAPI 3 document served at /openapi.json.
std::string_view openapi_document();

}  // namespace logpipe::api
