// Operator endpoints: the dead-letter stream.
#include <fmt/format.h>
#include <simdjson.h>

#include <boost/asio/post.hpp>

#include "api/handlers.hpp"
#include "api/json_body.hpp"
#include "api/render.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "http/query_string.hpp"
#include "query/device_logs.hpp"
#include "queue/dlq.hpp"

namespace logpipe::api {
namespace {

using http::Reply;
using http::Request;
using http::bhttp::status;

constexpr std::size_t kMaxReplay = 10'000;  // per call: bounded work for one request

// Runs `fn(redis)` on the database threads with a connection of its own (these are rare admin
// calls; the serving path's pipelined client must not block on them) and answers with its JSON.
template <class Fn>
void with_redis(Context& ctx, Request& req, const Reply& reply, Fn fn) {
  boost::asio::post(ctx.db_threads, [&ctx, &req, reply, fn = std::move(fn),
                                     token = ctx.in_flight.enter()] {
    auto redis = queue::SyncClient::connect(ctx.redis_endpoint, std::chrono::milliseconds(2000));
    core::Result<std::string> body = redis ? fn(*redis) : core::Result<std::string>(redis.error());
    if (body) return reply(http::json_response(req, status::ok, std::move(body).value()));
    // The request's own faults keep their code; anything else is Redis failing us.
    const auto code = body.error().code;
    if (code == core::Errc::not_found || code == core::Errc::invalid_field)
      return reply(http::error_response(req, body.error()));
    core::log::warn("dead-letter operation failed", {{"error", body.error().message}});
    reply(
        http::error_response(req, core::make_error(core::Errc::unavailable, body.error().message)));
  });
}

// {} or an empty body: everything; {"ids":["…",…]}: those.
core::Result<std::vector<std::string>> replay_ids(const std::string& body) {
  std::vector<std::string> ids;
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return ids;
  simdjson::dom::parser parser;
  auto object = json_object_body(parser, body);
  if (!object) return object.error();
  simdjson::dom::element list;
  if ((*object)["ids"].get(list) != simdjson::SUCCESS) return ids;
  simdjson::dom::array array;
  if (list.get_array().get(array) != simdjson::SUCCESS)
    return core::make_error(core::Errc::invalid_field, "ids must be an array of strings");
  for (auto item : array) {
    std::string_view id;
    if (item.get_string().get(id) != simdjson::SUCCESS)
      return core::make_error(core::Errc::invalid_field, "ids must be an array of strings");
    ids.emplace_back(id);
  }
  if (ids.size() > kMaxReplay)
    return core::make_error(core::Errc::too_large,
                            fmt::format("at most {} ids per call", kMaxReplay));
  return ids;
}

}  // namespace

void dlq_list(Context& ctx, Request& req, http::RequestContext&, const Reply& reply) {
  const auto text = http::query_param(req.target(), "limit");
  auto limit = query::parse_limit(text.value_or(""), text.has_value());
  if (!limit) return reply(http::error_response(req, limit.error()));
  with_redis(ctx, req, reply,
             [&ctx, n = static_cast<std::size_t>(*limit)](
                 queue::SyncClient& redis) -> core::Result<std::string> {
               auto page = queue::dlq_list(redis, ctx.stream, n);
               if (!page) return page.error();
               return dlq_json(*page);
             });
}

void dlq_replay(Context& ctx, Request& req, http::RequestContext&, const Reply& reply) {
  auto ids = replay_ids(req.body());
  if (!ids) return reply(http::error_response(req, ids.error()));
  with_redis(
      ctx, req, reply,
      [&ctx, ids = std::move(ids).value()](queue::SyncClient& redis) -> core::Result<std::string> {
        auto done = queue::dlq_replay(redis, ctx.stream, ids, kMaxReplay);
        if (!done) return done.error();
        core::log::info("dead-letter entries replayed",
                        {{"replayed", std::to_string(done->replayed)}});
        core::JsonWriter w;
        w.begin_object()
            .field("replayed", static_cast<std::uint64_t>(done->replayed))
            .field("remaining", done->remaining)
            .end_object();
        return w.take();
      });
}

// DELETE /api/v1/dlq/{id}: for records not worth replaying. 404 when the id is not there.
void dlq_delete(Context& ctx, Request& req, http::RequestContext& rc, const Reply& reply) {
  with_redis(
      ctx, req, reply,
      [&ctx,
       id = std::string(rc.param("id"))](queue::SyncClient& redis) -> core::Result<std::string> {
        auto done = queue::dlq_delete(redis, ctx.stream, {id});
        if (!done && done.error().code == core::Errc::invalid_argument)
          return core::Error(core::Errc::invalid_field, done.error().message,
                             {{-1, "id", "is not a stream entry id (<ms>-<seq>)"}});
        if (!done) return done.error();
        if (done->deleted == 0)
          return core::make_error(core::Errc::not_found, "no dead-letter entry " + id + " in " +
                                                             queue::dead_letter_stream(ctx.stream));
        core::log::info("dead-letter entry deleted", {{"id", id}});
        core::JsonWriter w;
        w.begin_object()
            .field("deleted", static_cast<std::uint64_t>(done->deleted))
            .field("remaining", done->remaining)
            .end_object();
        return w.take();
      });
}

}  // namespace logpipe::api
