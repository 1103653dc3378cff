#include "worker/maintenance_loop.hpp"

#include <fmt/format.h>

#include <condition_variable>
#include <mutex>

#include "core/log.hpp"
#include "core/time.hpp"
#include "store/connection.hpp"

namespace logpipe::worker {

core::Result<store::MaintenanceReport> maintain_once(const std::string& database_url,
                                                     const store::MaintenanceOptions& options,
                                                     metrics::Metrics& metrics) {
  auto report = [&]() -> core::Result<store::MaintenanceReport> {
    auto db = store::Connection::open(database_url, std::chrono::seconds(5));
    if (!db) return db.error();
    return store::maintain(*db, options, core::now_micros());
  }();
  if (!report) {
    metrics.maintenance_run("failed");
    core::log::warn("storage maintenance failed", {{"error", report.error().message}});
    return report;
  }
  if (!report->ran) {
    metrics.maintenance_run("skipped");
    core::log::debug("storage maintenance: another instance holds the lock");
    return report;
  }
  metrics.maintenance_run("ok");
  for (const auto& [action, list] :
       {std::pair{"created", &report->created}, std::pair{"archived", &report->archived},
        std::pair{"dropped", &report->dropped}, std::pair{"indexed", &report->indexed}}) {
    if (list->empty()) continue;
    metrics.maintenance_partitions(action, static_cast<double>(list->size()));
    core::log::info(fmt::format("storage maintenance: {}", action),
                    {{"items", fmt::format("{}", fmt::join(*list, ", "))}});
  }
  if (report->expired_default_rows)
    core::log::info("storage maintenance: expired rows of days without a partition",
                    {{"rows", std::to_string(report->expired_default_rows)}});
  if (report->tenant_expired_rows)
    core::log::info("storage maintenance: rows past their tenant's retention deleted",
                    {{"rows", std::to_string(report->tenant_expired_rows)}});
  return report;
}

MaintenanceLoop::MaintenanceLoop(std::string database_url, store::MaintenanceOptions options,
                                 std::chrono::milliseconds interval, metrics::Metrics& metrics)
    : database_url_(std::move(database_url)),
      options_(std::move(options)),
      interval_(interval),
      metrics_(metrics) {}

MaintenanceLoop::~MaintenanceLoop() {
  request_stop();
}

void MaintenanceLoop::start() {
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

void MaintenanceLoop::request_stop() {
  thread_.request_stop();
}

void MaintenanceLoop::run(const std::stop_token& stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  while (!stop.stop_requested()) {
    (void)maintain_once(database_url_, options_, metrics_);
    std::unique_lock lock(mutex);
    wake.wait_for(lock, stop, interval_, [] { return false; });
  }
}

}  // namespace logpipe::worker
