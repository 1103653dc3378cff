// Logs (search, one by id, a device's, deletes), statistics, and the queue's state (Redis).
#include <fmt/format.h>

#include <algorithm>

#include "api/handlers.hpp"
#include "api/render.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "http/query_string.hpp"
#include "query/device_logs.hpp"
#include "query/histogram.hpp"
#include "query/logs.hpp"
#include "query/stats.hpp"
#include "queue/device_cache.hpp"
#include "queue/status.hpp"

namespace logpipe::api {

using http::bhttp::status;

namespace {

void answer_search(Context& ctx, http::Request& req, const http::RequestContext& rc,
                   const http::Reply& reply, const query::Params& params) {
  auto q = query::parse_log_query(params, rc.principal.tenant, core::now_micros());
  if (!q) return reply(http::error_response(req, q.error()));
  answer_from_db(
      ctx, req, reply, "log search failed",
      [q = std::move(q).value()](store::Connection& c) { return query::find_logs(c, q); },
      [](const query::LogPage& page) { return logs_json(page); });
}

// The audit detail of DELETE /api/v1/logs: the filters as the request gave them (a parameter
// given more than once as an array), the times they resolved to (from=15m is relative to the
// request), the limit and how many logs went.
std::string log_delete_detail(const query::Params& params, const query::LogDelete& what,
                              std::int64_t deleted) {
  std::vector<std::pair<std::string, std::vector<std::string>>> filter;
  for (const auto& param : params) {
    if (param.first == "limit") continue;
    auto same = std::find_if(filter.begin(), filter.end(),
                             [&param](const auto& f) { return f.first == param.first; });
    if (same == filter.end()) same = filter.insert(filter.end(), {param.first, {}});
    same->second.push_back(param.second);
  }
  core::JsonWriter w;
  w.begin_object().key("filter").begin_object();
  for (const auto& [key, values] : filter) {
    w.key(key);
    if (values.size() == 1) {
      w.value(values.front());
    } else {
      w.begin_array();
      for (const auto& v : values)
        w.value(v);
      w.end_array();
    }
  }
  w.end_object();
  if (what.filter.from) w.field("from", core::format_rfc3339(*what.filter.from));
  if (what.filter.to) w.field("to", core::format_rfc3339(*what.filter.to));
  return w.field("limit", what.limit).field("deleted", deleted).end_object().take();
}

}  // namespace

http::Response database_failure(const http::RequestHead& req, std::string_view what,
                                const core::Error& error) {
  switch (error.code) {
    case core::Errc::not_found:
    case core::Errc::conflict:
    case core::Errc::invalid_field:
    case core::Errc::unavailable:
    case core::Errc::timeout:  // a statement timeout (the histogram's): says so itself
      return http::error_response(req, error);
    default:
      core::log::warn(what, {{"error", error.message}});
      return http::error_response(req, core::make_error(core::Errc::internal, "query failed"));
  }
}

void forget_cached_devices(Context& ctx,
                           const std::set<std::pair<model::TenantId, std::string>>& devices) {
  if (ctx.device_cache_ttl_seconds == 0 || devices.empty()) return;
  const auto command = queue::device_cache_invalidation(ctx.stream, devices);
  ctx.redis.send({command.begin(), command.end()}, [&ctx](core::Result<queue::ReplyPtr> r) {
    if (r) return;
    ctx.metrics.device_cache("error");
    core::log::warn("cannot drop cached device answers after a delete; they expire with their TTL",
                    {{"error", r.error().message}});
  });
}

// Through the Redis cache (queue/device_cache.hpp) when device_cache_ttl is set: the answer and
// the device's stamp in one round trip; a miss reads PostgreSQL and stores the answer if the stamp
// did not move meanwhile. Redis failing only costs the cache: the answer comes from PostgreSQL.
void device_logs(Context& ctx, http::Request& req, http::RequestContext& rc,
                 const http::Reply& reply) {
  const auto limit_text = http::query_param(req.target(), "limit");
  auto limit = query::parse_limit(limit_text.value_or(""), limit_text.has_value());
  if (!limit) return reply(http::error_response(req, limit.error()));
  query::DeviceLogsQuery q;
  q.tenant_id = rc.principal.tenant;
  q.device_id = rc.param("device_id");
  q.limit = *limit;
  const auto fetch = [q](store::Connection& c) { return query::device_logs(c, q); };
  if (ctx.device_cache_ttl_seconds == 0) {
    return answer_from_db(ctx, req, reply, "device query failed", fetch,
                          [](const std::vector<query::StoredLog>& logs) {
                            return device_logs_json(logs, "database");
                          });
  }
  struct Lookup {
    queue::DeviceCacheKeys keys;
    std::string limit;
    std::optional<std::string> hit;
    bool failed = false;
    core::InFlight::Token token;
  };
  auto state = std::make_shared<Lookup>();
  state->keys = queue::device_cache_keys(ctx.stream, q.tenant_id, q.device_id);
  state->limit = std::to_string(q.limit);
  state->token = ctx.in_flight.enter();
  ctx.redis.send({"HGET", state->keys.answers, state->limit},
                 [state](core::Result<queue::ReplyPtr> r) {
                   if (!r) {
                     state->failed = true;
                   } else if (!queue::reply_is_nil(**r)) {
                     state->hit.emplace(queue::reply_string(**r));
                   }
                 });
  // Replies come in order: this one runs after the HGET's.
  ctx.redis.send({"GET", state->keys.stamp}, [&ctx, &req, reply, state,
                                              fetch](core::Result<queue::ReplyPtr> r) {
    if (state->hit) {
      ctx.metrics.device_cache("hit");
      return reply(http::json_response(req, status::ok, std::move(*state->hit)));
    }
    std::optional<std::string> stamp;  // none: Redis is failing, don't try to store
    if (!state->failed && r) {
      stamp = std::string(queue::reply_is_nil(**r) ? "" : queue::reply_string(**r));
      ctx.metrics.device_cache("miss");
    } else {
      ctx.metrics.device_cache("error");
      core::log::debug("device cache unavailable; answering from PostgreSQL");
    }
    answer_from_db(ctx, req, reply, "device query failed", fetch,
                   [&ctx, state, stamp](const std::vector<query::StoredLog>& logs) {
                     if (stamp) {
                       const auto command = queue::device_cache_store(
                           state->keys, *stamp, state->limit, device_logs_json(logs, "cache"),
                           ctx.device_cache_ttl_seconds);
                       ctx.redis.send({command.begin(), command.end()},
                                      [&ctx](core::Result<queue::ReplyPtr> stored) {
                                        if (!stored) ctx.metrics.device_cache("error");
                                      });
                     }
                     return device_logs_json(logs, "database");
                   });
  });
}

void search_logs(Context& ctx, http::Request& req, http::RequestContext& rc,
                 const http::Reply& reply) {
  answer_search(ctx, req, rc, reply, http::query_params(req.target()));
}

// The older /api/v1/logs/filter names its time range start_time/end_time; the rest is the same.
void filter_logs(Context& ctx, http::Request& req, http::RequestContext& rc,
                 const http::Reply& reply) {
  auto params = http::query_params(req.target());
  for (auto& [key, value] : params) {
    if (key == "start_time") key = "from";
    if (key == "end_time") key = "to";
  }
  answer_search(ctx, req, rc, reply, params);
}

void get_log(Context& ctx, http::Request& req, http::RequestContext& rc, const http::Reply& reply) {
  auto id = query::parse_log_id(rc.param("id"));
  if (!id) return reply(http::error_response(req, id.error()));
  answer_from_db(
      ctx, req, reply, "log lookup failed",
      [tenant = rc.principal.tenant, id = *id](store::Connection& c) {
        return query::find_log(c, tenant, id);
      },
      [](const query::StoredLog& log) { return log_json(log); });
}

void delete_log(Context& ctx, http::Request& req, http::RequestContext& rc,
                const http::Reply& reply) {
  auto id = query::parse_log_id(rc.param("id"));
  if (!id) return reply(http::error_response(req, id.error()));
  answer_from_db(
      ctx, req, reply, "log delete failed",
      [&ctx,
       entry = audit_entry(rc, store::audit_action::kLogDelete, std::to_string(*id),
                           R"({"deleted":1})"),
       tenant = rc.principal.tenant, id = *id](store::Connection& c) {
        return audited(
            ctx, c, [&] { return query::delete_log(c, tenant, id); },
            [&](const store::Deleted&) { return entry; });
      },
      [&ctx, id = *id](const store::Deleted& gone) {
        forget_cached_devices(ctx, gone.devices);
        return fmt::format(R"({{"deleted":1,"id":{}}})", id);
      });
}

void delete_logs(Context& ctx, http::Request& req, http::RequestContext& rc,
                 const http::Reply& reply) {
  const auto params = http::query_params(req.target());
  auto what = query::parse_log_delete(params, rc.principal.tenant, core::now_micros());
  if (!what) return reply(http::error_response(req, what.error()));
  answer_from_db(
      ctx, req, reply, "log delete failed",
      [&ctx, entry = audit_entry(rc, store::audit_action::kLogsDelete), params,
       what = std::move(what).value()](store::Connection& c) {
        return audited(
            ctx, c, [&] { return query::delete_logs(c, what); },
            [&](const store::Deleted& gone) {
              auto e = entry;
              e.detail = log_delete_detail(params, what, gone.count);
              return e;
            });
      },
      [&ctx](const store::Deleted& gone) {
        forget_cached_devices(ctx, gone.devices);
        return fmt::format(R"({{"deleted":{}}})", gone.count);
      });
}

void stats(Context& ctx, http::Request& req, http::RequestContext& rc, const http::Reply& reply) {
  const auto now = core::now_micros();
  auto q = query::parse_stats_query(http::query_params(req.target()), rc.principal.tenant, now);
  if (!q) return reply(http::error_response(req, q.error()));
  answer_from_db(
      ctx, req, reply, "statistics failed",
      [q = std::move(q).value(), now](store::Connection& c) {
        return query::read_stats(c, q, now);
      },
      [](const query::Stats& s) { return stats_json(s); });
}

void logs_histogram(Context& ctx, http::Request& req, http::RequestContext& rc,
                    const http::Reply& reply) {
  auto q = query::parse_histogram_query(http::query_params(req.target()), rc.principal.tenant,
                                        core::now_micros());
  if (!q) return reply(http::error_response(req, q.error()));
  answer_from_db(
      ctx, req, reply, "histogram failed",
      [q = std::move(q).value()](store::Connection& c) { return query::read_histogram(c, q); },
      [](const query::Histogram& h) { return histogram_json(h); });
}

void redis_round_trip(Context& ctx, const std::vector<std::vector<std::string>>& commands,
                      std::function<void(const RedisReplies&)> done) {
  struct State {
    RedisReplies replies;
    std::atomic<std::size_t> remaining;
    std::function<void(const RedisReplies&)> done;
    core::InFlight::Token token;
  };
  auto state = std::make_shared<State>();
  state->token = ctx.in_flight.enter();
  for (std::size_t i = 0; i < commands.size(); ++i)
    state->replies.emplace_back(core::make_error(core::Errc::unavailable, "no reply"));
  state->remaining = commands.size();
  state->done = std::move(done);
  for (std::size_t i = 0; i < commands.size(); ++i) {
    std::vector<std::string_view> args(commands[i].begin(), commands[i].end());
    ctx.redis.send(args, [state, i](core::Result<queue::ReplyPtr> r) {
      state->replies[i] = std::move(r);
      if (--state->remaining == 0) state->done(state->replies);
    });
  }
}

// The XINFO commands go out in one pipelined write; the answer is rendered once every reply is
// in. Redis down → 503. The stream, its consumers and the dead-letter stream's length are every
// tenant's: the operator's alone.
void queue_status(Context& ctx, http::Request& req, http::RequestContext& rc,
                  const http::Reply& reply) {
  if (!is_operator(rc.principal))
    return reply(http::error_response(
        req, operator_only("the queue's state (the pipeline every tenant shares)")));
  const queue::QueueNames names{ctx.stream, ctx.group};
  redis_round_trip(ctx, queue::status_commands(names),
                   [&req, reply, names](const RedisReplies& replies) {
                     const auto& first = replies.front();
                     // An error *reply* (no such stream yet) renders as empty; a lost connection
                     // is a 503.
                     if (!first && first.error().code != core::Errc::invalid_argument)
                       return reply(http::error_response(req, first.error()));
                     reply(http::json_response(
                         req, status::ok, queue_status_json(queue::read_status(names, replies))));
                   });
}

}  // namespace logpipe::api
