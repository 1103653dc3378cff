// The live tail: GET /api/v1/tail (Server-Sent Events) and GET /ws/logs (WebSocket), each a
// subscriber of the process's tail::Hub with its filter (the search's filters, without range,
// order or pages) and the principal's tenant. Each record is an item of GET /api/v1/logs without
// its id; a subscriber whose queue was full is told how many records it missed.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "api/handlers.hpp"
#include "core/time.hpp"
#include "http/query_string.hpp"
#include "http/websocket.hpp"
#include "query/logs.hpp"
#include "tail/filter_message.hpp"
#include "tail/hub.hpp"

namespace logpipe::api {
namespace {

using Clock = std::chrono::steady_clock;
using tail::Sink;

// How long an SSE client waits before reconnecting once its connection ends (the `retry:` field
// the stream starts with).
constexpr int kSseRetryMs = 1000;

std::string error_json(const core::Error& error) {
  return http::error_body(core::to_string(error.code), error.message, error.details);
}

core::Error tail_off() {
  return core::make_error(core::Errc::unavailable, "the live tail is not running on this server");
}

// An SSE response as a subscriber: at most `max_queued` chunks written and not yet taken by the
// socket. The stream is attached once the head may go out (after subscribing succeeded).
class SseSink : public Sink {
 public:
  SseSink(std::size_t max_queued, Clock::duration ping, Clock::duration lifetime)
      : max_queued_(max_queued), ping_(ping), deadline_(Clock::now() + lifetime) {}

  void attach(std::shared_ptr<http::ResponseStream> stream) {
    std::lock_guard lock(mutex_);
    stream_ = std::move(stream);
    write(fmt::format("retry: {}\n\n", kSseRetryMs));
  }

  Offer record(std::string_view json) override {
    std::string chunk;
    chunk.reserve(json.size() + 8);
    chunk.append("data: ").append(json).append("\n\n");
    return send(std::move(chunk));
  }
  Offer dropped(const tail::Drops& drops) override {
    return send(fmt::format("event: dropped\ndata: {}\n\n", tail::drops_json(drops)));
  }
  bool tick(Clock::time_point now) override {
    std::lock_guard lock(mutex_);
    if (!stream_) return true;
    if (!stream_->open() || now >= deadline_) return false;
    if (now - last_sent_ >= ping_ && *queued_ < max_queued_) write(": ping\n\n");
    return true;
  }
  void close() override {
    std::lock_guard lock(mutex_);
    if (stream_ && stream_->open()) stream_->finish();
  }

 private:
  Offer send(std::string chunk) {
    std::lock_guard lock(mutex_);
    if (!stream_) return Offer::full;  // not attached yet: the hub counts it dropped
    if (!stream_->open()) return Offer::closed;
    if (*queued_ >= max_queued_) return Offer::full;
    write(std::move(chunk));
    return Offer::taken;
  }
  void write(std::string chunk) {
    ++*queued_;
    last_sent_ = Clock::now();
    stream_->write(std::move(chunk), [queued = queued_](bool) { --*queued; });
  }

  const std::size_t max_queued_;
  const Clock::duration ping_;
  const Clock::time_point deadline_;
  std::mutex mutex_;
  std::shared_ptr<http::ResponseStream> stream_;
  // Shared with the write callbacks, which may run after the sink is gone.
  std::shared_ptr<std::atomic<std::size_t>> queued_ = std::make_shared<std::atomic<std::size_t>>(0);
  Clock::time_point last_sent_ = Clock::now();
};

// A WebSocket as a subscriber: the socket's own queue, bounded by `max_queued`. Keep-alive pings
// are the socket's (Beast's server timeouts).
class WebSocketSink : public Sink {
 public:
  WebSocketSink(std::shared_ptr<http::WebSocket> socket, std::size_t max_queued,
                Clock::duration lifetime)
      : socket_(std::move(socket)), max_queued_(max_queued), deadline_(Clock::now() + lifetime) {}

  Offer record(std::string_view json) override { return send(std::string(json)); }
  Offer dropped(const tail::Drops& drops) override { return send(tail::drops_json(drops)); }
  bool tick(Clock::time_point now) override { return socket_->open() && now < deadline_; }
  void close() override { socket_->close(); }

 private:
  Offer send(std::string text) {
    if (!socket_->open()) return Offer::closed;
    if (socket_->queued() >= max_queued_) return Offer::full;
    if (socket_->send(std::move(text))) return Offer::taken;
    return socket_->open() ? Offer::full : Offer::closed;
  }

  const std::shared_ptr<http::WebSocket> socket_;
  const std::size_t max_queued_;
  const Clock::time_point deadline_;
};

}  // namespace

void tail_events(Context& ctx, http::Request& req, http::RequestContext& rc,
                 const http::Reply& reply) {
  if (ctx.tail == nullptr) return reply(http::error_response(req, tail_off()));
  auto filter = query::parse_log_filter(http::query_params(req.target()), rc.principal.tenant,
                                        core::now_micros());
  if (!filter) return reply(http::error_response(req, filter.error()));
  auto sink = std::make_shared<SseSink>(ctx.tail_queue_messages, ctx.tail_ping_interval,
                                        ctx.tail_max_lifetime);
  auto id = ctx.tail->subscribe(tail::Matcher::compile(*filter, ctx.tail->folding()), sink, "sse");
  if (!id) return reply(http::error_response(req, id.error()));
  http::Response head{http::bhttp::status::ok, req.version()};
  head.set(http::bhttp::field::content_type, "text/event-stream; charset=utf-8");
  head.set(http::bhttp::field::cache_control, "no-cache");
  head.set("X-Accel-Buffering", "no");  // nginx: pass each event on at once
  sink->attach(reply.stream(std::move(head)));
}

void tail_websocket(Context& ctx, std::shared_ptr<http::WebSocket> socket, const http::Request& req,
                    const http::RequestContext& rc) {
  // The handshake is done: a refusal is an error message, then a normal close.
  const auto refuse = [&socket](const core::Error& error) {
    socket->send(error_json(error));
    socket->close();
  };
  if (ctx.tail == nullptr) return refuse(tail_off());
  const model::TenantId tenant = rc.principal.tenant;
  auto filter =
      query::parse_log_filter(http::query_params(req.target()), tenant, core::now_micros());
  if (!filter) return refuse(filter.error());
  auto id = ctx.tail->subscribe(
      tail::Matcher::compile(*filter, ctx.tail->folding()),
      std::make_shared<WebSocketSink>(socket, ctx.tail_queue_messages, ctx.tail_max_lifetime),
      "ws");
  if (!id) return refuse(id.error());
  tail::Hub& hub = *ctx.tail;
  socket->on_close([&hub, id = *id] { hub.unsubscribe(id); });
  // The session owns this callback: a raw pointer to it cannot dangle while it runs.
  socket->on_message([&hub, id = *id, tenant, raw = socket.get()](std::string_view text) {
    auto changed = tail::parse_filter_message(text, tenant, core::now_micros());
    if (!changed) {
      raw->send(error_json(changed.error()));
      return;
    }
    if (hub.set_filter(id, tail::Matcher::compile(*changed, hub.folding())))
      raw->send(R"({"filter":"ok"})");
  });
}

}  // namespace logpipe::api
