// GET /api/v1/logs/export: every log that the search's filters match, as an NDJSON or CSV file,
// streamed in chunks. The database work (the cursor, each FETCH, rendering) runs on the database
// threads; the next chunk is fetched only once the socket took the previous one, so however large
// the export and however slow the client, serve holds about one chunk of it.
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <memory>
#include <optional>
#include <utility>

#include "api/handlers.hpp"
#include "api/render.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "http/query_string.hpp"
#include "query/logs.hpp"

namespace logpipe::api {
namespace {

using http::bhttp::status;

// About 1 MiB of NDJSON per chunk: few round trips to PostgreSQL, little memory.
constexpr int kChunkRows = 5000;

// One of the export places (Context::exports_running), given back when it goes.
class ExportSlot {
 public:
  static std::optional<ExportSlot> take(Context& ctx) {
    const std::size_t limit = std::max<std::size_t>(1, ctx.db.size() / 2);
    if (ctx.exports_running.fetch_add(1) >= limit) {
      ctx.exports_running.fetch_sub(1);
      return std::nullopt;
    }
    return ExportSlot(ctx.exports_running);
  }
  ExportSlot(ExportSlot&& other) noexcept : running_(std::exchange(other.running_, nullptr)) {}
  ExportSlot& operator=(ExportSlot&&) = delete;
  ExportSlot(const ExportSlot&) = delete;
  ExportSlot& operator=(const ExportSlot&) = delete;
  ~ExportSlot() {
    if (running_) running_->fetch_sub(1);
  }

 private:
  explicit ExportSlot(std::atomic<std::size_t>& running) : running_(&running) {}
  std::atomic<std::size_t>* running_;
};

// logs-20261126T062138Z.ndjson: the UTC time of the export, safe in any file system.
std::string attachment_name(query::ExportFormat format) {
  std::string stamp;
  for (const char c : core::format_rfc3339(core::now_micros()).substr(0, 19)) {
    if (c != '-' && c != ':') stamp.push_back(c);
  }
  return fmt::format("logs-{}Z.{}", stamp, format == query::ExportFormat::csv ? "csv" : "ndjson");
}

// An export whose response has begun: from here on a failure can only cut the body short.
// Every step runs on a database thread; the socket's `written` callback posts the next one.
class RunningExport : public std::enable_shared_from_this<RunningExport> {
 public:
  RunningExport(Context& ctx, query::ExportFormat format, query::LogCursor cursor,
                std::shared_ptr<http::ResponseStream> stream, ExportSlot slot,
                core::InFlight::Token token)
      : ctx_(ctx),
        format_(format),
        cursor_(std::move(cursor)),
        stream_(std::move(stream)),
        slot_(std::move(slot)),
        token_(std::move(token)) {}
  RunningExport(const RunningExport&) = delete;
  RunningExport& operator=(const RunningExport&) = delete;
  ~RunningExport() {
    // Each path ends the cursor on a database thread; one left open here is a bug, and its
    // destructor rolls it back on whichever thread this is.
    if (cursor_) core::log::error("log export dropped with its cursor open", {});
  }

  // The first chunk (CSV: with the header row) went out with the head.
  void send(std::vector<query::StoredLog> logs, bool first) {
    last_ = logs.size() < static_cast<std::size_t>(kChunkRows);
    std::string chunk;
    if (format_ == query::ExportFormat::csv) {
      if (first) chunk = kLogsCsvHeader;
      chunk += logs_csv(logs);
    } else {
      chunk = logs_ndjson(logs);
    }
    if (chunk.empty()) return complete();
    const auto rows = logs.size();
    stream_->write(std::move(chunk), [self = shared_from_this(), rows](bool written) {
      if (written) self->ctx_.metrics.exported_rows(static_cast<double>(rows));
      boost::asio::post(self->ctx_.db_threads, [self, written] {
        if (!written) return self->client_gone();
        self->next();
      });
    });
  }

 private:
  void next() {
    if (!stream_->open()) return client_gone();
    if (last_) return complete();
    auto logs = cursor_->fetch(kChunkRows);
    if (!logs) return fail(logs.error());
    send(std::move(logs).value(), false);
  }

  void complete() {
    auto closed = cursor_->close();
    cursor_.reset();
    if (!closed) return fail(closed.error());
    stream_->finish();
    ctx_.metrics.export_completed();
  }

  // PostgreSQL failed after the head went out: the client must not take a cut body for a
  // whole file, so the connection closes without the last chunk.
  void fail(const core::Error& error) {
    core::log::error("log export failed mid-stream", {{"error", error.message}});
    ctx_.metrics.export_aborted("database_error");
    stream_->abort();
    end_cursor();
  }

  void client_gone() {
    core::log::info("log export stopped: the client is gone", {});
    ctx_.metrics.export_aborted("client_gone");
    stream_->abort();
    end_cursor();
  }

  void end_cursor() {
    if (!cursor_) return;
    if (auto ended = cursor_->abandon(); !ended)
      core::log::warn("log export: rolling back its cursor failed; the connection is closed",
                      {{"error", ended.error().message}});
    cursor_.reset();
  }

  Context& ctx_;
  const query::ExportFormat format_;
  std::optional<query::LogCursor> cursor_;  // empty once ended
  const std::shared_ptr<http::ResponseStream> stream_;
  ExportSlot slot_;
  core::InFlight::Token token_;
  bool last_ = false;  // the chunk out there was short: no rows follow it
};

}  // namespace

void export_logs(Context& ctx, http::Request& req, http::RequestContext& rc,
                 const http::Reply& reply) {
  auto q = query::parse_log_export_query(http::query_params(req.target()), rc.principal.tenant,
                                         core::now_micros());
  if (!q) return reply(http::error_response(req, q.error()));
  auto slot = ExportSlot::take(ctx);
  if (!slot)
    return reply(http::error_response(
        req,
        core::make_error(core::Errc::unavailable,
                         "as many log exports as this server takes are running; retry later")));
  boost::asio::post(
      ctx.db_threads, [&ctx, &req, reply, q = std::move(q).value(), slot = std::move(*slot),
                       token = ctx.in_flight.enter()]() mutable {
        // Until the first chunk is read, a failure is still an error response.
        auto lease = ctx.db.lease();
        if (!lease) return reply(database_failure(req, "log export failed", lease.error()));
        auto cursor = query::LogCursor::open(std::move(lease).value(), q);
        if (!cursor) return reply(database_failure(req, "log export failed", cursor.error()));
        auto first = cursor->fetch(kChunkRows);
        if (!first) return reply(database_failure(req, "log export failed", first.error()));

        http::Response head{status::ok, req.version()};
        head.set(http::bhttp::field::content_type, q.format == query::ExportFormat::csv
                                                       ? "text/csv; charset=utf-8"
                                                       : "application/x-ndjson");
        head.set(http::bhttp::field::content_disposition,
                 fmt::format("attachment; filename=\"{}\"", attachment_name(q.format)));
        auto stream = reply.stream(std::move(head));
        ctx.metrics.export_started();
        std::make_shared<RunningExport>(ctx, q.format, std::move(cursor).value(), std::move(stream),
                                        std::move(slot), std::move(token))
            ->send(std::move(first).value(), true);
      });
}

}  // namespace logpipe::api
