// The dead-letter stream's endpoints. A key sees, replays and deletes its own tenant's dead
// letters only (another tenant's id is answered like an unknown one); the operator acts on every
// tenant's, and may list one tenant's (?tenant=NAME).
#include <fmt/format.h>
#include <simdjson.h>

#include <boost/asio/post.hpp>

#include "api/handlers.hpp"
#include "api/json_body.hpp"
#include "api/render.hpp"
#include "auth/key_store.hpp"
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

// The answer of a dead-letter operation: its JSON, or its error. The request's own faults keep
// their code; anything else is Redis (or PostgreSQL) failing us: 503.
void answer(Request& req, const Reply& reply, core::Result<std::string> body) {
  if (body) return reply(http::json_response(req, status::ok, std::move(body).value()));
  const auto code = body.error().code;
  if (code == core::Errc::not_found || code == core::Errc::invalid_field)
    return reply(http::error_response(req, body.error()));
  core::log::warn("dead-letter operation failed", {{"error", body.error().message}});
  reply(http::error_response(req, core::make_error(core::Errc::unavailable, body.error().message)));
}

// Runs `fn(redis)` on the database threads with a connection of its own (these are rare admin
// calls; the serving path's pipelined client must not block on them) and answers with its JSON.
template <class Fn>
void with_redis(Context& ctx, Request& req, const Reply& reply, Fn fn) {
  boost::asio::post(ctx.db_threads, [&ctx, &req, reply, fn = std::move(fn),
                                     token = ctx.in_flight.enter()] {
    auto redis = queue::SyncClient::connect(ctx.redis_endpoint, std::chrono::milliseconds(2000));
    answer(req, reply, redis ? fn(*redis) : core::Result<std::string>(redis.error()));
  });
}

// What a dead-letter change answers, and its audit row.
struct Audited {
  std::string body;
  store::AuditEntry entry;
};

// A pooled connection that answers. One may have died since its last use (a PostgreSQL
// restart): that is found out now, before a change, not when its row is due; the pool then
// opens a fresh one for the second try.
core::Result<store::Pool::Lease> live_connection(Context& ctx) {
  for (int attempt = 0;; ++attempt) {
    auto db = ctx.db.lease();
    if (!db) return db.error();
    auto alive = db->connection().exec("SELECT 1");
    if (alive) return db;
    if (attempt == 1) return alive.error();
  }
}

// with_redis for a change, which the audit log records. Redis has no transaction with
// PostgreSQL, so the row is appended right after the change succeeded, on a connection leased
// before it: without PostgreSQL the change is refused (503) rather than made unrecorded. A row
// that still fails after the change is logged and counted (audit_write_failed), and the answer
// reports the change all the same: it happened, and a client told otherwise would retry it.
template <class Change>
void with_redis_audited(Context& ctx, Request& req, const Reply& reply, Change change) {
  boost::asio::post(ctx.db_threads, [&ctx, &req, reply, change = std::move(change),
                                     token = ctx.in_flight.enter()] {
    auto db = live_connection(ctx);
    if (!db) return answer(req, reply, db.error());
    auto redis = queue::SyncClient::connect(ctx.redis_endpoint, std::chrono::milliseconds(2000));
    if (!redis) return answer(req, reply, redis.error());
    core::Result<Audited> done = change(*redis);
    if (!done) return answer(req, reply, done.error());
    if (auto written = store::append_audit(db->connection(), done->entry); !written)
      audit_write_failed(ctx, done->entry, written.error());
    answer(req, reply, std::move(done->body));
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

// A dead-letter change's answer, {"<what>":N,"remaining":N}, with its audit row.
Audited change_answer(std::string_view what, std::size_t count, std::int64_t remaining,
                      store::AuditEntry entry, std::string detail) {
  core::JsonWriter w;
  w.begin_object()
      .field(what, static_cast<std::uint64_t>(count))
      .field("remaining", remaining)
      .end_object();
  entry.detail = std::move(detail);
  return {w.take(), std::move(entry)};
}

// Whose dead letters the request acts on: the key's tenant's; every tenant's for the operator.
queue::DlqTenant dead_letters_of(const model::Principal& principal) {
  if (is_operator(principal)) return std::nullopt;
  return principal.tenant;
}

}  // namespace

// GET /api/v1/dlq[?limit=N][&tenant=NAME]: the length and entries are the key's tenant's (every
// tenant's for the operator, or the one it names).
void dlq_list(Context& ctx, Request& req, http::RequestContext& rc, const Reply& reply) {
  const auto text = http::query_param(req.target(), "limit");
  auto limit = query::parse_limit(text.value_or(""), text.has_value());
  if (!limit) return reply(http::error_response(req, limit.error()));
  auto named = http::query_param(req.target(), "tenant");
  if (named && named->empty()) named.reset();
  const auto whose = dead_letters_of(rc.principal);
  if (whose && named && *named != rc.principal.tenant_name)
    return reply(http::error_response(req, operator_only("another tenant's dead letters")));
  if (whose) named.reset();
  with_redis(ctx, req, reply,
             [&ctx, n = static_cast<std::size_t>(*limit), whose,
              named = std::move(named)](queue::SyncClient& redis) -> core::Result<std::string> {
               auto tenant = whose;
               if (named) {
                 auto found = ctx.db.with(
                     [&](store::Connection& c) { return auth::find_tenant(c, *named); });
                 if (!found) return found.error();
                 tenant = found->id;
               }
               auto page = queue::dlq_list(redis, ctx.stream, n, tenant);
               if (!page) return page.error();
               return dlq_json(*page);
             });
}

void dlq_replay(Context& ctx, Request& req, http::RequestContext& rc, const Reply& reply) {
  auto ids = replay_ids(req.body());
  if (!ids) return reply(http::error_response(req, ids.error()));
  with_redis_audited(ctx, req, reply,
                     [&ctx,
                      entry = audit_entry(rc, store::audit_action::kDlqReplay,
                                          queue::dead_letter_stream(ctx.stream)),
                      ids = std::move(ids).value(), whose = dead_letters_of(rc.principal)](
                         queue::SyncClient& redis) -> core::Result<Audited> {
                       auto done = queue::dlq_replay(redis, ctx.stream, ids, kMaxReplay, whose);
                       if (!done) return done.error();
                       core::log::info("dead-letter entries replayed",
                                       {{"replayed", std::to_string(done->replayed)}});
                       return change_answer("replayed", done->replayed, done->remaining, entry,
                                            dlq_replay_audit_detail(ids, *done));
                     });
}

// DELETE /api/v1/dlq/{id}: for records not worth replaying. 404 when the id is not there, or is
// another tenant's.
void dlq_delete(Context& ctx, Request& req, http::RequestContext& rc, const Reply& reply) {
  std::string id(rc.param("id"));
  with_redis_audited(
      ctx, req, reply,
      [&ctx, entry = audit_entry(rc, store::audit_action::kDlqDelete, id), id,
       whose = dead_letters_of(rc.principal)](queue::SyncClient& redis) -> core::Result<Audited> {
        auto done = queue::dlq_delete(redis, ctx.stream, {id}, whose);
        if (!done && done.error().code == core::Errc::invalid_argument)
          return core::Error(core::Errc::invalid_field, done.error().message,
                             {{-1, "id", "is not a stream entry id (<ms>-<seq>)"}});
        if (!done) return done.error();
        if (done->deleted == 0)
          return core::make_error(core::Errc::not_found, "no dead-letter entry " + id + " in " +
                                                             queue::dead_letter_stream(ctx.stream));
        core::log::info("dead-letter entry deleted", {{"id", id}});
        return change_answer("deleted", done->deleted, done->remaining, entry,
                             dlq_delete_audit_detail(std::span(&id, 1), *done));
      });
}

}  // namespace logpipe::api
